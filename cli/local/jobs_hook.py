"""Where the job service hands work to the local runner (cli.local.runner)."""

from __future__ import annotations

from pathlib import Path


def on_job_created(job_id: str, home: Path | None = None, workspace: str | None = None) -> None:
    """Called after a new job is committed to the store: start its runner."""
    from cli.local import runner
    from cli.local.runner.state import failure, set_status
    from cli.local.store import open_store

    if home is None or workspace is None:
        return
    try:
        runner.spawn(home, workspace, job_id)
    except OSError as exc:
        store = open_store(home, workspace)
        set_status(store, workspace, job_id, "Failed", **failure(f"could not start the local runner: {exc}"))
        store.close()


def on_job_cancel_requested(job_id: str, home: Path | None = None, workspace: str | None = None) -> None:
    """Called after a job's status became CancelRequested: signal its runner, or settle a job without one."""
    from cli.local import ids, runner
    from cli.local.store import open_store

    if home is None or workspace is None:
        return
    if not runner.request_cancel(home, workspace, job_id):
        store = open_store(home, workspace)
        record = store.get(f"{ids.workspace_id(workspace)}/jobs/{job_id}")
        if record is not None:
            runner.reconcile(store, home, workspace, record)
        store.close()
