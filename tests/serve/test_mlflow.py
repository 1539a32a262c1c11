"""MLflow at the served workspace's tracking URI: plain mlflow logs params, metrics and an artifact over HTTPS."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from served import start

HERE = Path(__file__).parent


@pytest.fixture
def served(tmp_path):
    server = start("mlws", tmp_path)
    yield server
    server.stop()


def test_plain_mlflow_logs_params_metrics_and_an_artifact(served, tmp_path):
    run = subprocess.run([sys.executable, str(HERE / "mlflow_scenario.py")], env=served.client_env(), cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])  # mlflow prints its run links before
    assert result["params"] == {"alpha": "0.5"} and result["metrics"] == {"loss": 0.25}
    assert result["artifacts"] == ["notes.txt"] and result["downloaded"] == "logged from outside a job\n"
    assert result["artifact_uri"].startswith("mlflow-artifacts:/")


def test_both_api_versions_answer_and_a_foreign_token_gets_401(served):
    env = served.env
    uri = env["MLFLOW_TRACKING_URI"]
    verify = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
    with httpx.Client(proxy=env["HTTPS_PROXY"], verify=verify, trust_env=False, timeout=30) as client:
        auth = {"Authorization": f"Bearer {env['MLFLOW_TRACKING_TOKEN']}"}
        for version_uri in (uri, uri.replace("/mlflow/v1.0/", "/mlflow/v2.0/")):
            answer = client.get(f"{version_uri}/api/2.0/mlflow/experiments/get-by-name",
                                params={"experiment_name": "Default"}, headers=auth)
            assert answer.status_code == 200 and answer.json()["experiment"]["name"] == "Default"
        missing = client.get(f"{uri}/api/2.0/mlflow/runs/get", params={"run_id": "nope"}, headers=auth)
        assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        foreign = client.get(f"{uri}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "Default"},
                             headers={"Authorization": "Bearer someone-elses"})
        assert foreign.status_code == 401
