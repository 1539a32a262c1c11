"""A runner's watchdog: when the runner dies, its job's processes die too and the job is marked Failed.

Without it a runner killed with SIGKILL (or by the OOM killer) leaves its command running unowned,
and the job says Running until someone happens to read it (see state.reconcile). The watchdog is a
fork of the runner made before it does anything else, in its own session (a cancel signals the
runner's process group, not the watchdog). It holds the read end of a pipe whose write end only the
runner holds; the kernel closes that end when the runner exits however it exits, so the watchdog
wakes at once with no polling. It then waits for the runner to be gone, kills what is left of the
job's process groups and of the runner's own group (e.g. an environment build), and settles the job
through state.reconcile: Failed with "the local runner stopped unexpectedly" (Canceled when a cancel
was asked), or nothing when the runner had recorded an outcome.

A spare forked runner (forked.py) starts its watchdog before it has a job: the first line on the
pipe names the job (name_job), and the watchdog ends quietly if the pipe closes first.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

GONE_WAIT_SECONDS = 10.0
_job_line: int | None = None  # in a spare forked runner: its watchdog's pipe, to name the job on (name_job)


def start(home: str, workspace: str, job: str | None = None) -> None:
    """Fork the watchdog of this runner process; returns in the runner at once. Without `job` (a spare
    runner, forked.py): the watchdog learns its job from name_job, and ends unused if it never does."""
    global _job_line
    if not hasattr(os, "fork"):
        return  # Windows: state.reconcile settles the job when it is next read
    read_end, write_end = os.pipe()
    runner_pid = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return  # no watchdog: the job is settled when it is next read
    if pid:  # the runner: keeps the write end only; children it starts do not inherit it (close_fds)
        os.close(read_end)
        os.set_inheritable(write_end, False)
        _reap_later(pid)
        _job_line = write_end if job is None else None
        return
    try:
        os.close(write_end)
        os.setsid()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if job is None:
            job = _await_job(Path(home), workspace, read_end)
            if job is None:
                return  # the spare runner ended without a job
        while os.read(read_end, 1):  # EOF when the runner is gone
            pass
        watch_over(Path(home), workspace, job, runner_pid)
    except BaseException:  # a watchdog never raises into a copy of the runner's stack
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def name_job(job: str) -> None:
    """In a spare runner given its job: tell the watchdog started without one which job it watches."""
    os.write(_job_line, job.encode() + b"\n")


def _await_job(home: Path, workspace: str, read_end: int) -> str | None:
    """In a spare runner's watchdog: the job's name (None when the runner ends first); its log from then."""
    from cli.local.runner.state import JobFolder

    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(read_end, 1)  # a byte at a time: nothing after the name is the watchdog's to take
        if not chunk:
            return None
        line += chunk
    job = line.decode().strip()
    log = os.open(JobFolder.of(home, workspace, job).runner_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    return job


def _reap_later(pid: int) -> None:
    """The runner reaps its watchdog should the watchdog end first (it normally outlives it)."""
    import threading

    threading.Thread(target=lambda: os.waitpid(pid, 0), daemon=True, name="reap-watchdog").start()


def watch_over(home: Path, workspace: str, job: str, runner_pid: int) -> None:
    """After the runner closed its pipe: settle its job (nothing to do when it ended normally)."""
    from cli.local.runner.state import TERMINAL, JobFolder, alive, job_id, kill_groups, read_info, reconcile
    from cli.local.store import open_store, utcnow

    info = read_info(JobFolder.of(home, workspace, job)) or {}
    start = info.get("start") if info.get("pid") == runner_pid else None
    deadline = time.monotonic() + GONE_WAIT_SECONDS
    while alive(runner_pid, start) and time.monotonic() < deadline:
        time.sleep(0.01)  # the pipe closes a moment before the process is gone
    if alive(runner_pid, start):
        return  # it closed the pipe but lives on: not ours to judge
    if not (home / "workspaces" / workspace / "workspace.db").is_file():
        return  # the workspace was deleted meanwhile: never bring it back empty
    store = open_store(home, workspace)
    try:
        record = store.get(job_id(workspace, job))
        if record is None or record.body["properties"].get("status") in TERMINAL:
            return  # the runner saw its job to the end (or it was deleted): nothing of it is left running
        info = read_info(JobFolder.of(home, workspace, job)) or {}
        kill_groups(info.get("groups"))
        try:
            os.killpg(runner_pid, signal.SIGKILL)  # what the runner had started in its own group
        except (ProcessLookupError, PermissionError):
            pass
        settled = reconcile(store, home, workspace, record)
        print(f"{utcnow()} watchdog: the runner (pid {runner_pid}) is gone; the job is now"
              f" {settled.body['properties'].get('status')}", flush=True)
        from cli.local.runner import forked

        forked.tell_parent()  # the runner was a forked child: its parent's runner learns of it now
    finally:
        store.close()
