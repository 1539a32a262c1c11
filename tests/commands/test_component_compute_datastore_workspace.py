"""`ml component`, `ml compute`, `ml datastore` and `ml workspace` on the local workspace."""

from __future__ import annotations


from tests.commands.asset_cli import WS, ml_fails, ml_json, ml_ok
from tests.conftest import REPO

SPECS = REPO / "tests" / "rest" / "specs"

STEP = """\
name: prep
type: command
code: ./src
environment: azureml:py@latest
command: python prep.py --out ${{outputs.out}}
outputs:
  out: {type: uri_folder}
"""
PIPELINE = """\
name: flow
version: "1"
type: pipeline
outputs:
  result: {type: uri_folder}
jobs:
  prep:
    component: ./prep.yml
  report:
    component:
      type: command
      environment: azureml:py:1
      command: echo ${{inputs.x}}
      inputs:
        x: {type: uri_folder}
    inputs:
      x: ${{parent.jobs.prep.outputs.out}}
    outputs: {}
"""


def _pipeline_files(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "prep.py").write_text("print('prep')\n")
    (tmp_path / "prep.yml").write_text(STEP)
    (tmp_path / "pipeline.yml").write_text(PIPELINE)


def test_command_component_uploads_code_and_resolves_latest(tmp_path):
    ml_ok("environment", "create", "-n", "py", "-i", "python:3.11")
    ml_ok("environment", "create", "-n", "py", "-i", "python:3.12")
    _pipeline_files(tmp_path)
    created = ml_json("component", "create", "-f", str(tmp_path / "prep.yml"), "-v", "1")
    assert created["environment"] == f"azureml:{WS}/environments/py/versions/2"
    assert created["code"].startswith(f"azureml:{WS}/codes/") and created["code"].endswith("/versions/1")
    assert (created["name"], created["version"], created["type"]) == ("prep", "1", "command")
    assert ml_json("component", "show", "-n", "prep", "-v", "1") == created
    again = ml_json("component", "create", "-f", str(tmp_path / "prep.yml"))
    assert again["version"] == "2"


def test_pipeline_component_creates_its_step_components(tmp_path):
    ml_ok("environment", "create", "-n", "py", "-v", "1", "-i", "python:3.11")
    _pipeline_files(tmp_path)
    pipeline = ml_json("component", "create", "-f", str(tmp_path / "pipeline.yml"))
    prep, report = pipeline["jobs"]["prep"]["component"], pipeline["jobs"]["report"]["component"]
    # as the SDK makes them: steps from a file or written inline are anonymous components
    assert prep.startswith("azureml:azureml_anonymous:") and report.startswith("azureml:azureml_anonymous:")
    assert ml_json("component", "show", "-n", "azureml_anonymous", "-v", prep.rsplit(":", 1)[1])["command"].startswith("python prep.py")
    # the same pipeline again reuses its step components: same versions, nothing new
    assert ml_json("component", "create", "-f", str(tmp_path / "pipeline.yml")) == pipeline
    assert ml_ok("component", "list", "-n", "azureml_anonymous", "--query", "length(@)", "-o", "tsv") == "2\n"
    assert ml_fails(2, "component", "create", "-f", str(tmp_path / "missing.yml")) == \
        f"ml: error: {tmp_path / 'missing.yml'}: no such file\n"


def test_component_archive_restore_update(tmp_path):
    ml_ok("environment", "create", "-n", "py", "-v", "1", "-i", "python:3.11")
    _pipeline_files(tmp_path)
    ml_ok("component", "create", "-f", str(tmp_path / "prep.yml"), "-v", "1")
    ml_ok("component", "archive", "-n", "prep", "-v", "1")
    assert ml_json("component", "list", "-n", "prep") == []
    ml_ok("component", "restore", "-n", "prep", "-v", "1")
    assert ml_ok("component", "update", "-n", "prep", "-v", "1", "--set", "description=d", "--query", "description",
                 "-o", "tsv") == "d\n"


def test_compute_lifecycle():
    created = ml_json("compute", "create", "-n", "cpu", "--type", "AmlCompute", "--size", "Standard_DS2_v2",
                      "--min-instances", "0", "--max-instances", "2")
    assert {k: created[k] for k in ("name", "type", "size", "min_instances", "max_instances", "provisioning_state")} == \
        {"name": "cpu", "type": "amlcompute", "size": "Standard_DS2_v2", "min_instances": 0, "max_instances": 2,
         "provisioning_state": "Succeeded"}
    assert ml_ok("compute", "update", "-n", "cpu", "--max-instances", "4", "--query", "max_instances", "-o", "tsv") == "4\n"
    instance = ml_json("compute", "create", "-f", str(SPECS / "compute_ci.yml"))
    assert (instance["type"], instance["state"]) == ("computeinstance", "Running")
    ml_ok("compute", "stop", "-n", instance["name"])
    assert ml_ok("compute", "show", "-n", instance["name"], "--query", "state", "-o", "tsv") == "Stopped\n"
    ml_ok("compute", "start", "-n", instance["name"])
    assert ml_json("compute", "list", "--query", "[].[name,type,state]") == \
        [["cpu", "amlcompute", None], [instance["name"], "computeinstance", "Running"]]
    assert ml_json("compute", "list", "--type", "AmlCompute", "--query", "[].name") == ["cpu"]
    assert ml_fails(2, "compute", "delete", "-n", "cpu") == \
        ("ml: error: Are you sure you want to delete compute 'cpu'? Pass --yes (-y) to confirm: "
         "there is no terminal to ask at.\n")
    ml_ok("compute", "delete", "-n", "cpu", "--yes")
    assert ml_fails(3, "compute", "show", "-n", "cpu").startswith("ml: error: (ResourceNotFound) The compute 'cpu'")
    assert ml_fails(3, "compute", "delete", "-n", "cpu", "-y").startswith("ml: error: (ResourceNotFound)")
    assert ml_fails(2, "compute", "create", "-n", "x", "-t", "gpu") == \
        "ml: error: --type gpu: expected one of AmlCompute, ComputeInstance, Kubernetes, VirtualMachine, SynapseSpark\n"


def test_datastore_lifecycle():
    created = ml_json("datastore", "create", "-f", str(SPECS / "datastore_blob.yml"), "-n", "blobs")
    assert (created["name"], created["type"], created["credentials"]) == ("blobs", "azure_blob", {"type": "account_key"})
    key = (SPECS / "datastore_blob.yml").read_text().split("account_key:")[1].split()[0]
    assert key not in ml_ok("datastore", "show", "-n", "blobs")  # secrets are never shown
    assert ml_json("datastore", "list", "--query", "[].name") == ["workspaceartifactstore", "workspaceblobstore", "blobs"]
    ml_ok("datastore", "delete", "-n", "blobs", "-y")
    assert ml_fails(3, "datastore", "show", "-n", "blobs").startswith("ml: error: (ResourceNotFound)")


def test_workspace_show_says_which_and_why(tmp_path, isolated_home):
    shown = ml_json("workspace", "show")
    assert (shown["name"], shown["id"]) == ("local", WS)
    assert shown["workspace_source"] == {
        "target": "local", "reason": f"no workspace configured: using the local workspace 'local' under {isolated_home}"}
    reason = ml_ok("workspace", "show", "--query", "workspace_source.reason", "-o", "tsv", env={"ML_WORKSPACE": "team"})
    assert reason == f"ML_WORKSPACE without a subscription or resource group: using the local workspace 'team' under {isolated_home}\n"


def test_workspace_create_list_delete_keep_assets_apart(tmp_path):
    assert ml_ok("workspace", "create", "-n", "exp", "--query", "name", "-o", "tsv") == "exp\n"
    ml_ok("environment", "create", "-n", "only-in-exp", "-i", "python", "-w", "exp")
    assert ml_json("environment", "list", "-w", "exp", "--query", "[].name") == ["only-in-exp"]
    assert ml_json("environment", "list", "--query", "[].name") == []
    assert ml_json("workspace", "list", "--query", "[].name") == ["exp", "local"]
    assert ml_fails(2, "workspace", "delete", "-n", "exp").startswith("ml: error: Are you sure")
    ml_ok("workspace", "delete", "-n", "exp", "--yes")
    assert ml_json("workspace", "list", "--query", "[].name") == ["local"]
    assert ml_fails(3, "workspace", "delete", "-n", "exp", "-y").startswith("ml: error: workspace 'exp' does not exist in resource group 'local'")
