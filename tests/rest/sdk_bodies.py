"""Record the official SDK's REST bodies for the specs under specs/, as fixtures for test_rest.py.

Run with the oracle venv only (it imports azure.ai.ml; nothing under cli/ or the tests may):
    /opt/oracle/bin/python tests/rest/sdk_bodies.py
Each spec is loaded with the SDK loader `az ml <group> create -f` uses; the references the SDK's
operations would resolve on the service (uploads, ARM ids, @latest) are set to the fixed values of
fakes.py, as the operations would set them; then `_to_rest_object()` is serialized exactly as the
SDK's REST client would put it on the wire, and written to sdk_bodies/<spec>.json.
"""

import json
import logging
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import fakes  # noqa: E402

from azure.ai.ml import load_component, load_compute, load_data, load_datastore, load_environment, load_job, load_model  # noqa: E402
from azure.ai.ml.entities._assets._artifacts.code import Code  # noqa: E402
from azure.ai.ml.entities._builders import BaseNode  # noqa: E402

OUT = Path(__file__).parent / "sdk_bodies"
LOADERS = {"data": load_data, "model": load_model, "env": load_environment, "component": load_component,
           "compute": load_compute, "datastore": load_datastore, "job": load_job}


def upload(path) -> str:
    return fakes.UPLOADS[str((fakes.SPECS / path).resolve().relative_to(fakes.SPECS))]


def arm_id(reference: str, asset_type: str) -> str:
    """What the SDK's OperationOrchestrator.get_asset_arm_id makes of azureml:name:version / name@latest."""
    if reference.startswith(("azureml://registries/", "/subscriptions/")):
        return reference
    name = reference.removeprefix("azureml:")
    if "@" in name:
        name, _ = name.split("@")
        version = fakes.LATEST[(asset_type, name)]
    elif ":" in name:
        name, version = name.split(":")
    else:
        return f"{fakes.WORKSPACE_ID}/{asset_type}/{name}"
    return f"{fakes.WORKSPACE_ID}/{asset_type}/{name}/versions/{version}"


def long_uri(uri: str) -> str:
    """What resolve_short_datastore_url makes of azureml://datastores/<ds>/paths/<p> (model create)."""
    prefix = "azureml://datastores/"
    if not uri.startswith(prefix):
        return uri
    return (f"azureml://subscriptions/{fakes.SUBSCRIPTION}/resourcegroups/{fakes.RESOURCE_GROUP}"
            f"/workspaces/{fakes.WORKSPACE}/datastores/" + uri[len(prefix):])


def resolve(kind: str, entity) -> None:
    """Stand in for the operations' _resolve_arm_id_or_upload_dependencies / artifact upload."""
    if kind == "data" and "://" not in str(entity.path):
        entity.path = upload(entity.path)
    elif kind == "model":
        entity.path = long_uri(entity.path if "://" in str(entity.path) else upload(entity.path))
    elif kind == "env" and entity.build is not None:
        entity.build.path = upload(entity.build.path)
    elif kind in ("component", "job"):
        for holder in (entity, getattr(entity, "task", None)):
            if holder is None:
                continue
            if getattr(holder, "code", None) and not holder.code.startswith("/subscriptions/"):
                holder.code = upload(holder.code)
            if isinstance(getattr(holder, "environment", None), str):
                holder.environment = arm_id(holder.environment, "environments")
        for node in (getattr(entity, "jobs", None) or {}).values():
            if isinstance(node.component, str):  # _resolve_dependencies_for_pipeline_component_jobs
                node._component = arm_id(node.component, "components")
        if kind == "job":
            if entity.compute:
                entity.compute = arm_id(entity.compute, "computes")
            for item in (entity.inputs or {}).values():
                path = getattr(item, "path", None)
                if not path or "://" in path:
                    continue
                if ":" in path or "@" in path:  # the operations' own test for an asset reference
                    item.path = arm_id(path, "data")
                else:
                    item.path = upload(path) + ("/" if item.type == "uri_folder" else "")


def wire(rest) -> dict:
    """The JSON the SDK's REST client sends for this model (msrest or hybrid)."""
    if hasattr(rest, "serialize"):
        return rest.serialize()
    from azure.ai.ml._restclient.arm_ml_service._utils.model_base import SdkJSONEncoder

    return json.loads(json.dumps(rest, cls=SdkJSONEncoder, exclude_readonly=True))


def code_body() -> dict:
    code = Code(name="src-code", version="1", path=fakes.CODE_URI)
    code._is_anonymous = False
    code._hash_sha256 = fakes.CODE_HASH  # set by the upload in CodeOperations.create_or_update
    rest = code._to_rest_object()
    return wire(rest)


def record(spec: Path) -> dict:
    kind = spec.stem.split("_")[0]
    entity = LOADERS[kind](str(spec))
    if isinstance(entity, BaseNode):
        entity = entity._to_job()  # what JobOperations.create_or_update does with a loaded command
    resolve(kind, entity)
    return wire(entity._to_rest_object())


def main() -> None:
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)  # experimental-class notices
    OUT.mkdir(exist_ok=True)
    bodies = {"code": code_body()}
    for spec in sorted(fakes.SPECS.glob("*_*.yml")):
        bodies[spec.stem] = record(spec)
    for name, body in bodies.items():
        (OUT / f"{name}.json").write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
        print(f"{name}: {len(json.dumps(body))} bytes")


if __name__ == "__main__":
    main()
