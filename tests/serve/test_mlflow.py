"""MLflow at the served workspace's tracking URI: plain mlflow logs params, metrics and an artifact over HTTPS,
and the runs it logs from outside a job are jobs of the workspace, as Azure lists them."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from served import start
from tests.conftest import run_ml

HERE = Path(__file__).parent
SUB = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """One served workspace, and the plain-mlflow scenario run once against it."""
    tmp = tmp_path_factory.mktemp("mlflow")
    home = tmp / "home"
    server = start("mlws", tmp, env={"ML_HOME": str(home)})
    try:
        run = subprocess.run([sys.executable, str(HERE / "mlflow_scenario.py")], env=server.client_env(), cwd=tmp,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        result = json.loads(run.stdout.strip().splitlines()[-1])  # mlflow prints its run links before
        yield server, result, home, tmp
    finally:
        server.stop()


def test_plain_mlflow_logs_params_metrics_and_an_artifact(logged):
    result = logged[1]
    assert result["params"] == {"alpha": "0.5"} and result["metrics"] == {"loss": 0.25}
    assert result["artifacts"] == ["notes.txt"] and result["downloaded"] == "logged from outside a job\n"
    assert result["artifact_uri"].startswith("mlflow-artifacts:/")


def _ml_local(home: Path, *args: str):
    done = run_ml(*args, "-w", "mlws", env={"ML_HOME": str(home)})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout) if done.stdout.strip() else None


def _ml_azure(served, tmp: Path, *args: str):
    env = {**served.env, "ML_HOME": str(tmp / "client-home")}
    done = run_ml(*args, "--subscription", SUB, "-g", "local", "-w", "mlws", env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_runs_logged_outside_a_job_are_listed_as_jobs_locally_and_through_the_azure_path(logged):
    served, result, home, tmp = logged
    for listed in (_ml_local(home, "job", "list"), _ml_azure(served, tmp, "job", "list")):
        by_name = {job["name"]: job for job in listed}
        job = by_name[result["run_id"]]
        assert job["status"] == "Completed" and job["experiment_name"] == "outside"
        assert job["display_name"] == "notebook-run" and job["tags"]["team"] == "vision"
        assert job["type"] == "command"
        assert result["nested_id"] not in by_name  # a nested run is a child job, listed under its parent
        assert by_name[result["open_run_id"]]["experiment_name"] == "Default"
    children = _ml_local(home, "job", "list", "--parent-job-name", result["run_id"])
    assert [child["name"] for child in children] == [result["nested_id"]]


def test_canceling_an_outside_run_ends_it_as_killed(logged):
    served, result, home, tmp = logged
    assert _ml_local(home, "job", "show", "-n", result["open_run_id"])["status"] == "Running"
    _ml_azure(served, tmp, "job", "cancel", "-n", result["open_run_id"])
    assert _ml_azure(served, tmp, "job", "show", "-n", result["open_run_id"])["status"] == "Canceled"
    env = served.env
    verify = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
    with httpx.Client(proxy=env["HTTPS_PROXY"], verify=verify, trust_env=False, timeout=30) as client:
        run = client.get(f"{env['MLFLOW_TRACKING_URI']}/api/2.0/mlflow/runs/get", params={"run_id": result["open_run_id"]},
                         headers={"Authorization": f"Bearer {env['MLFLOW_TRACKING_TOKEN']}"}).json()["run"]
    assert run["info"]["status"] == "KILLED" and run["info"]["end_time"] > 0


def test_both_api_versions_answer_and_a_foreign_token_gets_401(logged):
    env = logged[0].env
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


def test_run_history_artifacts_refuse_paths_that_leave_the_run_and_unknown_runs(logged):
    served, result, home, _ = logged
    env = served.env
    history = env["MLFLOW_TRACKING_URI"].replace("/mlflow/v1.0/", "/history/v1.0/")
    verify = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
    auth = {"Authorization": f"Bearer {env['MLFLOW_TRACKING_TOKEN']}"}
    with httpx.Client(proxy=env["HTTPS_PROXY"], verify=verify, trust_env=False, timeout=30) as client:
        base = f"{history}/experiments/outside/runs/{result['run_id']}/artifacts"
        for bad in ("../../escape.txt", "a/../../b", "/"):
            answer = client.post(f"{base}/batch/metadata", json={"paths": [{"path": bad}]}, headers=auth)
            assert answer.status_code == 400, bad
        listed = client.get(base, headers=auth).json()["value"]
        assert [a["path"] for a in listed] == ["notes.txt"]
        assert client.get(f"{history}/experiments/outside/runs/nope/artifacts", headers=auth).status_code == 404
        other_experiment = client.get(f"{history}/experiments/Default/runs/{result['run_id']}/artifacts", headers=auth)
        assert other_experiment.status_code == 404
    assert not (home / "escape.txt").exists()
