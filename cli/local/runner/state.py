"""A job's folder, its runner's identity, and every status change of the stored job body.

Status writes run in one BEGIN IMMEDIATE transaction each and never move a job out of a terminal
state, nor out of CancelRequested except to a terminal state, so a runner, a cancel and a liveness
check may race without losing an outcome.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass, replace
from pathlib import Path

from cli.local import ids
from cli.local.store import Record, Store, utcnow

TERMINAL = frozenset({"Completed", "Failed", "Canceled"})
LOST_REASON = "the local runner stopped unexpectedly"
TAIL_LINES = 20


@dataclass(frozen=True)
class JobFolder:
    """`$ML_HOME/workspaces/<ws>/jobs/<job>/` and the files in it."""

    root: Path

    @classmethod
    def of(cls, home: Path, workspace: str, job: str) -> "JobFolder":
        """The folder of `job`; names.InvalidName when the names, or a link on the way, would lead elsewhere.

        The runner empties `snapshot/` and `inputs/` here, so this is where a hostile name must stop."""
        from cli import names

        names.check("local workspace", workspace)
        names.check("job", job)
        jobs = Path(home) / "workspaces" / workspace / "jobs"
        folder = jobs / job
        try:
            inside = folder.resolve().parent == jobs.resolve()
        except (RuntimeError, OSError):  # a link loop
            inside = False
        if not inside:
            raise names.InvalidName(f"the folder of job '{job}' leads outside {jobs}")
        return cls(folder)

    @property
    def snapshot(self) -> Path:
        return self.root / "snapshot"

    @property
    def user_logs(self) -> Path:
        return self.root / "user_logs"

    @property
    def system_logs(self) -> Path:
        return self.root / "system_logs"

    @property
    def runner_log(self) -> Path:
        return self.system_logs / "runner.log"

    @property
    def runner_info(self) -> Path:
        return self.system_logs / "runner.json"

    @property
    def inputs(self) -> Path:
        return self.root / "inputs"

    @property
    def artifacts(self) -> Path:
        """The run's artifact root, Azure's `ExperimentRun/dcid.<job>/`: MLflow artifacts, `outputs/`,
        `logs/`, and links to `user_logs/` and `system_logs/`, so a download gets az's layout."""
        return self.root / "artifacts"

    def make(self) -> None:
        for folder in (self.user_logs, self.system_logs, self.artifacts):
            folder.mkdir(parents=True, exist_ok=True)
        for logs in (self.user_logs, self.system_logs):
            link = self.artifacts / logs.name
            if not link.is_symlink() and not link.exists():
                try:
                    os.symlink(Path("..") / logs.name, link, target_is_directory=True)
                except FileExistsError:  # another process made it first
                    pass

    def link_run_artifacts(self, datastore_root: Path, job: str) -> str:
        """Link `ExperimentRun/dcid.<job>` in the default datastore's folder to the artifact root;
        returns that blob prefix (Azure keeps a run's artifacts there, in its artifact store)."""
        prefix = f"ExperimentRun/dcid.{job}"
        link = datastore_root / prefix
        if not link.is_symlink():
            try:
                link.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(self.artifacts.resolve(), link, target_is_directory=True)
            except FileExistsError:
                pass
            except OSError:  # a read-only ML_HOME: unlinked artifacts read as absent
                pass
        return prefix


# ---- processes: a pid alone is not an identity (pids are reused), so its start time goes with it


def process_start(pid: int) -> str | None:
    """The kernel's start time of a live process (Linux: /proc/<pid>/stat field 22); None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:  # no /proc (macOS): existence is all we can check
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return ""
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):  # a zombie has finished; only its exit status is left
        return None
    return fields[19]


def alive(pid: int, start: str | None) -> bool:
    now = process_start(pid)
    return now is not None and (not start or not now or now == start)


def read_info(folder: JobFolder) -> dict | None:
    try:
        return json.loads(folder.runner_info.read_text())
    except (OSError, ValueError):
        return None


def write_info(folder: JobFolder, **fields) -> None:
    """Merge `fields` into runner.json, atomically."""
    info = {**(read_info(folder) or {}), **fields}
    folder.system_logs.mkdir(parents=True, exist_ok=True)
    tmp = folder.runner_info.with_name(f".runner.{os.getpid()}.json")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, folder.runner_info)


def kill_groups(groups, sig: int = signal.SIGKILL) -> None:
    """Signal the process groups [[pgid, start], ...] whose leaders are still the processes recorded."""
    for pgid, start in groups or ():
        if alive(pgid, start):
            try:
                os.killpg(pgid, sig)
            except (ProcessLookupError, PermissionError):
                pass


# ---- the stored job body


def job_id(workspace: str, job: str) -> str:
    return f"{ids.workspace_id(workspace)}/jobs/{job}"


def set_status(store: Store, workspace: str, job: str, status: str, **properties: str) -> str:
    """Record `status` (and string `properties`) unless the job's outcome is already decided.

    Returns the status stored afterwards; 'Deleted' when the job no longer exists."""
    with store.transaction() as conn:
        record = store.get(job_id(workspace, job), conn)
        if record is None:
            return "Deleted"
        props = record.body["properties"]
        current = props.get("status")
        if current in TERMINAL or (current == "CancelRequested" and status not in TERMINAL):
            return current
        extra = {**(props.get("properties") or {}), **{k: str(v) for k, v in properties.items()}}
        body = {**record.body, "properties": {**props, "status": status, "properties": extra}}
        store.upsert(conn, record.id, "jobs", ids.workspace_id(workspace), record.name, body,
                     archived=record.archived)
        return status


def current_status(store: Store, workspace: str, job: str) -> str:
    record = store.get(job_id(workspace, job))
    return record.body["properties"].get("status", "") if record else "Deleted"


def log_tail(paths, lines: int = TAIL_LINES) -> str:
    """The last `lines` lines of the first existing, non-empty log, read from its end only."""
    for path in paths:
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 65536))
                data = f.read()
        except OSError:
            continue
        if data.strip():
            return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])
    return ""


def failure(reason: str, tail: str = "") -> dict[str, str]:
    """The string properties a Failed job carries: why (secrets masked), and the end of its log."""
    from cli.redact import redact

    return {"FailureReason": redact(reason), "FailureLogTail": tail, "EndTimeUtc": utcnow()}


def reconcile(store: Store, home: Path, workspace: str, record: Record) -> Record:
    """`record`, or its update when its runner is gone: a job is never left Running without one."""
    status = record.body["properties"].get("status")
    if status in TERMINAL:
        return record
    from cli.names import InvalidName

    try:
        folder = JobFolder.of(home, workspace, record.name)
    except InvalidName:
        return record  # stored by an older version under a name no runner could have used
    info = read_info(folder)
    if info is None or alive(info["pid"], info.get("start")):
        return record  # not spawned yet (the PUT is still starting it), or running
    if store.read_only:  # nothing can be recorded: show what would be, change nothing
        outcome = "Canceled" if status == "CancelRequested" else "Failed"
        extra = {"EndTimeUtc": utcnow()} if outcome == "Canceled" else failure(LOST_REASON)
        props = record.body["properties"]
        body = {**record.body, "properties": {**props, "status": outcome,
                                              "properties": {**(props.get("properties") or {}), **extra}}}
        return replace(record, body=body)
    kill_groups(info.get("groups"))
    if status == "CancelRequested":
        set_status(store, workspace, record.name, "Canceled", EndTimeUtc=utcnow())
    else:
        logs = sorted(folder.user_logs.glob("std_log*.txt")) + [folder.runner_log]
        set_status(store, workspace, record.name, "Failed", **failure(LOST_REASON, log_tail(logs)))
    if info.get("children") or record.body["properties"].get("jobType") != "Command":  # none of its children goes on
        from cli.local.runner.children import cancel_children

        cancel_children(store, home, workspace, record.name)
    return store.get(record.id) or record
