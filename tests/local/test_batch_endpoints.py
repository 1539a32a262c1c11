"""Batch endpoints on the local workspace, through the real CLI: create, deployments, invoke starting a
batch scoring job that runs the scoring script in worker processes, list-jobs, and the errors az gives."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_ml

SCORE = '''
import os
def init():
    global weights
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "weights.txt")) as f:
        weights = f.read().strip()
def run(mini_batch):
    out = []
    for path in mini_batch:
        text = open(path).read().strip()
        if text == "bad":
            raise ValueError("cannot score " + os.path.basename(path))
        out.append(f"{os.path.basename(path)} {weights} {len(text)}")
    return out
'''
DEPLOYMENT = '''$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
name: blue
endpoint_name: scorer
type: model
model:
  name: weights
  path: model
code_configuration:
  code: code
  scoring_script: score.py
environment: azureml:AzureML-sklearn-1.5@latest
compute: azureml:cpu-cluster
settings:
  mini_batch_size: 2
  max_concurrency_per_instance: 2
  output_action: append_row
  output_file_name: predictions.csv
  error_threshold: 0
  retry_settings:
    max_retries: 1
    timeout: 60
'''


def ml(*args, cwd, ok=True):
    done = run_ml(*args, cwd=cwd, timeout=120)
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def wait_job(name: str, cwd: Path, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = json.loads(ml("job", "show", "-n", name, cwd=cwd).stdout)
        if job["status"] in ("Completed", "Failed", "Canceled") or time.monotonic() > deadline:
            return job
        time.sleep(0.5)


@pytest.fixture
def project(tmp_path, curated_sklearn_env):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "score.py").write_text(SCORE)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.txt").write_text("w42\n")
    (tmp_path / "data").mkdir()
    for i in range(1, 6):
        (tmp_path / "data" / f"f{i}.txt").write_text("x" * i)
    (tmp_path / "endpoint.yml").write_text("name: scorer\ndescription: scores files\n")
    (tmp_path / "deployment.yml").write_text(DEPLOYMENT)
    return tmp_path


@pytest.fixture
def curated_sklearn_env(job_environments):
    from tests.conftest import prebuild_environment

    prebuild_environment(job_environments, "sklearn-1.5")


def test_invoke_runs_a_batch_scoring_job_listed_by_the_endpoint(project):
    created = json.loads(ml("batch-endpoint", "create", "-f", "endpoint.yml", cwd=project).stdout)
    assert created["provisioning_state"] == "Succeeded" and created["auth_mode"] == "aad_token"
    assert created["scoring_uri"].endswith("/batchEndpoints/scorer/jobs")
    refused = ml("batch-deployment", "create", "-f", "deployment.yml", cwd=project, ok=False)
    assert refused.returncode != 0 and "compute 'cpu-cluster' was not found" in refused.stderr
    ml("compute", "create", "-n", "cpu-cluster", "--type", "amlcompute", "-o", "none", cwd=project)
    no_default = ml("batch-endpoint", "invoke", "-n", "scorer", "--input", "data", cwd=project, ok=False)
    assert no_default.returncode != 0 and "has no default deployment" in no_default.stderr
    deployment = json.loads(ml("batch-deployment", "create", "-f", "deployment.yml", "--set-default", cwd=project).stdout)
    assert deployment["provisioning_state"] == "Succeeded" and deployment["model"] == "azureml:weights:2"  # the refused create above registered version 1, as the SDK does
    assert ml("batch-endpoint", "show", "-n", "scorer", "--query", "defaults.deployment_name", "-o", "tsv",
              cwd=project).stdout.strip() == "blue"
    assert ml("batch-deployment", "list", "-e", "scorer", "--query", "[].name", "-o", "tsv", cwd=project).stdout.split() == ["blue"]

    name = ml("batch-endpoint", "invoke", "-n", "scorer", "--input", "data", "--query", "name", "-o", "tsv",
              cwd=project).stdout.strip()
    assert name.startswith("batchjob-")
    job = wait_job(name, project)
    assert job["status"] == "Completed", job
    assert job["experiment_name"] == "scorer"
    ml("job", "download", "-n", name, "--output-name", "score", "--download-path", "out", cwd=project)
    results = next((project / "out").rglob("predictions.csv")).read_text().splitlines()
    assert results == [f"f{i}.txt w42 {i}" for i in range(1, 6)]
    listed = json.loads(ml("batch-endpoint", "list-jobs", "-n", "scorer", cwd=project).stdout)
    assert [j["name"] for j in listed] == [name]
    assert name in ml("job", "list", "--query", "[].name", "-o", "tsv", cwd=project).stdout.split()

    missing = ml("batch-endpoint", "invoke", "-n", "scorer", "--input", "data", "--deployment-name", "green",
                 cwd=project, ok=False)
    assert missing.returncode == 3, missing.stderr
    ml("batch-deployment", "delete", "-n", "blue", "-e", "scorer", "--yes", cwd=project)
    assert ml("batch-endpoint", "show", "-n", "scorer", "--query", "defaults.deployment_name", "-o", "tsv",
              cwd=project).stdout.strip() == ""
    ml("batch-endpoint", "delete", "-n", "scorer", "--yes", cwd=project)
    assert ml("batch-endpoint", "show", "-n", "scorer", cwd=project, ok=False).returncode == 3


def test_a_failing_file_beyond_error_threshold_fails_the_job(project):
    (project / "data" / "f3.txt").write_text("bad")
    ml("compute", "create", "-n", "cpu-cluster", "--type", "amlcompute", "-o", "none", cwd=project)
    ml("batch-endpoint", "create", "-f", "endpoint.yml", "-o", "none", cwd=project)
    ml("batch-deployment", "create", "-f", "deployment.yml", "--set-default", "-o", "none", cwd=project)
    name = ml("batch-endpoint", "invoke", "-n", "scorer", "--input", "data", "--deployment-name", "blue",
              "--job-name", "scoring-1", "--query", "name", "-o", "tsv", cwd=project).stdout.strip()
    assert name == "scoring-1"
    job = wait_job(name, project)
    assert job["status"] == "Failed"
    stream = ml("job", "stream", "-n", name, cwd=project, ok=False)
    assert "mini-batch 1 failed after 2 attempts: ValueError: cannot score f3.txt" in stream.stdout + stream.stderr
    assert "2 items failed, more than error_threshold 0" in stream.stdout + stream.stderr


def test_scoring_uri_refuses_a_request_without_the_workspace_token(tmp_path):
    from cli.local.service import LocalWorkspaceService

    service = LocalWorkspaceService(tmp_path / "home", "local")
    try:
        with httpx.Client(transport=__import__("cli.client.transports.local", fromlist=["x"]).LocalTransport(service)) as client:
            base = f"https://management.ml.invalid{service.workspace_id}/batchEndpoints/ep1?api-version=2025-12-01"
            created = client.put(base, json={"location": "local", "properties": {"authMode": "AADToken"}})
            assert created.status_code == 201 and created.json()["properties"]["provisioningState"] == "Creating"
            uri = client.get(base).json()["properties"]["scoringUri"]
            body = {"properties": {"inputData": {"UriFolder": {"jobInputType": "UriFolder", "uri": "azureml://datastores/workspaceblobstore/paths/d/"}}}}
            assert client.post(uri, json=body).status_code == 401
            assert client.post(uri, json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
            token = service.access_token("https://ml.azure.com/.default")
            answer = client.post(uri, json=body, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 400 and "no default deployment" in answer.json()["error"]["message"]
    finally:
        service.store.close()


def test_the_batch_endpoint_example_runs_as_its_readme_says(tmp_path, curated_sklearn_env):
    import shutil

    example = tmp_path / "batch-endpoint"
    shutil.copytree(Path(__file__).resolve().parents[2] / "specs" / "examples" / "batch-endpoint", example)
    ml("compute", "create", "-f", "compute.yml", "-o", "none", cwd=example)
    trained = ml("job", "create", "-f", "train-model.yml", "--stream", cwd=example, ok=False)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    ml("batch-endpoint", "create", "-f", "endpoint.yml", "-o", "none", cwd=example)
    ml("batch-deployment", "create", "-f", "deployment.yml", "--set-default", "-o", "none", cwd=example)
    job = ml("batch-endpoint", "invoke", "-n", "batch-example", "--input", "data", "--query", "name", "-o", "tsv",
             cwd=example).stdout.strip()
    assert ml("job", "stream", "-n", job, cwd=example, ok=False).returncode == 0
    ml("job", "download", "-n", job, "--output-name", "score", "--download-path", "results", cwd=example)
    rows = [line.split(",") for line in (example / "results/named-outputs/score/predictions.csv").read_text().splitlines()]
    assert [(f, r) for f, r, _ in rows] == [(f"part-{p}.csv", str(r)) for p in range(1, 6) for r in range(4)]
    # the classifier learned x1 + 2*x2 > 1: check its predictions against the rule on clear-cut rows
    for name, row, prediction in rows:
        x1, x2 = map(float, (example / "data" / name).read_text().splitlines()[1 + int(row)].split(","))
        if abs(x1 + 2 * x2 - 1) > 0.3:
            assert int(prediction) == int(x1 + 2 * x2 > 1), (name, row)


MLFLOW_CONDA = """channels:
- conda-forge
dependencies:
- python=3.11
- pip
- pip:
  - mlflow-skinny
  - cloudpickle
  - pandas
  - scikit-learn
name: mlflow-env
"""


@pytest.mark.slow  # builds a venv from the model's conda.yaml (about a minute the first time)
def test_an_mlflow_model_without_a_scoring_script_is_scored_in_its_own_environment(tmp_path):
    """No code_configuration: Azure's own MLflow scorer, in an environment built from the model's conda.yaml."""
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn")
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    features = pd.DataFrame({"x1": [0, 1, 2, 3.0], "x2": [1, 0, 1, 0.0]})
    mlflow_sklearn.save_model(LogisticRegression().fit(features, [0, 0, 1, 1]), str(tmp_path / "mlmodel"),
                              serialization_format="cloudpickle")
    (tmp_path / "mlmodel" / "conda.yaml").write_text(MLFLOW_CONDA)  # unpinned: any registry has these
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("x1,x2\n0,1\n3,0\n")
    (tmp_path / "data" / "b.csv").write_text("x1,x2\n0.1,0\n")
    (tmp_path / "endpoint.yml").write_text("name: mlflow-scorer\n")
    (tmp_path / "deployment.yml").write_text(
        "name: mlf\nendpoint_name: mlflow-scorer\ntype: model\ncompute: azureml:cpu-cluster\n"
        "model:\n  name: mlf-model\n  path: mlmodel\n  type: mlflow_model\nsettings:\n  mini_batch_size: 1\n")
    ml("compute", "create", "-n", "cpu-cluster", "--type", "amlcompute", "-o", "none", cwd=tmp_path)
    ml("batch-endpoint", "create", "-f", "endpoint.yml", "-o", "none", cwd=tmp_path)
    ml("batch-deployment", "create", "-f", "deployment.yml", "--set-default", "-o", "none", cwd=tmp_path)
    job = ml("batch-endpoint", "invoke", "-n", "mlflow-scorer", "--input", "data", "--query", "name", "-o", "tsv",
             cwd=tmp_path).stdout.strip()
    done = wait_job(job, tmp_path, timeout=600)
    assert done["status"] == "Completed", done
    ml("job", "download", "-n", job, "--output-name", "score", "--download-path", "out", cwd=tmp_path)
    assert (tmp_path / "out/named-outputs/score/predictions.csv").read_text().splitlines() == [
        "0,0,a.csv", "1,1,a.csv", "0,0,b.csv"]


def test_invoke_settings_override_the_deployment_as_az_ml_set_does(project):
    (project / "data" / "f3.txt").write_text("bad")
    ml("compute", "create", "-n", "cpu-cluster", "--type", "amlcompute", "-o", "none", cwd=project)
    ml("batch-endpoint", "create", "-f", "endpoint.yml", "-o", "none", cwd=project)
    ml("batch-deployment", "create", "-f", "deployment.yml", "--set-default", "-o", "none", cwd=project)
    wrong = ml("batch-endpoint", "invoke", "-n", "scorer", "--input", "data", "--set", "max_concurrency=2",
               cwd=project, ok=False)
    assert wrong.returncode != 0 and "--set max_concurrency=2: give key=value" in wrong.stderr
    # azureml-examples' batch-score.sh idiom: --set output_file_name=... --mini-batch-size --instance-count
    name = ml("batch-endpoint", "invoke", "-n", "scorer", "--input", "data", "--set", "output_file_name=mypredictions.csv",
              "--set", "error_threshold=-1", "--set", "retry_settings.max_retries=0", "--mini-batch-size", "1",
              "--instance-count", "1", "--query", "name", "-o", "tsv", cwd=project).stdout.strip()
    job = wait_job(name, project)
    assert job["status"] == "Completed", job  # error_threshold -1: the bad file does not fail the job
    stream = ml("job", "stream", "-n", name, cwd=project, ok=False)
    log = stream.stdout + stream.stderr
    assert "cannot score f3.txt" in log, log[-3000:]
    ml("job", "download", "-n", name, "--output-name", "score", "--download-path", "out", cwd=project)
    results = next((project / "out").rglob("mypredictions.csv")).read_text().splitlines()
    assert sorted(results) == sorted(f"f{i}.txt w42 {i}" for i in (1, 2, 4, 5))
