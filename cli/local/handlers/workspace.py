"""The workspace resource itself, and the discovery document of its API host."""

from __future__ import annotations

import uuid

from cli.local import ids
from cli.local.handlers.common import user
from cli.local.http import Call, json_response
from cli.local.store import utcnow


def workspace_body(service) -> dict:
    store, name = service.store, service.workspace
    workspace_guid = store.setting("workspace-id", lambda: str(uuid.uuid4()))
    created = store.setting("created-at", utcnow)
    owner = store.setting("created-by", user)
    ws_id = service.workspace_id
    return {
        "id": ws_id, "name": name, "type": f"{ids.PROVIDER}/workspaces", "location": ids.LOCATION,
        "kind": "Default", "tags": {}, "sku": {"name": "Basic", "tier": "Basic"},
        "systemData": {"createdAt": created, "createdBy": owner, "createdByType": "User",
                       "lastModifiedAt": created, "lastModifiedBy": owner, "lastModifiedByType": "User"},
        "properties": {
            "friendlyName": name, "description": "Local workspace", "workspaceId": workspace_guid,
            "provisioningState": "Succeeded", "tenantId": ids.SUBSCRIPTION,
            "discoveryUrl": f"https://{ids.API_HOST}/discovery",
            "mlFlowTrackingUri": f"azureml://{ids.API_HOST}/mlflow/v1.0{ws_id}",
            "storageAccount": (f"/subscriptions/{ids.SUBSCRIPTION}/resourceGroups/{ids.RESOURCE_GROUP}"
                               f"/providers/Microsoft.Storage/storageAccounts/{name}"),
            "publicNetworkAccess": "Disabled", "storageHnsEnabled": False, "v1LegacyMode": False,
            "hbiWorkspace": False, "enableDataIsolation": False,
        },
    }


def get(call: Call):
    return json_response(200, workspace_body(call.service))


def discovery(call: Call):
    api = f"https://{ids.API_HOST}"
    keys = ("api", "catalog", "experimentation", "history", "hyperdrive", "labeling", "modelmanagement",
            "pipelines")
    return json_response(200, {**{k: api for k in keys}, "gallery": f"{api}/gallery/v1.0",
                               "studio": f"https://{ids.API_HOST}/studio"})


def register(router) -> None:
    router.add(ids.MANAGEMENT_HOST, "GET", "{WS}", get)
    router.add(ids.API_HOST, "GET", "/discovery", discovery)
