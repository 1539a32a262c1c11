"""The official SDK (azure-ai-ml, in its own interpreter) against `ml local serve`, over real HTTPS on loopback.

One subprocess runs the whole scenario (tests/serve/sdk_scenario.py) with the variables `--print-env`
printed, exactly as a user's shell would have them; each step's result is checked here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from oracle import oracle_python
from served import start
from tests.conftest import prebuild_environment

HERE = Path(__file__).parent
JOB_SPECS = HERE.parent / "local" / "job_specs"
STEPS = ("workspace", "data", "model", "environment", "component", "compute", "job", "download",
         "download_unstreamed", "cancel", "pipeline", "online")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, job_environments):
    python = oracle_python()
    prebuild_environment(job_environments, "sklearn-1.5")
    tmp = tmp_path_factory.mktemp("sdk")
    home = tmp / "home"
    env = {"ML_HOME": str(home), "ML_ENVIRONMENTS_DIR": str(job_environments)}
    work = tmp / "work"
    shutil.copytree(JOB_SPECS / "src", work / "src")
    shutil.copytree(JOB_SPECS / "data", work / "data")
    (work / "model").mkdir()
    (work / "model" / "model.pkl").write_text("weights")
    (work / "conda.yml").write_text("name: e\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - numpy\n")
    served = start("sdkws", tmp, "--verbose", env=env)
    try:
        run = subprocess.run([python, str(HERE / "sdk_scenario.py"), str(work), *STEPS], env=served.client_env(),
                             cwd=tmp, capture_output=True, text=True, timeout=1200)
    finally:
        served.stop()
        from cli.local.endpoints import stop_router

        stop_router(home, "sdkws", "served-ep")  # the online step deletes it; a failed step must not leave it
    results = {r["step"]: r for r in map(json.loads, (line for line in run.stdout.splitlines() if line.startswith("{")))}
    return results, run, served, home


def _ok(scenario, step):
    results, run, served, _ = scenario
    assert step in results, f"{step} did not run: {run.stderr[-3000:]}"
    result = results[step]
    assert result["ok"], f"{step}: {result['error']}\n{result.get('trace', '')}"
    return result["result"]


def test_workspace_get(scenario):
    result = _ok(scenario, "workspace")
    # v1.0 as the workspace gives it; the SDK itself asks for v2.0 when azureml-mlflow is installed beside it
    assert result["name"] == "sdkws" and result["mlflow"].startswith("azureml://api.ml.invalid/mlflow/v")
    assert result["mlflow"].endswith("/providers/Microsoft.MachineLearningServices/workspaces/sdkws")


def test_data_create_get_list(scenario):
    result = _ok(scenario, "data")
    assert result["version"] == "1" and result["listed"] == ["table"]
    assert result["path"].startswith("azureml://subscriptions/") and result["path"].endswith("/table.csv")


def test_model_create_get_list_download(scenario):
    result = _ok(scenario, "model")
    assert result == {"version": "1", "listed": ["clf"], "downloaded": ["clf/model/model.pkl"]}


def test_environment_create_get_list(scenario):
    result = _ok(scenario, "environment")
    assert result["image"] == "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04" and result["listed"] == ["env-docker"]


def test_component_create(scenario):
    assert _ok(scenario, "component") == {"name": "hello_component", "version": "1"}


def test_compute_list(scenario):
    assert _ok(scenario, "compute") == {"listed": []}


def test_command_job_with_local_code_and_inputs_runs_streams_and_lists(scenario):
    assert _ok(scenario, "job") == {"status": "Completed", "listed": True}


def test_job_download_gets_logs_and_named_outputs(scenario):
    files = _ok(scenario, "download")["files"]
    assert "artifacts/user_logs/std_log.txt" in files and "named-outputs/result/result.txt" in files


def test_a_job_never_streamed_downloads_too(scenario):
    result = _ok(scenario, "download_unstreamed")
    assert result["status"] == "Completed"
    assert "artifacts/user_logs/std_log.txt" in result["files"] and "named-outputs/out/said.txt" in result["files"]


def test_cancel(scenario):
    assert _ok(scenario, "cancel") == {"status": "Canceled"}


def test_a_pipeline_job_runs_streams_and_lists_its_children(scenario):
    assert _ok(scenario, "pipeline") == {"type": "pipeline", "status": "Completed",
                                         "children": [["first", "Completed"], ["read", "Completed"]]}


def test_an_online_endpoint_deploys_answers_with_its_key_and_goes(scenario):
    result = _ok(scenario, "online")
    assert result["traffic"] == {"blue": 100} and result["auth_mode"] == "key" and result["deployments"] == ["blue"]
    assert result["keys"] is True
    assert result["answer"] == {"echo": [1, 2, 3], "weights": "weights"}  # the model step's model, loaded by init()
    assert result["listed_after_delete"] == []


def test_the_server_logged_each_request_and_no_fault(scenario):
    log = scenario[2].log()
    assert "POST https://api.ml.invalid/history/v1.0/" in log and " 500" not in log and "Traceback" not in log
