"""`ml` itself against `ml local serve` as an Azure workspace: its Azure transport over real HTTPS on loopback,
with --subscription/-g/-w and the variables `--print-env` printed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from served import start
from tests.conftest import prebuild_environment, run_ml

JOB_SPECS = Path(__file__).parent.parent / "local" / "job_specs"
SUB = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def azure(tmp_path, job_environments, isolated_home):
    prebuild_environment(job_environments, "sklearn-1.5")
    served = start("azws", tmp_path)
    work = tmp_path / "work"
    shutil.copytree(JOB_SPECS / "src", work / "src")
    shutil.copytree(JOB_SPECS / "data", work / "data")
    shutil.copy(JOB_SPECS / "io.yml", work / "io.yml")
    shutil.copy(JOB_SPECS / "sleep.yml", work / "sleep.yml")
    (work / "model").mkdir()
    (work / "model" / "model.pkl").write_text("weights")
    # The client's shell: the printed variables, and an ML_HOME of its own (nothing local is used).
    env = {**served.env, "ML_HOME": str(tmp_path / "client-home")}

    def ml(*args: str, timeout: float = 300):
        done = run_ml(*args, "--subscription", SUB, "-g", "local", "-w", "azws", cwd=work, env=env, timeout=timeout)
        assert done.returncode == 0, f"ml {' '.join(args)}: {done.stderr[-3000:]}"
        try:
            return json.loads(done.stdout) if done.stdout.strip() else None
        except ValueError:  # --stream writes the job's log before the result
            return done.stdout

    yield ml, work, served
    served.stop()


def test_ml_runs_the_scenario_through_its_azure_transport(azure):
    ml, work, served = azure
    shown = ml("workspace", "show")
    assert shown["name"] == "azws" and shown["workspace_source"]["target"] == "azure"
    assert ml("data", "create", "-n", "table", "-p", "data/table.csv", "--type", "uri_file")["version"] == "1"
    assert [d["name"] for d in ml("data", "list")] == ["table"]
    assert ml("model", "create", "-n", "clf", "-p", "model", "--type", "custom_model")["version"] == "1"
    ml("model", "download", "-n", "clf", "-v", "1", "--download-path", "models")
    assert (work / "models" / "clf" / "model" / "model.pkl").read_text() == "weights"
    assert ml("compute", "list") == []
    streamed = ml("job", "create", "-f", "io.yml", "--stream", "--query", "name", "-o", "tsv", timeout=600)
    assert "io ok 0.01" in streamed
    name = streamed.strip().splitlines()[-1]
    assert ml("job", "show", "-n", name)["status"] == "Completed"
    assert name in [j["name"] for j in ml("job", "list")]
    ml("job", "download", "-n", name, "--all", "--download-path", "out")
    assert (work / "out" / "named-outputs" / "result" / "result.txt").read_text().startswith("0.01|a,b|")
    assert (work / "out" / "artifacts" / "user_logs" / "std_log.txt").is_file()
    log = served.log()
    assert "Traceback" not in log


def test_ml_cancels_a_running_job_through_its_azure_transport(azure):
    import time

    ml, work, served = azure
    name = ml("job", "create", "-f", "sleep.yml", "--query", "name", "-o", "tsv").strip()
    deadline = time.monotonic() + 300
    while ml("job", "show", "-n", name)["status"] not in ("Running", "Completed", "Failed", "Canceled"):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.5)
    ml("job", "cancel", "-n", name)
    while (status := ml("job", "show", "-n", name)["status"]) not in ("Canceled", "Completed", "Failed"):
        assert time.monotonic() < deadline, f"the job stayed {status}"
        time.sleep(0.5)
    assert status == "Canceled"


def test_without_the_credential_ml_gets_a_clear_authentication_error(azure, tmp_path):
    ml, work, served = azure
    env = {**served.env, "AZURE_CLIENT_SECRET": "wrong", "ML_HOME": str(tmp_path / "h")}
    done = run_ml("data", "list", "--subscription", SUB, "-g", "local", "-w", "azws", cwd=work, env=env, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "\nml: error: could not get an Azure access token" in done.stderr  # after azure-identity's own log
