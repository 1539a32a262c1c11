"""Where the job service hands work to the runner. The runner does not exist yet: these do nothing."""

from __future__ import annotations

from pathlib import Path


def on_job_created(job_id: str, home: Path | None = None, workspace: str | None = None) -> None:
    """Called after a new job is committed to the store."""


def on_job_cancel_requested(job_id: str, home: Path | None = None, workspace: str | None = None) -> None:
    """Called after a job's status became CancelRequested."""
