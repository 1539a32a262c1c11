"""What the runner's processes see: TensorFlow's TF_CONFIG, MPI through mpirun, the job's variables."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys

import pytest

from runner_support import LocalJobs


@pytest.fixture
def jobs(tmp_path):
    local = LocalJobs(tmp_path / "home")
    yield local
    local.close()


def _output(jobs, job: str, name: str):
    return jobs.service.blobs.root / "workspaceblobstore" / "azureml" / job / name


def test_tensorflow_gives_every_worker_and_parameter_server_its_tf_config(jobs):
    jobs.submit("tensorflow.yml", "tf-1")
    assert jobs.wait("tf-1")["properties"]["status"] == "Completed", jobs.log("tf-1", "std_log_process_0.txt")
    configs = {p.stem: json.loads(p.read_text()) for p in _output(jobs, "tf-1", "configs").glob("*.json")}
    assert sorted(configs) == ["ps-0", "worker-0", "worker-1", "worker-2"]
    cluster = configs["worker-0"]["cluster"]
    assert sorted(cluster) == ["ps", "worker"] and (len(cluster["worker"]), len(cluster["ps"])) == (3, 1)
    addresses = cluster["worker"] + cluster["ps"]
    assert len(set(addresses)) == 4 and all(a.startswith("127.0.0.1:") for a in addresses)
    for key, config in configs.items():
        kind, index = key.split("-")
        assert config["cluster"] == cluster  # one cluster, seen alike by every process
        assert config["task"] == {"type": kind, "index": int(index)}
        assert config["environment"] == "cloud"
    logs = sorted(p.name for p in jobs.folder("tf-1").user_logs.glob("std_log_process_*.txt"))
    assert logs == [f"std_log_process_{rank}.txt" for rank in range(4)]


def test_mpi_without_mpirun_fails_naming_it(jobs, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    jobs.submit("mpi.yml", "mpi-none", f"environment_variables.PATH={empty}")
    props = jobs.wait("mpi-none")["properties"]
    assert props["status"] == "Failed"
    assert "mpirun" in props["properties"]["FailureReason"], props["properties"]
    assert "StartTimeUtc" not in props["properties"]  # it never ran


FAKE_MPIRUN = """#!/bin/sh
# Stands in for Open MPI's mpirun: records its arguments, then runs the command once per rank.
if [ "$1" = "--version" ]; then echo "mpirun (Open MPI) 4.1.5"; exit 0; fi
printf '%s\\n' "$@" > "$MPIRUN_ARGS"
while [ "$1" != "-np" ]; do shift; done
n=$2; shift 2
i=0
while [ $i -lt $n ]; do OMPI_COMM_WORLD_RANK=$i "$@" || exit $?; i=$((i + 1)); done
"""


def test_mpi_runs_the_command_through_mpirun_with_every_rank(jobs, tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    mpirun = fake_bin / "mpirun"
    mpirun.write_text(FAKE_MPIRUN)
    mpirun.chmod(mpirun.stat().st_mode | stat.S_IXUSR)
    args_file = tmp_path / "mpirun-args.txt"
    path = os.pathsep.join([str(fake_bin), os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    jobs.submit("mpi.yml", "mpi-1", f"environment_variables.PATH={path}",
                f"environment_variables.MPIRUN_ARGS={args_file}")
    assert jobs.wait("mpi-1")["properties"]["status"] == "Completed", jobs.log("mpi-1")
    args = args_file.read_text().splitlines()
    np = args.index("-np")
    assert args[np + 1] == "4"  # 2 instances x 2 processes each
    assert "--oversubscribe" in args[:np]  # Open MPI: more ranks than cores are fine locally
    assert args[np + 2:] == [shutil.which("bash") or "/bin/sh", "-c",
                             f"python mpi_rank.py {_output(jobs, 'mpi-1', 'ranks')}"]
    ranks = sorted(p.name for p in _output(jobs, "mpi-1", "ranks").iterdir())
    assert ranks == ["0.txt", "1.txt", "2.txt", "3.txt"]


def test_the_command_sees_the_azure_ml_variables(jobs):
    command = ("python -c \"import json, os; json.dump(dict(os.environ), open(os.path.join("
               "os.environ['AZURE_ML_OUTPUT_result'], 'env.json'), 'w'))\"")
    jobs.submit("io.yml", "env-1", f"command={command}", "experiment_name=env-check")
    assert jobs.wait("env-1")["properties"]["status"] == "Completed", jobs.log("env-1")
    env = json.loads((_output(jobs, "env-1", "result") / "env.json").read_text())
    workspace = jobs.client.workspace
    assert {k: env[k] for k in ("AZUREML_RUN_ID", "AZUREML_ARM_SUBSCRIPTION", "AZUREML_ARM_RESOURCEGROUP",
                                "AZUREML_ARM_WORKSPACE_NAME", "AZUREML_ARM_PROJECT_NAME")} == {
        "AZUREML_RUN_ID": "env-1", "AZUREML_ARM_SUBSCRIPTION": workspace.subscription,
        "AZUREML_ARM_RESOURCEGROUP": workspace.resource_group, "AZUREML_ARM_WORKSPACE_NAME": "local",
        "AZUREML_ARM_PROJECT_NAME": "env-check"}
    inputs = jobs.folder("env-1").inputs
    assert env["AZURE_ML_INPUT_lr"] == env["AZUREML_PARAMETER_lr"] == "0.01"
    assert env["AZURE_ML_INPUT_table"] == env["AZUREML_PARAMETER_table"] == str(inputs / "table" / "table.csv")
    assert env["AZURE_ML_INPUT_folder"] == str(inputs / "folder" / "folder")
    assert env["AZURE_ML_OUTPUT_result"] == env["AZUREML_PARAMETER_result"] == str(_output(jobs, "env-1", "result"))
    assert (env["MLFLOW_RUN_ID"], env["MLFLOW_EXPERIMENT_NAME"]) == ("env-1", "env-check")
    assert env["MLFLOW_TRACKING_URI"].startswith("http://127.0.0.1:")
    assert len(env["MLFLOW_TRACKING_TOKEN"]) >= 32  # the per-job secret the mlflow client sends


PROBE_SCRIPT = """
import json, os, sys, urllib.error, urllib.request

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def status(run, token):
    url = os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/runs/get?run_id=" + run
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token} if token else {})
    try:
        return opener.open(request, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code


token = os.environ["MLFLOW_TRACKING_TOKEN"]
found = {"own": status(os.environ["MLFLOW_RUN_ID"], token), "no token": status(os.environ["MLFLOW_RUN_ID"], ""),
         "wrong token": status(os.environ["MLFLOW_RUN_ID"], token[::-1]), "other job": status(sys.argv[2], token)}
json.dump(found, open(os.path.join(sys.argv[1], "probe.json"), "w"))
"""


def test_a_jobs_tracking_token_opens_its_own_run_only(jobs, tmp_path):
    jobs.submit("io.yml", "first-1")
    assert jobs.wait("first-1")["properties"]["status"] == "Completed", jobs.log("first-1")
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE_SCRIPT)
    jobs.submit("io.yml", "probe-1", f"command=python {probe} ${{{{outputs.result}}}} first-1")
    assert jobs.wait("probe-1")["properties"]["status"] == "Completed", jobs.log("probe-1")
    found = json.loads((_output(jobs, "probe-1", "result") / "probe.json").read_text())
    assert found == {"own": 200, "no token": 401, "wrong token": 401, "other job": 403}


def test_a_runner_is_woken_by_its_command_ending_not_only_by_its_polls(tmp_path):
    # Runner.wait selects on these: readable once the process has ended
    import select as select_module

    from cli.local.runner import launch

    processes = launch.start([launch.ProcessPlan([*launch.shell(), "sleep 0.2"], dict(os.environ),
                                                 tmp_path / "std_log.txt")], tmp_path)
    exits = launch.exit_descriptors(processes)
    try:
        if not exits:
            pytest.skip("this system has no pidfd_open")
        ready, _, _ = select_module.select(list(exits.values()), [], [], 60)
        assert ready == list(exits.values()) and processes[0].wait(timeout=5) == 0
    finally:
        for fd in exits.values():
            os.close(fd)
