"""Models: custom_model, mlflow_model, triton_model -> ModelVersion (modelType, modelUri, flavors, stage)."""

from __future__ import annotations

import re

from cli.rest.common import asset_show, compact, string_values

# a workspace-qualified datastore path; the SDK re-scopes it to the workspace the model is created in
_LONG_DATASTORE_PATH = re.compile(r"^azureml://subscriptions/[^/]+/resource[Gg]roups/[^/]+/workspaces/[^/]+/(datastores/.+)$")


def to_rest(spec: dict, refs) -> dict:
    flavors = spec.get("flavors")
    return {"properties": compact({
        "modelType": spec.get("type", "custom_model"),
        # the SDK sends models' datastore paths in the long, workspace-qualified form
        "modelUri": refs.data_uri(_LONG_DATASTORE_PATH.sub(r"azureml://\1", spec["path"]), long_form=True),
        "description": spec.get("description"),
        "tags": string_values(spec.get("tags")),
        "properties": string_values(spec.get("properties")),
        "flavors": {name: {"data": dict(data or {})} for name, data in flavors.items()} if flavors else None,
        "stage": spec.get("stage"),
        "jobName": spec.get("job_name"),
        "isAnonymous": False,
        "isArchived": False,
    })}


def from_rest(body: dict) -> dict:
    props = body.get("properties") or {}
    flavors = props.get("flavors")
    return asset_show(
        body, type=props.get("modelType"), path=props.get("modelUri"), stage=props.get("stage"),
        job_name=props.get("jobName"),
        flavors={name: (value or {}).get("data") or {} for name, value in flavors.items()} if flavors else None,
    )
