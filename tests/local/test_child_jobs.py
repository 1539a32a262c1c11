"""Child jobs: made by a parent job's runner (here by the test, through the same ChildJobs), listed by run
history under their parent only, canceled with their parent, and never left going when the parent dies."""

from __future__ import annotations

import os
import signal
import time

import pytest

from cli.local.runner.children import PARENT_KEY, ROOT_KEY, ChildJobs, cancel_children
from cli.local.runner.state import read_info
from cli.operations import job as job_ops
from cli.rest.job import to_rest
from cli.rest.references import ReferenceResolver
from cli.spec.loader import load_spec
from runner_support import SPECS, WORKSPACE, LocalJobs


@pytest.fixture
def jobs(tmp_path):
    local = LocalJobs(tmp_path / "home")
    yield local
    local.close()


def command_properties(spec_file: str, *overrides: str) -> dict:
    spec = load_spec(SPECS / spec_file, group="job", overrides=overrides).data
    return to_rest(spec, ReferenceResolver(WORKSPACE.arm_id))["properties"]


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_children_run_as_jobs_and_are_listed_under_their_parent_only(jobs):
    jobs.submit("sleep.yml", "parent-1")
    children = ChildJobs(jobs.service, "parent-1")
    children.submit("parent-1-a", command_properties("sleep.yml", "command=echo child a"))
    children.submit("parent-1-b", command_properties("sleep.yml", "command=echo child b"))
    jobs.jobs += ["parent-1-a", "parent-1-b"]
    assert children.wait(children.names) == {"parent-1-a": "Completed", "parent-1-b": "Completed"}
    assert "child a" in jobs.log("parent-1-a")

    child = jobs.get("parent-1-a")["properties"]["properties"]
    assert child[PARENT_KEY] == "parent-1" and child[ROOT_KEY] == "parent-1"
    top = [j["name"] for j in jobs.client.get("jobs")["value"]]
    assert top == ["parent-1"]  # the steps are not top-level jobs

    runs = jobs.client.get(f"https://api.ml.invalid/history/v1.0{WORKSPACE.arm_id}/runs/parent-1/children")
    assert [(r["runId"], r["parentRunId"], r["rootRunId"], r["status"]) for r in runs["value"]] == [
        ("parent-1-a", "parent-1", "parent-1", "Completed"), ("parent-1-b", "parent-1", "parent-1", "Completed")]
    listed, capped = job_ops.list_jobs(jobs.client, max_results=1, parent="parent-1")
    assert [j["name"] for j in listed] == ["parent-1-a"] and capped
    jobs.client.post("jobs/parent-1/cancel", None)


def test_canceling_children_stops_them_within_seconds(jobs):
    jobs.submit("sleep.yml", "parent-2")
    children = ChildJobs(jobs.service, "parent-2")
    for suffix in ("a", "b"):
        children.submit(f"parent-2-{suffix}", command_properties("sleep.yml"))
        jobs.jobs.append(f"parent-2-{suffix}")
    wait_for(lambda: set(children.statuses().values()) == {"Running"})
    started = time.monotonic()
    assert children.cancel_all() == {"parent-2-a": "Canceled", "parent-2-b": "Canceled"}
    assert time.monotonic() - started < 5
    jobs.client.post("jobs/parent-2/cancel", None)


def test_a_dead_parent_leaves_no_child_running(jobs):
    jobs.submit("sleep.yml", "parent-3")
    wait_for(lambda: jobs.get("parent-3")["properties"]["status"] == "Running")
    children = ChildJobs(jobs.service, "parent-3")
    children.submit("parent-3-a", command_properties("sleep.yml"))
    jobs.jobs.append("parent-3-a")
    wait_for(lambda: children.statuses() == {"parent-3-a": "Running"})
    os.kill(read_info(jobs.folder("parent-3"))["pid"], signal.SIGKILL)  # its watchdog settles it
    wait_for(lambda: children.statuses() == {"parent-3-a": "Canceled"}, timeout=15)
    assert jobs.get("parent-3")["properties"]["status"] == "Failed"


def test_cancel_children_skips_the_finished_ones(jobs):
    jobs.submit("sleep.yml", "parent-4")
    children = ChildJobs(jobs.service, "parent-4")
    children.record_finished("parent-4-done", command_properties("sleep.yml"))
    cancel_children(jobs.service.store, jobs.home, "local", "parent-4")
    assert children.statuses() == {"parent-4-done": "Completed"}
    jobs.client.post("jobs/parent-4/cancel", None)


def test_children_recorded_in_one_held_transaction_list_under_their_parent_with_their_marks(jobs):
    from cli.local.runner.children import REUSED_FROM_KEY, REUSED_KEY, children_of
    from cli.local.store import open_store

    jobs.submit("sleep.yml", "held")
    jobs.submit("sleep.yml", "held_x")  # a parent whose name starts like the other's: its children stay its own
    children = ChildJobs(jobs.service, "held")
    other = ChildJobs(jobs.service, "held_x")
    other.record_finished("held_x_a", command_properties("sleep.yml"))
    children.hold_records()
    for step in ("a", "b", "c"):
        children.record_finished(f"held_{step}", command_properties("sleep.yml"),
                                 **{REUSED_KEY: "true", REUSED_FROM_KEY: f"earlier_{step}"})
    reader = open_store(jobs.home, "local")  # another connection, as another process has
    try:
        assert children_of(reader, "local", "held") == []  # nothing is visible before the one commit
        children.release_records(held_for=600)  # not held that long yet: still one open transaction
        assert children_of(reader, "local", "held") == []
        children.release_records()
        assert [r.name for r in children_of(reader, "local", "held")] == ["held_a", "held_b", "held_c"]
    finally:
        reader.close()
    runs = jobs.client.get(f"https://api.ml.invalid/history/v1.0{WORKSPACE.arm_id}/runs/held/children")
    assert [(r["runId"], r["status"], r["properties"][REUSED_KEY], r["properties"][REUSED_FROM_KEY])
            for r in runs["value"]] == [(f"held_{s}", "Completed", "true", f"earlier_{s}") for s in "abc"]
    listed, _ = job_ops.list_jobs(jobs.client, max_results=10, parent="held")
    assert [(j["name"], j["status"]) for j in listed] == [(f"held_{s}", "Completed") for s in "abc"]

    children.hold_records()
    children.record_finished("held_d", command_properties("sleep.yml"))
    children.release_records(RuntimeError("the pass failed"))  # rolled back: no half-recorded pass
    assert [r.name for r in children_of(jobs.service.store, "local", "held")] == ["held_a", "held_b", "held_c"]
    jobs.client.post("jobs/held/cancel", None)
    jobs.client.post("jobs/held_x/cancel", None)


def test_a_child_runners_news_wakes_its_parent(monkeypatch):
    # what a pipeline's runner waits on between its steps (forked.wait_for_news), told by tell_parent;
    # here the writer is this process, as a forked child's runner holds the same write end
    from cli.local.runner import forked

    forked._open_news()
    monkeypatch.setattr(forked, "_parent_news", forked._news_write)
    try:
        assert forked.has_news()
        forked.tell_parent()
        assert forked.wait_for_news(30.0) is True  # woken by the news, not by the timeout
        assert forked.wait_for_news(0.01) is False  # the news was read once: nothing more to wake for
    finally:
        os.close(forked._news_read)
        os.close(forked._news_write)
        forked._news_read = forked._news_write = None

def test_statuses_are_read_in_one_query_and_a_missing_child_reads_deleted(jobs):
    jobs.submit("sleep.yml", "reader")
    children = ChildJobs(jobs.service, "reader")
    children.record_finished("reader_done", command_properties("sleep.yml"))
    children.record_finished("reader_failed", command_properties("sleep.yml"), status="Failed")
    assert children.statuses(["reader_done", "reader_failed", "reader_never"]) == {
        "reader_done": "Completed", "reader_failed": "Failed", "reader_never": "Deleted"}
    ids = [jobs.service.arm_id("jobs", n) for n in ("reader_done", "reader_never")]
    assert jobs.service.store.json_values(ids, "$.properties.status") == {ids[0].lower(): "Completed"}
    jobs.client.post("jobs/reader/cancel", None)
