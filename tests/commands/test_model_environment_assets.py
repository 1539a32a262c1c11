"""`ml model` and `ml environment` on the local workspace: create kinds, download, flags."""

from __future__ import annotations

from tests.commands.asset_cli import WS, ml_fails, ml_json, ml_ok
from tests.conftest import REPO

SPECS = REPO / "tests" / "rest" / "specs"


def test_model_create_kinds_and_download_writes_the_files(tmp_path):
    (tmp_path / "model.pkl").write_bytes(b"\x80weights")
    custom = ml_json("model", "create", "-n", "clf", "-p", "model.pkl", "--stage", "Production", cwd=tmp_path)
    assert (custom["version"], custom["type"], custom["stage"]) == ("1", "custom_model", "Production")
    from_file = ml_json("model", "create", "-f", str(SPECS / "model_mlflow.yml"))
    assert (from_file["name"], from_file["type"], from_file["version"], from_file["properties"]) == \
        ("mlflow-sk", "mlflow_model", "4", {"trained_by": "me"})
    mlflow = ml_json("model", "create", "-n", "sk", "-t", "mlflow_model", "-p", str(SPECS / "mlflow-model"))
    assert (mlflow["type"], mlflow["version"]) == ("mlflow_model", "1")
    triton = ml_json("model", "create", "-n", "tri", "-v", "1", "-t", "triton_model", "-p", str(SPECS / "model"))
    assert triton["type"] == "triton_model"

    out = tmp_path / "out"
    result = ml_ok("model", "download", "-n", "clf", "-v", "1", "--download-path", str(out))
    assert result == ""
    assert (out / "clf" / "model.pkl").read_bytes() == b"\x80weights"
    ml_ok("model", "download", "-n", "sk", "-l", "latest", "-p", str(out))
    assert (out / "sk" / "mlflow-model" / "MLmodel").read_bytes() == (SPECS / "mlflow-model" / "MLmodel").read_bytes()


def test_model_download_of_nothing_fails_loudly(tmp_path):
    ml_ok("model", "create", "-n", "empty", "-v", "1", "-p", "azureml://datastores/workspaceblobstore/paths/nothing/here")
    error = ml_fails(3, "model", "download", "-n", "empty", "-v", "1", "-p", str(tmp_path))
    assert error.startswith("ml: error: model 'empty' version 1 has no files at azureml://")
    assert list(tmp_path.iterdir()) == []


def test_model_show_list_archive_restore_update(tmp_path):
    (tmp_path / "m.bin").write_bytes(b"1")
    for _ in range(3):
        ml_ok("model", "create", "-n", "m", "-p", "m.bin", cwd=tmp_path)
    assert ml_ok("model", "list", "-n", "m", "--query", "[].version", "-o", "tsv") == "3\n2\n1\n"
    assert ml_ok("model", "list", "-n", "m", "-r", "2", "--query", "[].version", "-o", "tsv") == "3\n2\n"
    ml_ok("model", "archive", "-n", "m", "-l", "latest")
    assert ml_ok("model", "show", "-n", "m", "-l", "latest", "--query", "version", "-o", "tsv") == "2\n"
    ml_ok("model", "restore", "-n", "m", "-v", "3")
    updated = ml_json("model", "update", "-n", "m", "-v", "3", "--set", "stage=Archived", "description=old")
    assert (updated["stage"], updated["description"], updated["id"]) == ("Archived", "old", f"{WS}/models/m/versions/3")
    assert ml_json("model", "list", "--query", "[].[name,latest_version]") == [["m", "3"]]


def test_environment_from_flags(tmp_path):
    image = ml_json("environment", "create", "-n", "py", "-i", "python:3.11-slim")
    assert image == {"name": "py", "version": "1", "id": f"{WS}/environments/py/versions/1", "tags": {},
                     "properties": {}, "image": "python:3.11-slim"}
    conda = ml_json("environment", "create", "-n", "py", "-i", "python:3.11-slim", "-c", str(SPECS / "conda.yml"))
    assert conda["version"] == "2" and isinstance(conda["conda_file"], dict)
    built = ml_json("environment", "create", "-n", "docker", "-v", "1", "-b", str(SPECS / "docker"))
    assert built["build"]["dockerfile_path"] == "Dockerfile" and built["build"]["path"].endswith("/docker/")  # the SDK's trailing slash
    from_file = ml_json("environment", "create", "-f", str(SPECS / "env_conda.yml"), "--set", "version=9")
    assert from_file["version"] == "9"
    ml_ok("environment", "archive", "-n", "py", "-v", "2")
    assert ml_ok("environment", "show", "-n", "py", "-l", "latest", "--query", "version", "-o", "tsv") == "1\n"


def test_environment_flag_errors():
    assert ml_fails(2, "environment", "create", "-n", "e", "-i", "x", "-b", ".") == \
        "ml: error: give --image/-i or --build-context/-b, not both\n"
    assert ml_fails(2, "environment", "create", "-n", "e", "-c", str(SPECS / "conda.yml")) == \
        "ml: error: --conda-file/-c needs --image/-i (the image the conda environment is built on)\n"
    assert ml_fails(2, "environment", "create", "-n", "e") == \
        "ml: error: environment 'e' needs an image (--image/-i) or a build context (--build-context/-b)\n"
