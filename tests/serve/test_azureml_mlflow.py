"""MLflow through the workspace's `azureml://` tracking URI with azureml-mlflow (in the SDK's interpreter):
the URI from `MLClient.workspaces.get(...)`, the plugin's own token flow, params, metrics and an artifact
through run history's artifact API and the blob plane; the run is then a job the SDK gets and lists."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from oracle import oracle_python
from served import start

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def plugin_run(tmp_path_factory):
    python = oracle_python()
    probe = subprocess.run([python, "-c", "import azureml.mlflow"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"{python} has no azureml-mlflow; tests/oracle_venv.sh installs it")
    tmp = tmp_path_factory.mktemp("azureml-mlflow")
    served = start("amlws", tmp, "--verbose", env={"ML_HOME": str(tmp / "home")})
    try:
        env = served.client_env()
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN"):  # the plugin gets its own tokens
            env.pop(name, None)
        run = subprocess.run([python, str(HERE / "azureml_mlflow_scenario.py")], env=env, cwd=tmp,
                             capture_output=True, text=True, timeout=300)
    finally:
        served.stop()
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1]), served.log()


def test_the_workspace_uri_is_azureml_and_the_plugin_logs_params_and_metrics(plugin_run):
    result, _ = plugin_run
    assert result["uri"].startswith("azureml://api.ml.invalid/mlflow/v") and result["tracking_uri"].startswith("azureml://")
    assert result["params"] == {"alpha": "0.5"} and result["metrics"] == {"loss": 0.25}


def test_artifacts_go_through_run_history_and_the_blob_plane(plugin_run):
    result, log = plugin_run
    assert result["artifact_uri"].startswith("azureml://api.ml.invalid/mlflow/v2.0/subscriptions/")
    assert result["artifact_uri"].endswith(f"/runs/{result['run_id']}/artifacts")
    assert result["artifacts"] == ["notes.txt"] and result["downloaded"] == "logged through the azureml:// URI\n"
    assert "/artifacts/batch/metadata 200" in log and "/artifacts/contentinfo 200" in log
    assert f"PUT https://amlws.blob.ml.invalid/azureml/ExperimentRun/dcid.{result['run_id']}/notes.txt 201" in log


def test_the_plugin_run_is_a_job_the_sdk_gets_and_lists(plugin_run):
    result, log = plugin_run
    assert result["job"] == {"name": result["run_id"], "status": "Completed", "experiment": "azureml-uri",
                             "display_name": "plugin-run", "type": "command"}
    assert result["listed"] is True
    assert " 500" not in log and "Traceback" not in log
