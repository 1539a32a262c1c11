"""The executor of sweep jobs (see job_kinds.py): cli.local.sweep.driver runs the trials."""

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
        return sweep.run()
    except TrialError as error:
        return "Failed", str(error)
