"""What `ml job show` adds about a job's tracking: its latest metrics and its params."""

from __future__ import annotations

from pathlib import Path

from cli.local.tracking.errors import TrackingError
from cli.local.tracking.store import TrackingStore


def _read(workspace_dir: Path, run_id: str, what: str) -> dict:
    if not (Path(workspace_dir) / "tracking.db").exists():
        return {}
    store = TrackingStore(workspace_dir)
    try:
        return getattr(store, what)(run_id)
    except TrackingError:  # a job that never logged has no run
        return {}
    finally:
        store.close()


def latest_metrics(workspace_dir: Path, run_id: str) -> dict[str, float]:
    """{metric: value at its highest step} of a run; {} when the run logged nothing."""
    return _read(workspace_dir, run_id, "latest_metrics")


def params(workspace_dir: Path, run_id: str) -> dict[str, str]:
    """{param: value} of a run; {} when the run logged nothing."""
    return _read(workspace_dir, run_id, "params")
