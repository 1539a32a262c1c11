"""Spec -> REST translation against the official SDK's recorded bodies and the 2025-12-01 contract.

sdk_bodies/<spec>.json were written by sdk_bodies.py (oracle venv). Before comparing, `normalise`
removes what the SDK generates or sends outside the 2025-12-01 contract; each rule says why.
"""

import copy
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fakes  # noqa: E402

from cli.rest import code, component, compute, data, datastore, environment, job, model  # noqa: E402
from cli.errors import UsageError  # noqa: E402
from cli.rest.references import ReferenceResolver  # noqa: E402
from cli.spec.loader import load_spec  # noqa: E402

BODIES = Path(__file__).parent / "sdk_bodies"
CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "azureml-rest" / "contract"
MODULES = {"data": data, "model": model, "env": environment, "component": component,
           "compute": compute, "datastore": datastore, "job": job}
# request body model per family (operations.json: PUT on the workspace resource path)
BODY_MODELS = {"code": "CodeVersion", "data": "DataVersionBase", "model": "ModelVersion", "env": "EnvironmentVersion",
               "component": "ComponentVersion", "compute": "ComputeResource", "datastore": "Datastore", "job": "JobBase"}
SPECS = sorted(p.stem for p in fakes.SPECS.glob("*_*.yml"))
def spec_data(stem: str) -> dict:
    """What operations hand to translation: load_spec(...).data, a conda file read (translation does no I/O)."""
    from cli.operations.environment import read_conda_file

    return read_conda_file(load_spec(fakes.SPECS / f"{stem}.yml").data)


def resolver() -> ReferenceResolver:
    return ReferenceResolver(fakes.WORKSPACE_ID, latest=fakes.LATEST,
                             uploads=fakes.uploads_by_absolute_path())


def our_body(stem: str) -> dict:
    if stem == "code":
        return code.to_rest({"path": fakes.CODE_URI}, resolver(), content_hash=fakes.CODE_HASH)
    return MODULES[stem.split("_")[0]].to_rest(spec_data(stem), resolver())


def normalise(stem: str, body: dict) -> dict:
    """The SDK body minus what is generated or not part of the 2025-12-01 contract."""
    body = copy.deepcopy(body)
    props = body["properties"]
    if stem == "code":
        # the SDK sends hash_version as a number; the contract's properties are dict[str, str]
        props["properties"]["hash_version"] = str(props["properties"]["hash_version"])
    if stem.startswith("component"):
        # a client-generated hash of the whole spec, used by the SDK's cache only
        props["properties"].pop("client_component_hash", None)
    if stem.startswith("data_"):
        # the SDK's data schema has `properties` dump-only, so it silently drops the spec's; we send them
        props["properties"] = {k: str(v) for k, v in (spec_data(stem).get("properties") or {}).items()}
    if stem.startswith("compute"):
        # preview-only ComputeInstance properties, unknown to 2025-12-01 (strict contract rejects them)
        for key in ("enableOSPatching", "enableRootAccess", "releaseQuotaOnStop"):
            props.get("properties", {}).pop(key, None)
    return body


@pytest.mark.parametrize("stem", ["code"] + SPECS)
def test_body_equals_sdk(stem):
    recorded = json.loads((BODIES / f"{stem}.json").read_text())
    assert our_body(stem) == normalise(stem, recorded)


@pytest.fixture(scope="module")
def contract():
    if not (CONTRACT / "models.strict.schema.json").is_file():
        pytest.skip(f"REST contract not found at {CONTRACT}")
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    registry = referencing.Registry().with_resources(
        (name, referencing.Resource.from_contents(json.loads((CONTRACT / name).read_text())))
        for name in ("models.schema.json", "models.strict.schema.json"))

    def validate(model_name: str, body: dict) -> list[str]:
        validator = jsonschema.Draft202012Validator({"$ref": f"models.strict.schema.json#/$defs/{model_name}"}, registry=registry)
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)
                for e in (e.context or [e])]
    return validate


@pytest.mark.parametrize("stem", ["code"] + SPECS)
def test_body_validates_against_contract(stem, contract):
    family = stem.split("_")[0]
    assert contract(BODY_MODELS[family], our_body(stem)) == []


def as_returned(stem: str, body: dict) -> dict:
    """The body as a GET would return it: with id, name and systemData."""
    spec = spec_data(stem)
    family = stem.split("_")[0]
    collection = {"data": "data", "model": "models", "env": "environments", "component": "components",
                  "compute": "computes", "datastore": "datastores", "job": "jobs"}[family]
    resource_id = f"{fakes.WORKSPACE_ID}/{collection}/{spec['name']}"
    name = spec["name"]
    if "version" in spec and family not in ("compute", "datastore", "job"):
        resource_id += f"/versions/{spec['version']}"
        name = spec["version"]
    system = {"createdAt": "2026-01-01T00:00:00Z", "createdBy": "someone", "createdByType": "User"}
    return {"id": resource_id, "name": name, "systemData": system, **body}


# user-visible fields `show` must give back as the spec wrote them (references compared resolved)
ROUND_TRIP = {
    "data": ("name", "version", "type", "description", "tags"),
    "model": ("name", "version", "type", "description", "tags", "stage", "properties"),
    "env": ("name", "version", "image", "description", "tags", "os_type", "inference_config"),
    "component": ("name", "version", "type", "display_name", "description", "tags", "command", "outputs"),
    "compute": ("name", "type", "description", "tags", "size", "tier", "min_instances", "max_instances",
                "idle_time_before_scale_down", "idle_time_before_shutdown_minutes", "namespace", "resource_id"),
    "datastore": ("name", "type", "description", "tags", "account_name", "container_name", "file_share_name",
                  "store_name", "filesystem"),
    "job": ("name", "type", "command", "display_name", "description", "experiment_name", "tags", "properties",
            "environment_variables", "distribution", "limits", "queue_settings", "identity"),
}


@pytest.mark.parametrize("stem", SPECS)
def test_from_rest_round_trips(stem):
    family = stem.split("_")[0]
    spec = spec_data(stem)
    shown = MODULES[family].from_rest(as_returned(stem, MODULES[family].to_rest(spec, resolver())))
    compared = [key for key in ROUND_TRIP[family] if key in spec]
    assert compared, "nothing to compare"
    assert {key: shown.get(key) for key in compared} == {key: spec[key] for key in compared}
    assert shown["id"].startswith(fakes.WORKSPACE_ID)
    assert shown["creation_context"]["created_by"] == "someone"


def test_spec_show_paths_and_references():
    """Fields whose spec form is resolved on the way in come back in their resolved form."""
    ref = resolver()
    shown = job.from_rest(as_returned("job_command", job.to_rest(spec_data("job_command"), ref)))
    assert shown["environment"] == "azureml:train-env:1"
    assert shown["compute"] == "azureml:cpu-cluster"
    assert shown["code"] == "azureml:" + fakes.CODE_ID
    assert shown["inputs"]["data"] == {"type": "uri_folder", "path": "azureml://datastores/workspaceblobstore/paths/raw/", "mode": "ro_mount"}
    assert shown["inputs"]["lr"] == "0.01"
    assert shown["outputs"]["model"] == {"type": "uri_folder", "mode": "rw_mount"}
    assert shown["resources"] == {"instance_count": 2, "shm_size": "2g"}
    shown = model.from_rest(as_returned("model_custom", model.to_rest(spec_data("model_custom"), ref)))
    assert shown["path"].startswith(f"azureml://subscriptions/{fakes.SUBSCRIPTION}/resourcegroups/{fakes.RESOURCE_GROUP}/")


def test_pipeline_component_steps_show_as_written():
    shown = component.from_rest(as_returned("component_pipeline", component.to_rest(spec_data("component_pipeline"), resolver())))
    # literal step inputs travel as strings, and come back so (as the SDK shows them)
    assert shown["jobs"] == {"train": {"type": "command", "component": "azureml:train_model:1",
                                       "inputs": {"data": "${{parent.inputs.data}}", "lr": "0.1"},
                                       "outputs": {"model": "${{parent.outputs.model}}"}}}


def test_contract_check_catches_a_misspelt_key(contract):
    body = job.to_rest(spec_data("job_command_latest"), resolver())
    body["properties"]["environmentID"] = body["properties"].pop("environmentId")
    assert contract("JobBase", body) != []


def test_reference_shapes():
    ref = resolver()
    ws = fakes.WORKSPACE_ID
    assert ref.asset_id("azureml:train-env@latest", "environments") == f"{ws}/environments/train-env/versions/7"
    assert ref.asset_id("azureml://registries/azureml/models/m/versions/2", "models") == "azureml://registries/azureml/models/m/versions/2"
    assert ref.asset_id(f"azureml:{ws}/data/d/versions/1", "data") == f"{ws}/data/d/versions/1"
    assert ref.compute_id("cpu") == ref.compute_id("azureml:cpu") == f"{ws}/computes/cpu"
    assert ref.data_uri("azureml://datastores/ds/paths/a/b.csv", long_form=True) == (
        f"azureml://subscriptions/{fakes.SUBSCRIPTION}/resourcegroups/{fakes.RESOURCE_GROUP}/workspaces/{fakes.WORKSPACE}"
        "/datastores/ds/paths/a/b.csv")
    assert ref.data_uri("azureml://datastores/ds/paths/a") == "azureml://datastores/ds/paths/a"
    with pytest.raises(UsageError, match="label '@prod'"):
        ref.asset_id("azureml:train-env@prod", "environments")
    with pytest.raises(UsageError, match="has not been uploaded"):
        ref.data_uri("/nowhere/file.csv")
    with pytest.raises(UsageError, match="names no version"):
        ref.asset_id("azureml:train-env", "environments")
