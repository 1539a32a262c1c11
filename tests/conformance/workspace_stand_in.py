"""One fixed workspace that both the SDK recorder and our body test talk to, so both meet the same state.

Pure Python on purpose: the recorder imports it in the oracle venv, the test in ours. It answers
like the local workspace `local` would if every asset a spec names already had a version 1:
- the workspace itself (location `local`), its default datastore `workspaceblobstore` (an account-key
  blob datastore on the account `local` at ml.invalid) and that datastore's secrets;
- any compute by name (an AmlCompute), any batch or online endpoint and deployment (provisioned), any data/model/environment/component version (version 1;
  containers say the next version is 2), no code version (so code is uploaded);
- startPendingUpload with the container's URL and a SAS for it;
- every PUT with 201 (created) and its own body plus id and name; blob storage with 201 to writes and 404 to reads.
"""

from __future__ import annotations

SUBSCRIPTION, RESOURCE_GROUP, WORKSPACE = "00000000-0000-0000-0000-000000000000", "local", "local"
WORKSPACE_ID = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
                f"/providers/Microsoft.MachineLearningServices/workspaces/{WORKSPACE}")
ACCOUNT_URL, CONTAINER = "https://local.blob.ml.invalid", "workspaceblobstore"
DATASTORE = {"properties": {"datastoreType": "AzureBlob", "accountName": "local", "containerName": CONTAINER,
                            "endpoint": "ml.invalid", "protocol": "https", "isDefault": True,
                            "credentials": {"credentialsType": "AccountKey"}}}
# what a version 1 of each asset family holds, enough for the clients to read it back
_VERSION = {
    "data": {"dataType": "uri_folder", "dataUri": "azureml://datastores/workspaceblobstore/paths/data/"},
    "models": {"modelType": "custom_model", "modelUri": "azureml://datastores/workspaceblobstore/paths/model/",
               "flavors": {}, "properties": {}},
    "environments": {"image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"},
    "components": {"componentSpec": {"type": "command", "command": "echo", "version": "1",
                                     "environment": "azureml:AzureML-sklearn-1.5@latest",
                                     "_source": "REMOTE.WORKSPACE.COMPONENT"}},
}


def _named(below: str, body: dict) -> dict:
    return {"id": WORKSPACE_ID + below, "name": below.rstrip("/").rsplit("/", 1)[1], **body}


def answer(method: str, path: str, body) -> tuple[int, dict]:
    """(status, JSON body) for one management request on `path` (the URL path)."""
    if not path.startswith(WORKSPACE_ID):
        return 404, {"error": {"code": "NotFound", "message": f"{path} not found"}}
    below = path[len(WORKSPACE_ID):]
    parts = below.strip("/").split("/")
    if below == "":
        return 200, {"id": WORKSPACE_ID, "name": WORKSPACE, "location": "local", "properties": {}}
    if below.endswith("/listSecrets"):
        return 200, {"secretsType": "AccountKey", "key": "a2V5"}
    if below.endswith("/startPendingUpload"):
        blob = f"{ACCOUNT_URL}/{CONTAINER}"  # the container, as Azure answers
        return 200, {"blobReferenceForConsumption": {"blobUri": blob, "credential": {
            "credentialType": "SAS", "sasUri": blob + "?sig=x"}}}
    if method == "PUT":
        answered = _named(below, body or {})
        if parts[0] == "onlineEndpoints" and "deployments" in parts:  # as the service: its scale settings
            answered["properties"] = {"scaleSettings": {"scaleType": "Default"}, **answered.get("properties", {})}
        if parts[0] == "models":  # the service always answers with flavors, {} when none
            answered["properties"] = {"flavors": {}, **answered.get("properties", {})}
        return 201, answered  # created: the stand-in holds nothing a spec creates
    if method != "GET":
        return 404, {"error": {"code": "NotFound", "message": f"{method} {below}"}}
    if below == "/datastores":
        return 200, {"value": [_named("/datastores/" + CONTAINER, DATASTORE)]}
    if parts[0] == "datastores":
        return 200, _named(below, DATASTORE)
    if parts[0] == "batchEndpoints":  # any endpoint or deployment exists, provisioned
        return 200, _named(below, {"location": "local", "properties": {"provisioningState": "Succeeded"}})
    if parts[0] == "onlineEndpoints":  # every endpoint and deployment exists, provisioned
        if parts[-1] in ("onlineEndpoints", "deployments"):
            return 200, {"value": []}
        props = {"provisioningState": "Succeeded", "authMode": "Key", "traffic": {}}
        if "deployments" in parts:
            props = {"provisioningState": "Succeeded", "endpointComputeType": "Managed",
                     "scaleSettings": {"scaleType": "Default"}}
        return 200, _named(below, {"location": "local", "properties": props, "sku": {"name": "Default", "capacity": 1}})
    if parts[0] == "computes":
        return 200, _named(below, {"properties": {"computeType": "AmlCompute", "properties": {}}})
    family = parts[0]
    if family == "codes" or family not in _VERSION:
        return (200, {"value": []}) if parts[-1] == "versions" else (404, {"error": {"code": "NotFound", "message": below}})
    if len(parts) == 2:
        return 200, _named(below, {"properties": {"latestVersion": "1", "nextVersion": "2"}})
    if parts[-1] == "versions":
        return answer("GET", path + "/1", None)[0], {"value": [answer("GET", path + "/1", None)[1]]}
    properties = _VERSION[family]
    if family == "components":
        properties = {"componentSpec": {**properties["componentSpec"], "name": parts[1]}}
    return 200, _named(below, {"properties": properties})
