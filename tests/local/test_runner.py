"""The local job runner: real runner processes driven through the service, as `ml job create` drives them."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from cli.errors import MLError
from cli.local.environments.builder import environments_root
from cli.local.runner.state import read_info
from runner_support import LocalJobs, group_alive


@pytest.fixture
def jobs(tmp_path):
    local = LocalJobs(tmp_path / "home")
    yield local
    local.close()


def test_hello_world_completes_with_its_log_and_run_details(jobs):
    created = jobs.submit("hello.yml", "hello-1")
    assert created["properties"]["status"] == "NotStarted"
    job = jobs.wait("hello-1")
    props = job["properties"]
    assert props["status"] == "Completed", props
    assert {"StartTimeUtc", "EndTimeUtc"} <= set(props["properties"])
    log = jobs.log("hello-1")
    assert "hello from hello-1" in log and "to stderr" in log
    assert "mlflow hello-1 hi" in log  # MLFLOW_RUN_ID is the job name; environment_variables applied
    assert "environment AzureML-sklearn-1.5 (Python 3.10)" in log  # its own venv, not ml's Python
    assert (jobs.folder("hello-1").system_logs / "runner.log").stat().st_size > 0

    details_url = ("https://api.ml.invalid/history/v1.0" + jobs.client.workspace.arm_id + "/runs/hello-1/details")
    details = jobs.client.get(details_url)
    assert details["runId"] == "hello-1" and details["status"] == "Completed"
    sas_url = details["logFiles"]["user_logs/std_log.txt"]
    with httpx.Client(transport=jobs.client._http._transport) as raw:
        whole = raw.get(sas_url)
        assert whole.status_code == 200 and whole.text == log
        tail = raw.get(sas_url, headers={"x-ms-range": "bytes=6-"})
        assert tail.status_code == 206 and tail.text == log[6:]


def test_inputs_in_each_mode_and_distinct_outputs(jobs):
    modes = {"ro": (), "download": ("inputs.folder.mode=download",), "direct": ("inputs.folder.mode=direct",)}
    for mode, overrides in modes.items():
        jobs.submit("io.yml", f"io-{mode}", *overrides)
    results = {}
    for mode in modes:
        job = jobs.wait(f"io-{mode}")
        assert job["properties"]["status"] == "Completed", (mode, jobs.log(f"io-{mode}"))
        out = jobs.service.blobs.root / "workspaceblobstore" / "azureml" / f"io-{mode}" / "result"
        results[mode] = (out / "result.txt").read_text().strip().split("|")
    for mode, (literal, header, names, _) in results.items():
        assert (literal, header, names) == ("0.01", "a,b", "one.txt,two.txt"), mode

    def original(mode: str) -> set[str]:
        uri = jobs.get(f"io-{mode}")["properties"]["inputs"]["folder"]["uri"]
        return {p.name for p in jobs.service.blobs.path("workspaceblobstore", uri.split("/workspaceblobstore/paths/", 1)[1]
                                                         .rstrip("/")).iterdir()}

    # every job uploaded the same folder, so they share one original: only `direct` may change it
    assert "written-by-job.txt" in original("direct")
    assert results["download"][3] == "yes"
    if os.geteuid() != 0:  # root ignores file modes; the copy still keeps the original intact
        assert results["ro"][3] == "no"
    # the read-only copies are removed afterwards: by the runner's cleanup, which runs just after
    # it records the final status
    deadline = time.monotonic() + 5
    while jobs.folder("io-ro").inputs.exists():
        assert time.monotonic() < deadline, "the read-only input copies were left behind"
        time.sleep(0.02)


def test_read_only_input_never_changes_the_original(jobs):
    jobs.submit("io.yml", "io-ro-only")
    assert jobs.wait("io-ro-only")["properties"]["status"] == "Completed"
    uri = jobs.get("io-ro-only")["properties"]["inputs"]["folder"]["uri"]
    folder = jobs.service.blobs.path("workspaceblobstore", uri.split("/workspaceblobstore/paths/", 1)[1].rstrip("/"))
    assert sorted(p.name for p in folder.iterdir()) == ["one.txt", "two.txt"]


def test_failing_command_records_reason_and_last_log_lines(jobs):
    jobs.submit("fail.yml", "fail-1")
    props = jobs.wait("fail-1")["properties"]
    assert props["status"] == "Failed"
    assert props["properties"]["FailureReason"] == "the command exited with code 3"
    assert props["properties"]["FailureLogTail"].splitlines() == [f"line {i}" for i in range(11, 31)]
    details = jobs.client.get("https://api.ml.invalid/history/v1.0" + jobs.client.workspace.arm_id
                              + "/runs/fail-1/details")
    assert details["error"]["error"]["message"] == "the command exited with code 3"


def test_timeout_fails_the_job(jobs):
    jobs.submit("sleep.yml", "slow-1", "limits.timeout=2")
    props = jobs.wait("slow-1", timeout=20)["properties"]
    assert (props["status"], props["properties"]["FailureReason"]) == ("Failed", "timed out after 2 s")


def test_cancel_stops_the_process_group_within_five_seconds(jobs):
    jobs.submit("sleep.yml", "cancel-1")
    jobs.wait("cancel-1", {"Running"})
    groups = json.loads(jobs.folder("cancel-1").runner_info.read_text())["groups"]
    assert all(group_alive(g) for g in groups)
    started = time.monotonic()
    jobs.client.post("jobs/cancel-1/cancel", wait=False)
    assert jobs.wait("cancel-1", timeout=5)["properties"]["status"] == "Canceled"
    assert time.monotonic() - started < 5
    assert not any(group_alive(g) for g in groups)


def test_killed_runner_is_detected_on_the_next_get(jobs):
    jobs.submit("sleep.yml", "lost-1")
    jobs.wait("lost-1", {"Running"})
    info = json.loads(jobs.folder("lost-1").runner_info.read_text())
    os.kill(info["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while jobs.get("lost-1")["properties"]["status"] == "Running":
        assert time.monotonic() < deadline, "the killed runner went unnoticed"
        time.sleep(0.05)
    props = jobs.get("lost-1")["properties"]
    assert (props["status"], props["properties"]["FailureReason"]) == (
        "Failed", "the local runner stopped unexpectedly")
    # its orphaned command was stopped too: killed at once, though the kernel may list it (a zombie
    # awaiting its new parent's reaping) for a moment after
    deadline = time.monotonic() + 2
    while any(group_alive(g) for g in info["groups"]):
        assert time.monotonic() < deadline, "the killed runner's command outlived it"
        time.sleep(0.02)


def test_compute_max_instances_bounds_running_jobs(jobs):
    with pytest.raises(MLError, match="ml compute create"):
        jobs.submit("hello.yml", "nowhere-1", "compute=azureml:missing")
    jobs.client.put("computes/pair", {"location": "local", "properties": {
        "computeType": "AmlCompute", "properties": {"scaleSettings": {"maxNodeCount": 2, "minNodeCount": 0}}}})
    names = [f"pool-{i}" for i in range(5)]
    for name in names:
        jobs.submit("sleep.yml", name, "compute=azureml:pair", "command=sleep 1")
    most = 0
    while True:
        statuses = [j["properties"]["status"] for j in jobs.client.list("jobs") if j["name"] in names]
        most = max(most, statuses.count("Running"))
        assert statuses.count("Running") <= 2
        if all(s in ("Completed", "Failed", "Canceled") for s in statuses) and len(statuses) == 5:
            break
        time.sleep(0.05)
    unfinished = {j["name"]: j["properties"] for j in jobs.client.list("jobs")
                  if j["name"] in names and j["properties"]["status"] != "Completed"}
    assert unfinished == {}  # a failure shows its reason here
    assert most >= 1


def test_pytorch_distribution_starts_every_rank_with_its_variables(jobs):
    jobs.submit("pytorch.yml", "ddp-1")
    assert jobs.wait("ddp-1")["properties"]["status"] == "Completed"
    out = jobs.service.blobs.root / "workspaceblobstore" / "azureml" / "ddp-1" / "ranks"
    ranks = {int(p.stem): json.loads(p.read_text()) for p in out.glob("*.json")}
    assert sorted(ranks) == [0, 1, 2, 3]
    assert len({r["MASTER_PORT"] for r in ranks.values()}) == 1
    for rank, env in ranks.items():
        assert env["WORLD_SIZE"] == "4" and env["LOCAL_WORLD_SIZE"] == "2" and env["MASTER_ADDR"] == "127.0.0.1"
        assert (env["LOCAL_RANK"], env["NODE_RANK"]) == (str(rank % 2), str(rank // 2))
        assert env["AZUREML_RUN_ID"] == "ddp-1"
        assert f"rank {rank} done" in jobs.log("ddp-1", f"std_log_process_{rank}.txt")


def _peak_rss_kib(pid: int) -> int:
    """VmHWM: the most resident memory the process has had so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak RSS from /proc")
def test_a_1_gib_log_keeps_the_runner_and_the_stream_small(isolated_home, tmp_path):
    import subprocess
    import sys

    jobs = LocalJobs(isolated_home)  # the workspace `ml` finds through ML_HOME
    try:
        jobs.submit("noisy.yml", "noisy-1")
        pid = None
        while pid is None:  # runner.json is written as the runner is spawned
            pid = (read_info(jobs.folder("noisy-1")) or {}).get("pid")
            time.sleep(0.01)
        peak = 0
        while jobs.get("noisy-1")["properties"]["status"] not in ("Completed", "Failed"):
            try:  # VmHWM only grows: its last reading before the runner exits is its peak
                peak = max(peak, _peak_rss_kib(pid))
            except OSError:
                pass
            time.sleep(0.05)
        assert jobs.get("noisy-1")["properties"]["status"] == "Completed", jobs.log("noisy-1")[-300:]
        log_size = (jobs.folder("noisy-1").user_logs / "std_log.txt").stat().st_size
        assert log_size >= 1 << 30  # the command's 1 GiB after the runner's notice line
        assert 0 < peak < 100 * 1024, f"runner peak RSS {peak} KiB"  # about 30 MiB measured

        streamed = tmp_path / "streamed.txt"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        with open(streamed, "wb") as out:
            follower = subprocess.Popen([sys.executable, "-m", "cli", "job", "stream", "-n", "noisy-1"],
                                        stdout=out, stderr=subprocess.PIPE, env=env)
            # VmHWM, not the rusage of wait4: that counts the forking test process's memory too
            stream_peak = 0
            while follower.poll() is None:
                try:
                    stream_peak = max(stream_peak, _peak_rss_kib(follower.pid))
                except OSError:
                    pass
                time.sleep(0.02)
        assert follower.returncode == 0, follower.stderr.read()
        follower.stderr.close()
        assert streamed.stat().st_size == log_size  # every line, each with its newline
        assert 0 < stream_peak < 120 * 1024, f"ml job stream peak RSS {stream_peak} KiB"  # about 60 MiB
    finally:
        jobs.close()


def _tiny_wheel(folder: Path) -> None:
    """A one-module wheel, so pip can install it with no index and no build step."""
    import base64
    import hashlib
    import zipfile

    files = {"tinypkg/__init__.py": "VALUE = 'tiny-42'\n",
             "tinypkg-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinypkg\nVersion: 0.1\n",
             "tinypkg-0.1.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = [f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()},"
              f"{len(text.encode())}" for name, text in files.items()]
    files["tinypkg-0.1.dist-info/RECORD"] = "\n".join(record + ["tinypkg-0.1.dist-info/RECORD,,"]) + "\n"
    with zipfile.ZipFile(folder / "tinypkg-0.1-py3-none-any.whl", "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)


def test_venv_environment_is_built_once_and_reused(jobs, tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _tiny_wheel(wheels)
    conda = ("name: tiny\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - --no-index\n"
             f"    - --find-links {wheels}\n    - tinypkg==0.1\n")
    jobs.client.put("environments/tiny-env/versions/1", {"properties": {
        "condaFile": conda, "image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"}})
    import importlib.util

    assert importlib.util.find_spec("tinypkg") is None  # only the venv can provide it
    prefixes = []
    for name in ("venv-1", "venv-2"):
        jobs.submit("venv.yml", name)
        assert jobs.wait(name, timeout=90)["properties"]["status"] == "Completed", jobs.log(name)
        prefixes.append(next(line.split(" ", 1)[1] for line in jobs.log(name).splitlines()
                             if line.startswith("prefix ")))
    envs = environments_root(jobs.home)
    assert prefixes[0] == prefixes[1] and prefixes[0].endswith(" tiny-42")
    assert Path(prefixes[0].split()[0]).parent == envs
    assert "built environment" in jobs.log("venv-1") and "reusing environment" in jobs.log("venv-2")
    build_log = (jobs.folder("venv-2").system_logs / "environment_build.log").read_text()
    assert "tinypkg==0.1" in build_log
