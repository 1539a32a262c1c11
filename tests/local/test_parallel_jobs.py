"""A parallel node run as the local workspace runs it: a command job (command_job) whose runner starts
the driver in the job's own environment, with real inputs, outputs and worker processes."""

from __future__ import annotations

import os

import pytest

from cli.client.datastore_upload import upload_to_datastore
from cli.client.uploads import upload_code
from cli.local.runner.parallel import command_job
from runner_support import LocalJobs

ENV = "azureml://registries/azureml/environments/sklearn-1.5/versions/1"
SCRIPT = '''
import argparse, os, sys
def init():
    global scale
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int)
    scale = parser.parse_args().scale
    print("python", sys.executable, flush=True)
def run(mini_batch):
    return [f"{os.path.basename(p)} {scale * len(open(p).read())}" for p in mini_batch]
'''


@pytest.fixture
def jobs(tmp_path):
    local = LocalJobs(tmp_path / "home")
    yield local
    local.close()


def test_parallel_node_runs_as_a_job_in_its_environment(jobs, tmp_path):
    code = tmp_path / "src"
    code.mkdir()
    (code / "score.py").write_text(SCRIPT)
    data = tmp_path / "data"
    data.mkdir()
    for i in range(5):
        (data / f"f{i}.txt").write_text("x" * (i + 1))
    data_uri = upload_to_datastore(jobs.client, str(data), name="pdata", version="1").uri
    node = {"type": "parallel", "input_data": "${{inputs.data}}", "mini_batch_size": "2",
            "max_concurrency_per_instance": 2, "retry_settings": {"max_retries": 1, "timeout": 30},
            "task": {"type": "run_function", "entry_script": "score.py", "program_arguments": "--scale ${{inputs.scale}}",
                     "append_row_to": "${{outputs.scores}}"}}
    body = command_job(node, inputs={"data": {"jobInputType": "uri_folder", "uri": data_uri, "mode": "ReadOnlyMount"},
                                     "scale": {"jobInputType": "literal", "value": "10"}},
                       outputs={"scores": {"jobOutputType": "uri_folder", "mode": "ReadWriteMount"}},
                       code_id=upload_code(jobs.client, str(code)), environment_id=ENV)
    jobs.jobs.append("par1")
    jobs.client.put("jobs/par1", {"properties": body})
    job = jobs.wait("par1", timeout=120)
    log = jobs.log("par1")
    assert job["properties"]["status"] == "Completed", log
    assert "5 items in 3 mini-batches" in log and "5 of 5 items processed, 0 failed" in log
    results = jobs.service.blobs.root / "workspaceblobstore" / "azureml" / "par1" / "scores" / "parallel_run_step.txt"
    assert results.read_text().splitlines() == [f"f{i}.txt {10 * (i + 1)}" for i in range(5)]
    worker_log = (jobs.folder("par1").artifacts / "logs/user/stdout/localhost/process000.stdout.txt").read_text()
    assert f"python {os.environ['ML_ENVIRONMENTS_DIR']}" in worker_log  # the job's interpreter, not ml's
