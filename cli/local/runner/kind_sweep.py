"""The executor of sweep jobs (see job_kinds.py): cli.local.sweep.driver runs the trials.

A completed sweep's outputs are its best trial's (by reference, as Azure gives a sweep step's outputs to
the steps downstream of it): each output without a place of its own points at the best trial's.
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
    from cli.local.runner import data

    trial = runner.children.body(best) or {}
    trial_outputs = (trial.get("properties") or {}).get("outputs") or {}
    uris = {name: data.output_uri(best, name, trial_outputs.get(name) or spec)
            for name, spec in (props.get("outputs") or {}).items() if not (spec or {}).get("uri")}
    if uris:
        runner.set_outputs(uris)
        runner.notice(f"sweep: outputs {', '.join(sorted(uris))} are the best trial's ({best})")
