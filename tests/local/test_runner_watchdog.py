"""A runner killed with SIGKILL is noticed at once, without anyone reading the job: its watchdog kills
the job's processes and marks the job Failed."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from cli.local.runner.state import job_id
from cli.local.store import open_store
from runner_support import LocalJobs, group_alive


@pytest.fixture
def jobs(tmp_path):
    local = LocalJobs(tmp_path / "home")
    yield local
    local.close()


def test_a_killed_runner_takes_its_command_with_it_and_the_job_fails_without_a_reader(jobs):
    jobs.submit("sleep.yml", "orphan-1")
    jobs.wait("orphan-1", {"Running"})
    info = json.loads(jobs.folder("orphan-1").runner_info.read_text())
    assert info["groups"] and all(group_alive(g) for g in info["groups"])
    os.kill(info["pid"], signal.SIGKILL)
    # Read the stored body only: no GET, so nothing reconciles on the reader's side.
    store = open_store(jobs.home, "local")
    try:
        deadline = time.monotonic() + 10
        while True:
            props = store.get(job_id("local", "orphan-1")).body["properties"]
            if props["status"] != "Running":
                break
            assert time.monotonic() < deadline, "nobody noticed the runner's death"
            time.sleep(0.05)
    finally:
        store.close()
    assert (props["status"], props["properties"]["FailureReason"]) == (
        "Failed", "the local runner stopped unexpectedly")
    deadline = time.monotonic() + 5
    while any(group_alive(g) for g in info["groups"]):
        assert time.monotonic() < deadline, "the job's command outlived its runner"
        time.sleep(0.05)
    # the watchdog logs what it did just after storing it
    deadline = time.monotonic() + 5
    while "watchdog: the runner" not in jobs.folder("orphan-1").runner_log.read_text():
        assert time.monotonic() < deadline, "the watchdog left no line in the runner's log"
        time.sleep(0.05)


def test_a_runner_that_ends_normally_leaves_its_watchdog_silent(jobs):
    jobs.submit("hello.yml", "quiet-1")
    assert jobs.wait("quiet-1")["properties"]["status"] == "Completed"
    time.sleep(0.5)  # the watchdog wakes when the runner exits; it must find nothing to do
    assert jobs.get("quiet-1")["properties"]["status"] == "Completed"
    assert "watchdog" not in jobs.folder("quiet-1").runner_log.read_text()


SPARE_RUNNER = """
import sys, time
from cli.local.runner import watchdog
watchdog.start(sys.argv[1], "local")  # a spare runner's: no job yet (cli.local.runner.forked)
print("ready", flush=True)
job = sys.stdin.readline().strip()
if not job:
    sys.exit(0)  # dismissed
watchdog.name_job(job)
print("named", flush=True)
time.sleep(60)
"""


def _spare_runner(jobs, marker: str):
    import subprocess
    import sys

    from cli.local import interpreter

    process = subprocess.Popen([sys.executable, "-c", SPARE_RUNNER, str(jobs.home), marker], text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=interpreter.environment())
    assert process.stdout.readline().strip() == "ready"
    return process


def _running_job(jobs, name: str, pid: int) -> None:
    """A stored Running command job whose runner is `pid`."""
    from cli.local.handlers.common import envelope, system_data
    from cli.local.runner.state import process_start, write_info

    jid = job_id("local", name)
    body = envelope(jid, "jobs", name, {"jobType": "Command", "command": "sleep 60", "status": "Running",
                                        "experimentName": "Default", "properties": {}}, system_data())
    store = open_store(jobs.home, "local")
    try:
        with store.transaction() as conn:
            store.upsert(conn, jid, "jobs", jobs.service.workspace_id, name, body)
    finally:
        store.close()
    folder = jobs.folder(name)
    folder.make()
    write_info(folder, pid=pid, start=process_start(pid))


def test_a_spare_runners_watchdog_watches_the_job_it_is_named_later(jobs):
    runner = _spare_runner(jobs, "spare-named")
    try:
        _running_job(jobs, "spare-1", runner.pid)
        runner.stdin.write("spare-1\n")
        runner.stdin.flush()
        assert runner.stdout.readline().strip() == "named"
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(timeout=10)
        deadline = time.monotonic() + 10
        log = jobs.folder("spare-1").runner_log
        while "watchdog: the runner" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "the spare's watchdog did not settle its job"
            time.sleep(0.05)
        store = open_store(jobs.home, "local")
        try:
            props = store.get(job_id("local", "spare-1")).body["properties"]
        finally:
            store.close()
        assert (props["status"], props["properties"]["FailureReason"]) == (
            "Failed", "the local runner stopped unexpectedly")
    finally:
        runner.kill()


def test_a_spare_runner_dismissed_without_a_job_leaves_no_watchdog(jobs):
    from pathlib import Path

    runner = _spare_runner(jobs, "spare-dismissed")
    runner.stdin.close()
    assert runner.wait(timeout=10) == 0

    def left() -> list[str]:
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and b"spare-dismissed" in (proc / "cmdline").read_bytes():
                    found.append(proc.name)
            except OSError:
                pass
        return found

    deadline = time.monotonic() + 10
    while left():
        assert time.monotonic() < deadline, f"a dismissed spare's watchdog is still there: {left()}"
        time.sleep(0.05)
    assert not jobs.folder("spare-dismissed").root.exists()  # nothing written for a job it never had
