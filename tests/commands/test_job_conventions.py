"""Jobs run as Azure runs them: `./outputs` and `./logs` in the working folder and their round trip
through `ml job download --all` in az's layout (MLflow artifacts included), Azure's run variables,
public inputs through a loopback stand-in for blob storage, SAS masking, `file:` environments,
missing assets, services, the data list table and unsupported job types. Real CLI and runner
processes on a temporary ML_HOME."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from tests.commands.job_helpers import create, job_file, shown, wait_for
from tests.conftest import run_ml, shared_path
from tests.public_storage import ACCOUNT_HOST, PublicStorage


def _job_folder(name: str) -> Path:
    return Path(os.environ["ML_HOME"]) / "workspaces" / "local" / "jobs" / name


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_outputs_logs_and_mlflow_artifacts_come_back_in_azs_layout(tmp_path):
    command = ("test -d outputs && test -d logs && echo kept > outputs/result.txt && mkdir outputs/deep"
               " && echo deep > outputs/deep/x.txt && echo noted > logs/extra.log"
               " && python -c \"import mlflow; mlflow.log_text('hi', 'notes/n.txt')\""
               " && echo named > ${{outputs.model}}/m.txt")
    name = create(job_file(tmp_path, command, outputs={"model": {"type": "uri_folder"}}))
    assert wait_for(name) == "Completed", shown(name).get("properties")
    result = run_ml("job", "download", "-n", name, "--all", "-p", str(tmp_path / "down"))
    assert result.returncode == 0, result.stderr
    artifacts = tmp_path / "down" / "artifacts"
    files = _files(artifacts)
    for expected in ("outputs/result.txt", "outputs/deep/x.txt", "logs/extra.log", "notes/n.txt",
                     "user_logs/std_log.txt"):
        assert expected in files, files
    assert not [f for f in files if f.startswith(("snapshot/", "inputs/", "artifacts/"))], files
    assert (artifacts / "outputs" / "result.txt").read_text() == "kept\n"
    assert (artifacts / "notes" / "n.txt").read_text() == "hi"
    assert (tmp_path / "down" / "named-outputs" / "model" / "m.txt").read_text() == "named\n"


def test_outputs_of_a_failed_job_are_kept_too(tmp_path):
    name = create(job_file(tmp_path, "echo partial > outputs/partial.txt && exit 4"))
    assert wait_for(name) == "Failed"
    result = run_ml("job", "download", "-n", name, "--all", "-p", str(tmp_path / "down"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "down" / "artifacts" / "outputs" / "partial.txt").read_text() == "partial\n"


def test_the_job_sees_azures_run_variables_in_its_working_folder(tmp_path):
    script = ("import json, os; print('ENV=' + json.dumps({'cwd': os.getcwd(), **{k: v for k, v in os.environ.items()"
              " if k.startswith(('AZUREML_', 'AZURE_ML_', 'MLFLOW_'))}}))")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "show_env.py").write_text(script)
    spec = job_file(tmp_path, "python show_env.py ${{inputs.data}}", experiment_name="conventions",
                    inputs={"data": {"type": "uri_folder", "path": "./src"}})
    result = run_ml("job", "create", "-f", str(spec), "--stream", "--query", "name", "-o", "tsv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    name = result.stdout.splitlines()[-1]
    seen = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("ENV="))[4:])
    workspace = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
                 "Microsoft.MachineLearningServices/workspaces/local")
    assert seen["cwd"] == seen["AZUREML_CR_EXECUTION_WORKING_DIR_PATH"] == str(_job_folder(name) / "snapshot")
    assert seen["AZUREML_RUN_ID"] == seen["AZUREML_ROOT_RUN_ID"] == seen["MLFLOW_RUN_ID"] == name
    assert seen["AZUREML_ARM_SUBSCRIPTION"] == "00000000-0000-0000-0000-000000000000"
    assert seen["AZUREML_ARM_RESOURCEGROUP"] == "local" and seen["AZUREML_ARM_WORKSPACE_NAME"] == "local"
    assert seen["AZUREML_ARM_PROJECT_NAME"] == "conventions"
    assert seen["AZUREML_WORKSPACE_SCOPE"] == workspace
    assert seen["AZUREML_EXPERIMENT_SCOPE"] == f"{workspace}/experiments/conventions"
    assert seen["AZUREML_EXPERIMENT_ID"] == seen["MLFLOW_EXPERIMENT_ID"]
    assert seen["AZURE_ML_INPUT_data"] == seen["AZUREML_DATAREFERENCE_data"] == seen["AZUREML_PARAMETER_data"]
    assert Path(seen["AZURE_ML_INPUT_data"]).is_relative_to(_job_folder(name) / "inputs")
    assert "AZUREML_RUN_TOKEN" not in seen


# ---- public data through a loopback stand-in for anonymous blob storage

FILE_URL = f"https://{ACCOUNT_HOST}/datasets/iris.csv?sv=2021-08-06&sig=TOPSECRET"
FOLDER_URI = f"wasbs://datasets@{ACCOUNT_HOST}/nyc"
MODE = "import os, sys; print(sys.argv[1], oct(os.stat(sys.argv[2]).st_mode & 0o777))"


def _public_job(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "mode.py").write_text(MODE)
    command = ("cat ${{inputs.iris}} && ls -R ${{inputs.nyc}} && python mode.py iris ${{inputs.iris}}"
               " && python mode.py nyc ${{inputs.nyc}}/feb.csv")
    return job_file(tmp_path, command, inputs={
        "iris": {"type": "uri_file", "path": FILE_URL},
        "nyc": {"type": "uri_folder", "path": FOLDER_URI, "mode": "download"}})


def _run(spec: Path, hosts: str) -> tuple[str, str]:
    result = run_ml("job", "create", "-f", str(spec), "--stream", "--query", "name", "-o", "tsv",
                    env={"ML_PUBLIC_DATA_HOSTS": hosts})
    return result.stdout, result.stderr + f"\nexit {result.returncode}"


def test_public_inputs_are_fetched_into_a_cache_and_given_by_their_mode(tmp_path):
    spec = _public_job(tmp_path)
    with PublicStorage() as storage:
        storage.put("datasets/iris.csv", b"sepal,petal\n1,2\n")
        storage.put("datasets/nyc/feb.csv", b"b\n2\n")
        storage.put("datasets/nyc/2024/jan.csv", b"a\n1\n")
        out, err = _run(spec, storage.hosts_variable())
        assert err.endswith("exit 0"), err
        assert "sepal,petal" in out and "jan.csv" in out
        assert "iris 0o444" in out  # ro_mount, the default: a read-only copy
        assert "nyc 0o644" in out or "nyc 0o600" in out  # download: a writable copy
        blob_gets = storage.gets("/datasets/nyc/")

        again, err = _run(spec, storage.hosts_variable())
        assert err.endswith("exit 0"), err
        assert "sepal,petal\n1,2" in again
        assert storage.gets("/datasets/nyc/") == blob_gets  # the folder came from the cache
        assert storage.requests[-1][0] == "GET"

        storage.put("datasets/iris.csv", b"sepal,petal\n5,6\n")  # a new ETag
        changed, err = _run(spec, storage.hosts_variable())
        assert err.endswith("exit 0"), err
        assert "sepal,petal\n5,6" in changed
    name = changed.splitlines()[-1]
    runner_log = (_job_folder(name) / "system_logs" / "runner.log").read_text()
    assert "fetched https://examples.blob.core.windows.net/datasets/iris.csv?sv=REDACTED&sig=REDACTED" in runner_log
    assert "TOPSECRET" not in runner_log
    assert "TOPSECRET" not in run_ml("job", "show", "-n", name).stdout


def test_offline_a_public_input_fails_the_job_in_one_line_with_its_sas_masked(tmp_path):
    spec = _public_job(tmp_path)
    out, err = _run(spec, f"{ACCOUNT_HOST}=http://127.0.0.1:9")  # nothing listens there
    assert err.endswith("exit 8"), err
    name = err.split("RunId: ")[1].split()[0]
    reason = shown(name)["properties"]["FailureReason"]
    assert reason.startswith(f"cannot reach https://{ACCOUNT_HOST}/datasets/iris.csv?sv=REDACTED&sig=REDACTED to fetch it")
    assert "\n" not in reason
    for text in (reason, err, out, (_job_folder(name) / "system_logs" / "runner.log").read_text(),
                 run_ml("job", "show", "-n", name).stdout, run_ml("job", "list").stdout):
        assert "TOPSECRET" not in text


# ---- the rest


def test_a_file_environment_works_for_jobs_and_components(tmp_path):
    # As the SDK reads it: inline, its own name dropped, registered as an anonymous version.
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "env.yml").write_text("name: file-env\nimage: python:3.11-slim\n")
    spec = job_file(tmp_path, "echo from a file environment")
    data = yaml.safe_load(spec.read_text())
    data["environment"] = "file:./env/env.yml"
    spec.write_text(yaml.safe_dump(data))
    result = run_ml("job", "create", "-f", str(spec), "--stream", "--query", "environment", "-o", "tsv")
    assert result.returncode == 0, result.stderr
    assert "from a file environment" in result.stdout
    environment = result.stdout.splitlines()[-1]
    assert environment.startswith("azureml:CliV2AnonymousEnvironment:"), environment
    version = environment.rsplit(":", 1)[1]
    component = tmp_path / "component.yml"
    component.write_text(yaml.safe_dump({
        "$schema": "https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json",
        "name": "uses_file_env", "version": "1", "command": "echo hi", "environment": "file:./env/env.yml"}))
    made = run_ml("component", "create", "-f", str(component), "--query", "environment", "-o", "tsv")
    assert made.returncode == 0, made.stderr
    shown = made.stdout.strip()  # the same content, the same anonymous version
    assert shown.endswith(f"/environments/CliV2AnonymousEnvironment/versions/{version}") or shown == environment, shown


def test_a_missing_data_asset_says_it_does_not_exist_and_how_to_list_them(tmp_path):
    spec = job_file(tmp_path, "ls ${{inputs.data}}", inputs={"data": {"type": "uri_folder", "path": "azureml:nosuch@latest"}})
    result = run_ml("job", "create", "-f", str(spec))
    assert result.returncode == 3
    assert result.stderr == ("ml: error: data asset 'nosuch' does not exist in this workspace\n"
                             "hint: ml data list shows the data assets there are\n")


def test_services_are_kept_and_said_to_be_unavailable_locally(tmp_path):
    spec = job_file(tmp_path, "echo working", services={
        "my_jupyter": {"type": "jupyter_lab"}, "board": {"type": "tensor_board", "log_dir": "outputs/tb"}})
    result = run_ml("job", "create", "-f", str(spec), "--stream", "--query", "services", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert ("[ml] warning: services board (TensorBoard), my_jupyter (JupyterLab) are not available on the local"
            " workspace; the job runs without them") in result.stdout
    services = json.loads(result.stdout[result.stdout.index("{"):])
    assert services["my_jupyter"]["jobServiceType"] == "JupyterLab"
    assert services["board"]["properties"] == {"logDir": "outputs/tb"}
    assert services["board"]["errorMessage"] == "interactive services are not available on the local workspace"
    assert services["Tracking"]["jobServiceType"] == "Tracking"


def test_data_list_table_shows_the_latest_version(tmp_path):
    (tmp_path / "sample.csv").write_text("a\n1\n")
    for version in ("1", "2"):
        made = run_ml("data", "create", "-n", "sample", "-v", version, "-p", "sample.csv", "-o", "none", cwd=tmp_path)
        assert made.returncode == 0, made.stderr
    table = run_ml("data", "list", "-o", "table").stdout.splitlines()
    assert table[0].split()[:3] == ["Name", "LatestVersion", "Type"]
    assert table[2].split()[:3] == ["sample", "2", "uri_folder"]  # az's default type


def test_an_unsupported_job_type_exits_10():
    automl = shared_path("conformance", "azureml-examples", "cli", "jobs", "basics", "hello-automl",
                         "hello-automl-job-basic.yml")
    result = run_ml("job", "create", "-f", str(automl))
    assert result.returncode == 10
    assert result.stderr == ("ml: error: 'automl' jobs are not supported by ml yet (it runs command, pipeline and sweep jobs)\n"
                             "hint: az ml job create runs them on Azure\n")


def test_a_path_without_type_is_a_uri_folder_given_by_its_mode(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.csv").write_text("a\n1\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "mode.py").write_text(MODE)
    command = ("python mode.py copy ${{inputs.copy}} && python mode.py mounted ${{inputs.mounted}}"
               " && cat ${{inputs.copy}}/rows.csv && echo more > ${{inputs.copy}}/more.csv")
    spec = job_file(tmp_path, command, inputs={"copy": {"path": "./data", "mode": "download"},
                                               "mounted": {"path": "./data"}})
    result = run_ml("job", "create", "-f", str(spec), "--stream", "--query", "inputs", "-o", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "copy 0o7" in result.stdout and "mounted 0o555" in result.stdout  # a writable copy; a read-only one
    inputs = json.loads(result.stdout[result.stdout.index("{"):])
    assert inputs["copy"]["type"] == inputs["mounted"]["type"] == "uri_folder"
    assert inputs["copy"]["mode"] == "download"
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["rows.csv"]  # the user's folder is untouched
