"""The executors of job types made of child jobs (see children.py), found by `properties.jobType`.

The executor of job type T is the function `run` of the module `cli.local.runner.kind_<t>` (T in
lower case: kind_pipeline.py, kind_sweep.py), so each kind lives in its own module, imported only
when a job of that kind runs, and adding one touches no shared file.

`run(runner, props) -> (outcome, reason)`: `runner` is the parent's run.Runner (`runner.children`
is its ChildJobs, `runner.check_cancel()` raises run.Canceled once a cancel was asked,
`runner.cancel_signaled` says so without raising, `runner.folder` is its JobFolder, `runner.service`
the workspace); `outcome` is Completed, Failed or Canceled and `reason` says why it failed.
"""

from __future__ import annotations

import re
from importlib import import_module


def executor(job_type: str | None):
    """The executor of `job_type`, or None when that type does not run locally."""
    if not job_type or not re.fullmatch(r"[A-Za-z]+", job_type):
        return None
    try:
        module = import_module(f"cli.local.runner.kind_{job_type.lower()}")
    except ModuleNotFoundError as exc:
        if exc.name != f"cli.local.runner.kind_{job_type.lower()}":
            raise  # the kind's module exists but something it needs does not
        return None
    return getattr(module, "run", None)
