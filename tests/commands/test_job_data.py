"""Job data end to end: inputs from data/model assets, MLTable folders, datastore URIs and another
job's output, in ro_mount and download modes; outputs registered as assets (only on success).
Real `ml` and runner processes on a temporary ML_HOME."""

from __future__ import annotations

import json

import pytest

from tests.commands.asset_cli import ml_json, ml_ok
from tests.commands.job_helpers import create, job_file, shown, wait_for

# Reports what each `name=path` argument holds (a folder's files or a file's text) into the
# folder output, and fills the model, MLflow model and file outputs.
CHECK = """\
import json, os, sys
report = {}
for arg in sys.argv[1:]:
    name, _, path = arg.partition("=")
    if os.path.isdir(path):
        report[name] = {f: open(os.path.join(path, f)).read().strip() for f in sorted(os.listdir(path))}
    else:
        report[name] = open(path).read().strip()
out = os.environ["AZURE_ML_OUTPUT_report"]
with open(os.path.join(out, "report.json"), "w") as f:
    json.dump(report, f)
with open(os.path.join(os.environ["AZURE_ML_OUTPUT_model"], "weights.bin"), "w") as f:
    f.write("w")
with open(os.path.join(os.environ["AZURE_ML_OUTPUT_flow"], "MLmodel"), "w") as f:
    f.write("flavors: {}\\n")
with open(os.environ["AZURE_ML_OUTPUT_summary"], "w") as f:
    f.write(str(len(report)))
"""

INPUTS = ("v1", "latest", "model", "table", "store", "upstream")


def _assets(tmp_path) -> str:
    """Data v1 and v2, an MLTable, a model and a first job's output; returns that job's name."""
    for version, text in (("1", "first"), ("2", "second")):
        folder = tmp_path / f"data{version}"
        folder.mkdir()
        (folder / "value.txt").write_text(text)
        ml_ok("data", "create", "-n", "numbers", "-v", version, "-t", "uri_folder", "-p", str(folder))
    table = tmp_path / "table"
    table.mkdir()
    (table / "MLTable").write_text("paths:\n  - file: ./rows.csv\n")
    (table / "rows.csv").write_text("a,b\n1,2\n")
    ml_ok("data", "create", "-n", "rows", "-v", "1", "-t", "mltable", "-p", str(table))
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.pkl").write_text("pickled")
    ml_ok("model", "create", "-n", "clf", "-v", "3", "-t", "custom_model", "-p", str(model))
    producer = tmp_path / "producer"
    producer.mkdir()
    first = create(job_file(producer, "echo produced > ${{outputs.out}}/made.txt",
                            outputs={"out": {"type": "uri_folder"}}))
    assert wait_for(first) == "Completed"
    return first


def _consumer(folder, first: str, mode: str, **outputs):
    inputs = {
        "v1": {"type": "uri_folder", "path": "azureml:numbers:1"},
        "latest": {"type": "uri_folder", "path": "azureml:numbers@latest"},
        "model": {"type": "custom_model", "path": "azureml:clf:3"},
        "table": {"type": "mltable", "path": "azureml:rows:1"},
        "store": {"type": "uri_folder", "path": f"azureml://datastores/workspaceblobstore/paths/azureml/{first}/out"},
        "upstream": {"type": "uri_folder", "path": f"azureml://jobs/{first}/outputs/out"},
    }
    for spec in inputs.values():
        spec["mode"] = mode
    folder.mkdir()
    spec = job_file(folder, "python check.py " + " ".join(f"{n}=${{{{inputs.{n}}}}}" for n in INPUTS),
                    inputs=inputs, outputs=outputs)
    (folder / "src" / "check.py").write_text(CHECK)
    return spec


@pytest.mark.parametrize("mode", ["ro_mount", "download"])
def test_every_kind_of_input_reaches_the_command_as_a_local_path(tmp_path, isolated_home, mode):
    first = _assets(tmp_path)
    outputs = {"report": {"type": "uri_folder", "name": "report", "version": "7"},
               "model": {"type": "custom_model", "name": "trained", "version": "2"},
               "flow": {"type": "mlflow_model", "name": "trained-flow", "version": "5"},
               "summary": {"type": "uri_file"}}
    job = create(_consumer(tmp_path / "consumer", first, mode, **outputs))
    assert wait_for(job) == "Completed", shown(job)

    blobs = isolated_home / "workspaces" / "local" / "blobs" / "workspaceblobstore" / "azureml" / job
    report = json.loads((blobs / "report" / "report.json").read_text())
    made = {"made.txt": "produced"}
    assert report == {"v1": {"value.txt": "first"}, "latest": {"value.txt": "second"},
                      "model": {"model.pkl": "pickled"}, "table": {"MLTable": "paths:\n  - file: ./rows.csv",
                                                                  "rows.csv": "a,b\n1,2"},
                      "store": made, "upstream": made}
    assert (blobs / "summary" / "summary").read_text() == "6"  # a uri_file output is a file

    data = ml_json("data", "show", "-n", "report", "-v", "7")
    assert data["type"] == "uri_folder"  # the service keeps the long form of the output's URI
    assert data["path"].endswith(f"/datastores/workspaceblobstore/paths/azureml/{job}/report/"), data["path"]
    for name, version, kind, output in (("trained", "2", "custom_model", "model"),
                                        ("trained-flow", "5", "mlflow_model", "flow")):
        model = ml_json("model", "show", "-n", name, "-v", version)
        assert model["type"] == kind
        assert model["path"].endswith(f"/datastores/workspaceblobstore/paths/azureml/{job}/{output}/"), model["path"]
    downloaded = tmp_path / "downloaded"
    ml_ok("model", "download", "-n", "trained", "-v", "2", "-p", str(downloaded))
    assert (downloaded / "trained" / "model" / "weights.bin").read_text() == "w"
    assert shown(job)["outputs"]["report"] == {"type": "uri_folder", "name": "report", "version": "7"}


def test_outputs_of_a_failed_job_are_not_registered(tmp_path):
    spec = job_file(tmp_path, "echo partial > ${{outputs.report}}/part.txt && exit 2",
                    outputs={"report": {"type": "uri_folder", "name": "never", "version": "1"}})
    job = create(spec)
    assert wait_for(job) == "Failed"
    listed = json.loads(ml_ok("data", "list"))
    assert [d["name"] for d in listed if d["name"] == "never"] == []


def test_an_output_version_already_taken_fails_the_job_and_says_why(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "x.txt").write_text("x")
    ml_ok("data", "create", "-n", "taken", "-v", "1", "-t", "uri_folder", "-p", str(folder))
    job = create(job_file(tmp_path, "echo hi > ${{outputs.out}}/hi.txt",
                          outputs={"out": {"type": "uri_folder", "name": "taken", "version": "1"}}))
    assert wait_for(job) == "Failed"
    reason = shown(job)["properties"]["FailureReason"]
    assert "registering output 'out' as data 'taken'" in reason, reason
    assert "/paths/LocalUpload/" in ml_json("data", "show", "-n", "taken", "-v", "1")["path"]  # the original
