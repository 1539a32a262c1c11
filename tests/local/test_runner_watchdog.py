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
