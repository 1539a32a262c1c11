"""Datastores: PUT/GET/LIST/DELETE and listSecrets; local blob datastores live under the workspace's blobs/."""

from __future__ import annotations

from cli.local import ids
from cli.local.contract import check_request
from cli.local.handlers import checks
from cli.local.handlers.common import envelope, order, page, system_data, stored
from cli.local.handlers.secrets import without_secrets
from cli.local.http import ApiError, Call, json_response


DEFAULT_CREDENTIALS = {"credentialsType": "AccountKey"}  # the key itself is never stored nor shown
ARTIFACT_CONTAINER = "azureml"  # Azure's container of workspaceartifactstore


def default_datastore_body(workspace: str) -> dict:
    """The `workspaceblobstore` resource, served by the local blob plane. Key-based like Azure's usual
    default store, so clients ask listSecrets for access, which answers a container SAS."""
    props = {"datastoreType": "AzureBlob", "isDefault": True, "accountName": workspace,
             "containerName": ids.DEFAULT_DATASTORE, "endpoint": ids.BLOB_ENDPOINT_SUFFIX, "protocol": "https",
             "credentials": DEFAULT_CREDENTIALS, "subscriptionId": ids.SUBSCRIPTION,
             "resourceGroup": ids.RESOURCE_GROUP, "serviceDataAccessAuthIdentity": "None",
             "description": "Local workspace blob store", "tags": {}, "properties": {}}
    return envelope(f"{ids.workspace_id(workspace)}/datastores/{ids.DEFAULT_DATASTORE}", "datastores",
                    ids.DEFAULT_DATASTORE, props, system_data())


def artifact_store_body(workspace: str) -> dict:
    """`workspaceartifactstore`, where Azure keeps run artifacts (ExperimentRun/dcid.<run>/): its own container
    of the local blob plane, which links each job's artifact root there when the job is created."""
    body = default_datastore_body(workspace)
    props = {**body["properties"], "isDefault": False, "containerName": ARTIFACT_CONTAINER,
             "description": "Local workspace artifact store"}
    return envelope(f"{ids.workspace_id(workspace)}/datastores/{ids.ARTIFACT_DATASTORE}", "datastores",
                    ids.ARTIFACT_DATASTORE, props, system_data())


def _render(record) -> dict:
    """Credential secrets are write-only: stored for listSecrets, never returned otherwise."""
    return without_secrets(record.body)


def _id(call: Call) -> str:
    return call.service.arm_id("datastores", checks.name(call, "name", "datastore"))


def put(call: Call):
    props = call.properties(check_request("Datastore", call.json()))
    if not isinstance(props.get("datastoreType"), str) or not isinstance(props.get("credentials"), dict):
        raise ApiError(400, "UserError", "A datastore needs 'properties.datastoreType' and"
                       " 'properties.credentials'.", target="properties")
    service, name = call.service, call.params["name"]
    ds_id = _id(call)
    with service.store.transaction() as conn:
        old = service.store.get(ds_id, conn)
        props = {**props, "isDefault": bool(old and old.body["properties"].get("isDefault"))}
        body = envelope(ds_id, "datastores", name, props, system_data(old and old.body["systemData"]))
        record = service.store.upsert(conn, ds_id, "datastores", service.workspace_id, name, body)
    return json_response(200 if old else 201, _render(record))


def get(call: Call):
    return json_response(200, _render(stored(call, _id(call), "datastore", call.params["name"])))


def list_(call: Call):
    records = call.service.store.list("datastores", call.service.workspace_id, archived=None)
    if "isDefault" in call.query:
        wanted = call.query["isDefault"].lower() == "true"
        records = [r for r in records if bool(r.body["properties"].get("isDefault")) == wanted]
    if call.query.get("names"):
        names = set(call.query["names"].split(","))
        records = [r for r in records if r.name in names]
    if call.query.get("searchText"):
        records = [r for r in records if call.query["searchText"].lower() in r.name.lower()]
    return page(call, order(call, records, default="createdtime asc"), _render)


def delete(call: Call):
    store, ds_id = call.service.store, _id(call)
    with store.transaction() as conn:
        record = store.get(ds_id, conn)
        if record is not None and record.body["properties"].get("isDefault"):
            raise ApiError(400, "UserError", f"The default datastore '{record.name}' cannot be deleted.")
        deleted = store.delete(conn, ds_id)
    return json_response(200 if deleted else 204)


def list_secrets(call: Call):
    body = call.json(required=False)
    record = stored(call, _id(call), "datastore", call.params["name"])
    props = record.body["properties"]
    secrets = (props.get("credentials") or {}).get("secrets")
    if props.get("accountName") == call.service.workspace and props.get("endpoint") == ids.BLOB_ENDPOINT_SUFFIX:
        hours = body.get("expireAfterHours") or 24 * 30
        if not isinstance(hours, int) or hours <= 0:
            raise ApiError(400, "UserError", "expireAfterHours must be a positive integer.")
        sas = call.service.blobs.sas_query(props["containerName"], hours=hours)
        return json_response(200, {"secretsType": "Sas", "sasToken": sas})
    if not secrets:
        raise ApiError(400, "UserError", f"Datastore '{record.name}' has no secrets (credentials type"
                       f" {props['credentials'].get('credentialsType')}).")
    return json_response(200, secrets)


def register(router) -> None:
    host = ids.MANAGEMENT_HOST
    router.add(host, "GET", "{WS}/datastores", list_)
    router.add(host, "GET", "{WS}/datastores/{name}", get)
    router.add(host, "PUT", "{WS}/datastores/{name}", put)
    router.add(host, "DELETE", "{WS}/datastores/{name}", delete)
    router.add(host, "POST", "{WS}/datastores/{name}/listSecrets", list_secrets)
