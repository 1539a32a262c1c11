"""Pipeline component batch deployments on the local workspace, through the real CLI and the public
examples (azureml-examples cli/endpoints/batch/deploy-pipelines, copied with small real scripts in place
of their empty placeholders): invoke starts a pipeline job running the deployment's component, its
steps child jobs, visible in `ml job list`, `list-jobs`, `ml job stream/show`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_ml
from tests.shared_data import shared_path

EXAMPLES = ("conformance", "azureml-examples", "cli", "endpoints", "batch", "deploy-pipelines")


def ml(*args, cwd, ok=True, timeout=180):
    done = run_ml(*args, cwd=cwd, timeout=timeout)
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture
def sklearn_env(job_environments):
    from tests.conftest import prebuild_environment

    prebuild_environment(job_environments, "sklearn-1.5")


def example(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(shared_path(*EXAMPLES, name), folder)
    return folder


def test_hello_batch_runs_as_a_pipeline_job_through_the_example_commands(tmp_path, sklearn_env):
    folder = example(tmp_path, "hello-batch")
    (folder / "hello-component" / "src" / "hello.py").write_text(
        "import os\nprint('hello from the batch pipeline', os.environ.get('AZUREML_RUN_ID'))\n")
    ml("batch-endpoint", "create", "-f", "endpoint.yml", "-o", "none", cwd=folder)
    ml("component", "create", "-f", "hello-component/hello.yml", "-o", "none", cwd=folder)
    no_compute = ml("batch-deployment", "create", "-f", "deployment.yml", "--endpoint-name", "hello-batch",
                    "--set-default", cwd=folder, ok=False)
    assert no_compute.returncode != 0 and "batch-cluster" in no_compute.stderr
    ml("compute", "create", "-n", "batch-cluster", "--type", "amlcompute", "-o", "none", cwd=folder)
    ml("batch-deployment", "create", "-f", "deployment.yml", "--endpoint-name", "hello-batch", "--set-default",
       "-o", "none", cwd=folder)

    job = ml("batch-endpoint", "invoke", "-n", "hello-batch", "--query", "name", "-o", "tsv", cwd=folder).stdout.strip()
    assert job.startswith("batchjob-")
    streamed = ml("job", "stream", "-n", job, cwd=folder)
    assert f"hello from the batch pipeline {job}_main_job" in streamed.stdout
    shown = json.loads(ml("job", "show", "-n", job, cwd=folder).stdout)
    assert shown["type"] == "pipeline" and shown["status"] == "Completed"
    assert shown["experiment_name"] == "hello-batch" and list(shown["jobs"]) == ["main_job"]
    assert shown["properties"]["azureml.batchDeployment"] == "hello-batch-dpl"
    assert shown["settings"]["default_compute"].endswith("/computes/batch-cluster")
    steps = ml("job", "list", "--parent-job-name", job, "--query", "[].[name,compute,status]", "-o", "tsv",
               cwd=folder).stdout.split()
    assert steps == [f"{job}_main_job", "azureml:batch-cluster", "Completed"]
    assert ml("job", "list", "--query", "[].name", "-o", "tsv", cwd=folder).stdout.split() == [job]
    assert ml("batch-endpoint", "list-jobs", "-n", "hello-batch", "--query", "[].name", "-o", "tsv",
              cwd=folder).stdout.split() == [job]

    # the component has no inputs: a named one is refused by the workspace, naming what it has
    refused = ml("batch-endpoint", "invoke", "-n", "hello-batch", "--set", "inputs.x=1", cwd=folder, ok=False)
    assert refused.returncode != 0 and "has no input x" in refused.stderr
