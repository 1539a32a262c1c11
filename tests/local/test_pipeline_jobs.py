"""Pipeline jobs on the local workspace: real runners for the pipeline and for each step (a child job),
created through the same operations `ml job create` uses."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cli.local.runner.children import REUSED_FROM_KEY, REUSED_KEY
from cli.operations import job as job_ops
from cli.operations import job_stream
from cli.spec.loader import load_spec
from runner_support import LocalJobs

EXAMPLE = Path(__file__).parents[2] / "specs" / "examples" / "pipeline" / "pipeline.yml"
SPECS = Path(__file__).parent / "pipeline_specs"


@pytest.fixture
def jobs(tmp_path):
    local = LocalJobs(tmp_path / "home")
    yield local
    local.close()


def create(jobs: LocalJobs, file: Path, name: str, *overrides: str) -> dict:
    spec = load_spec(file, group="job", overrides=overrides)
    created = job_ops.create(jobs.client, spec.data, name=name, source=spec)
    jobs.jobs += [name] + [f"{name}_{step}" for step in spec.data["jobs"]]
    return created


def steps(jobs: LocalJobs, name: str) -> dict:
    body = jobs.get(name)
    return job_ops.show(jobs.client, name)["steps"] if body else {}


def test_three_steps_pass_data_by_reference_and_a_rerun_reuses_them(jobs, tmp_path):
    create(jobs, EXAMPLE, "pipe-1")
    done = jobs.wait("pipe-1", timeout=120)
    assert done["properties"]["status"] == "Completed", jobs.log("pipe-1")
    shown = steps(jobs, "pipe-1")
    assert [s["status"] for s in shown.values()] == ["Completed"] * 3 and list(shown) == ["prep", "train", "evaluate"]
    train = jobs.get("pipe-1_train")["properties"]
    assert train["inputs"]["training_data"]["uri"] == "azureml://jobs/pipe-1_prep/outputs/dataset"  # by reference
    assert train["properties"]["azureml.parentrunid"] == "pipe-1"
    report_uri = done["properties"]["outputs"]["report"]["uri"]
    assert report_uri == "azureml://datastores/workspaceblobstore/paths/azureml/pipe-1_evaluate/report/"
    report = jobs.service.blobs.root / "workspaceblobstore" / "azureml" / "pipe-1_evaluate" / "report" / "report.json"
    assert json.loads(report.read_text())["rows"] == 200
    assert [j["name"] for j in job_ops.list_jobs(jobs.client, max_results=10)[0]] == ["pipe-1"]

    started = time.monotonic()
    create(jobs, EXAMPLE, "pipe-2")
    assert jobs.wait("pipe-2", timeout=60)["properties"]["status"] == "Completed"
    again = steps(jobs, "pipe-2")
    assert {s: e.get("reused_from") for s, e in again.items()} == {
        "prep": "pipe-1_prep", "train": "pipe-1_train", "evaluate": "pipe-1_evaluate"}
    props = jobs.get("pipe-2_evaluate")["properties"]
    assert props["properties"][REUSED_KEY] == "true" and props["properties"][REUSED_FROM_KEY] == "pipe-1_evaluate"
    assert props["outputs"]["report"]["uri"] == report_uri  # the earlier outputs, not a copy
    assert jobs.get("pipe-2")["properties"]["outputs"]["report"]["uri"] == report_uri
    print(f"unchanged re-run: {time.monotonic() - started:.2f} s")
    told, written = [], []
    job_stream.stream(jobs.client, "pipe-2", info=told.append, write=written.append, fast=True)
    assert [line for line in told if line.startswith("[")] == [  # reused steps have no logs of their own
        "[prep] Status: Completed (reused)", "[train] Status: Completed (reused)",
        "[evaluate] Status: Completed (reused)"]
    assert any("step evaluate: reused the outputs of job pipe-1_evaluate" in line for line in written)

    create(jobs, EXAMPLE, "pipe-3", "inputs.rows=120")  # prep's input changed: everything runs again
    assert jobs.wait("pipe-3", timeout=60)["properties"]["status"] == "Completed"
    assert all("reused_from" not in e for e in steps(jobs, "pipe-3").values())

    create(jobs, EXAMPLE, "pipe-4", "settings.force_rerun=true")
    assert jobs.wait("pipe-4", timeout=60)["properties"]["status"] == "Completed"
    assert all("reused_from" not in e for e in steps(jobs, "pipe-4").values())


def test_a_failed_step_fails_the_pipeline_and_stops_the_others(jobs):
    create(jobs, SPECS / "fail_fast.yml", "fails-1")
    done = jobs.wait("fails-1", timeout=60)
    assert done["properties"]["status"] == "Failed"
    assert "step bad failed" in done["properties"]["properties"]["FailureReason"]
    shown = steps(jobs, "fails-1")
    assert shown["bad"]["status"] == "Failed" and shown["after"] == {"status": "NotStarted"}
    assert shown["slow"]["status"] in ("Canceled", "NotStarted")


def test_continue_on_step_failure_runs_what_does_not_depend_on_the_failure(jobs):
    create(jobs, SPECS / "fail_fast.yml", "fails-2", "settings.continue_on_step_failure=true",
           "jobs.slow.command=echo independent")
    done = jobs.wait("fails-2", timeout=60)
    assert done["properties"]["status"] == "Failed"
    shown = steps(jobs, "fails-2")
    assert shown["slow"]["status"] == "Completed" and shown["bad"]["status"] == "Failed"
    assert shown["after"] == {"status": "NotStarted"}
    assert "not started (a step it needs did not complete)" in jobs.log("fails-2")


def test_cancel_stops_every_running_step_within_seconds(jobs):
    create(jobs, SPECS / "sleepy.yml", "naps-1")
    deadline = time.monotonic() + 60
    while [steps(jobs, "naps-1")[s]["status"] for s in ("nap_a", "nap_b")] != ["Running", "Running"]:
        assert time.monotonic() < deadline, steps(jobs, "naps-1")
        time.sleep(0.2)
    started = time.monotonic()
    jobs.client.post("jobs/naps-1/cancel", None)
    assert jobs.wait("naps-1", timeout=10)["properties"]["status"] == "Canceled"
    for step in ("nap_a", "nap_b"):
        assert jobs.wait(f"naps-1_{step}", timeout=10)["properties"]["status"] == "Canceled"
    assert time.monotonic() - started < 5


def test_a_killed_pipeline_runner_leaves_no_step_running(jobs):
    import os
    import signal

    from cli.local.runner.state import read_info

    create(jobs, SPECS / "sleepy.yml", "naps-2")
    deadline = time.monotonic() + 60
    while steps(jobs, "naps-2")["nap_a"]["status"] != "Running":
        assert time.monotonic() < deadline, steps(jobs, "naps-2")
        time.sleep(0.2)
    os.kill(read_info(jobs.folder("naps-2"))["pid"], signal.SIGKILL)  # its watchdog settles it
    assert jobs.wait("naps-2", timeout=15)["properties"]["status"] == "Failed"
    for step in ("nap_a", "nap_b"):
        assert jobs.wait(f"naps-2_{step}", timeout=15)["properties"]["status"] == "Canceled"


def _processes_under(home: Path) -> list[str]:
    """The command lines of the live processes started for `home` (runners, spares, watchdogs, servers)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                line = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if str(home) in line:
                    found.append(f"{proc.name}: {line}")
        except OSError:
            pass
    return found


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads processes from /proc")
def test_a_killed_step_runner_fails_its_step_and_nothing_of_the_pipeline_is_left(jobs):
    import os
    import signal

    from cli.local.runner.state import read_info

    create(jobs, SPECS / "sleepy.yml", "naps-3")
    deadline = time.monotonic() + 60
    while steps(jobs, "naps-3").get("nap_a", {}).get("status") != "Running":
        assert time.monotonic() < deadline, steps(jobs, "naps-3")
        time.sleep(0.2)
    # the step's runner was a spare forked ahead of it (its watchdog is tested in test_runner_watchdog.py);
    # whoever settles it (its watchdog, or the pipeline's runner), the step fails and the pipeline stops
    os.kill(read_info(jobs.folder("naps-3_nap_a"))["pid"], signal.SIGKILL)
    assert jobs.wait("naps-3_nap_a", timeout=15)["properties"]["status"] == "Failed"
    assert jobs.wait("naps-3", timeout=15)["properties"]["status"] == "Failed"
    assert jobs.wait("naps-3_nap_b", timeout=15)["properties"]["status"] == "Canceled"
    deadline = time.monotonic() + 15  # the pipeline's spare runner and its children's tracking server end too
    while _processes_under(jobs.home) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_under(jobs.home) == []
    assert "watchdog" not in jobs.folder("naps-3").runner_log.read_text()  # a spare's watchdog wrote its own


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the spare runner in /proc")
def test_a_step_starts_even_when_the_spare_runner_forked_for_it_died(jobs, tmp_path):
    import os
    import signal

    from cli.local.runner.state import read_info

    spec = tmp_path / "two.yml"
    environment = "azureml://registries/azureml/environments/sklearn-1.5/versions/1"
    spec.write_text(f"""\
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
jobs:
  slow:
    command: sleep 2 && echo done > ${{{{outputs.out}}}}/x.txt
    environment: {environment}
    outputs:
      out:
  after:
    command: cat ${{{{inputs.x}}}}/x.txt
    environment: {environment}
    inputs:
      x: ${{{{parent.jobs.slow.outputs.out}}}}
""")
    create(jobs, spec, "spared-1")
    deadline = time.monotonic() + 60
    while steps(jobs, "spared-1").get("slow", {}).get("status") != "Running":
        assert time.monotonic() < deadline, steps(jobs, "spared-1")
        time.sleep(0.1)
    pipeline, step = read_info(jobs.folder("spared-1"))["pid"], read_info(jobs.folder("spared-1_slow"))["pid"]
    parents = {}  # pid -> parent pid, of the runner processes (runners, spares, watchdogs: one command line)
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"cli.local.runner" in (proc / "cmdline").read_bytes():
                parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            pass
    # the runner forked ahead for the next step: a child of the pipeline's runner, not the step's runner,
    # with a child of its own (its watchdog); the pipeline's own watchdog has none
    spares = [pid for pid, parent in parents.items()
              if parent == pipeline and pid != step and pid in parents.values()]
    assert len(spares) == 1, (spares, parents)
    os.kill(spares[0], signal.SIGKILL)
    done = jobs.wait("spared-1", timeout=60)["properties"]
    assert done["status"] == "Completed", jobs.log("spared-1")
    assert jobs.get("spared-1_after")["properties"]["status"] == "Completed"
    assert "done" in jobs.log("spared-1_after")
