"""The executor of sweep jobs (see job_kinds.py): cli.local.sweep.driver runs the trials.

A completed sweep's outputs are its best trial's (by reference, as Azure gives a sweep step's outputs to
the steps downstream of it), and an output with a `name` is registered as an asset of that data.
"""

from __future__ import annotations


def run(runner, props: dict) -> tuple[str, str]:
    from cli.local.sweep.driver import Sweep
    from cli.local.sweep.space import SearchSpaceError
    from cli.local.sweep.trials import TrialError

    try:
        sweep = Sweep(runner, props, runner.notice)  # notice: the sweep's log and the runner's
    except (SearchSpaceError, ValueError) as error:
        return "Failed", str(error)
    try:
        outcome, reason = sweep.run()
    except TrialError as error:
        return "Failed", str(error)
    if outcome == "Completed" and sweep.best is not None:
        _take_best_outputs(runner, props, sweep.best.name)
    return outcome, reason


def _take_best_outputs(runner, props: dict, best: str) -> None:
    """Point every output at the best trial's (the trials, not the sweep, wrote them) and register those
    with a `name` as data or model assets of that data, as Azure registers a sweep's named outputs."""
    from cli.local.runner import data

    trial = runner.children.body(best) or {}
    trial_outputs = (trial.get("properties") or {}).get("outputs") or {}
    outputs = props.get("outputs") or {}
    uris = {name: data.output_uri(best, name, trial_outputs.get(name) or {"jobOutputType": (spec or {}).get("jobOutputType")})
            for name, spec in outputs.items()}
    if not uris:
        return
    runner.set_outputs(uris)
    runner.notice(f"sweep: outputs {', '.join(sorted(uris))} are the best trial's ({best})")
    named = {name: {**spec, "uri": uris[name]} for name, spec in outputs.items() if (spec or {}).get("assetName")}
    if named:
        runner.register_outputs({"outputs": named})
