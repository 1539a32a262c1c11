"""Computes: PUT (long-running, 201 + Azure-AsyncOperation), GET, LIST, DELETE (202), start/stop/restart."""

from __future__ import annotations

from cli.local import ids
from cli.local.contract import check_request
from cli.local.handlers import checks
from cli.local.handlers.common import envelope, order, page, system_data, stored
from cli.local.handlers.operations import accepted
from cli.local.handlers.secrets import compute_secrets, without_secrets
from cli.local.http import ApiError, Call, json_response
from cli.local.store import utcnow

READ_ONLY = {"provisioningState", "createdOn", "modifiedOn", "provisioningErrors", "isAttachedCompute"}


def _id(call: Call) -> str:
    return call.service.arm_id("computes", checks.name(call, "computeName", "compute"))


def _get(call: Call, conn=None):
    return stored(call, _id(call), "compute", call.params["computeName"], conn)


def put(call: Call):
    body = check_request("ComputeResource", call.json())
    props = call.properties(body)
    if not isinstance(props.get("computeType"), str):
        raise ApiError(400, "UserError", "A compute needs 'properties.computeType'.", target="properties.computeType")
    store, name, cid = call.service.store, call.params["computeName"], _id(call)
    with store.transaction() as conn:
        old = store.get(cid, conn)
        now = utcnow()
        props = {k: v for k, v in props.items() if k not in READ_ONLY}
        props.update(provisioningState="Succeeded", isAttachedCompute=False, modifiedOn=now,
                     createdOn=old.body["properties"]["createdOn"] if old else now)
        props.setdefault("computeLocation", ids.LOCATION)
        if props["computeType"] == "ComputeInstance":
            inner = dict(props.get("properties") or {})
            inner["state"] = (old.body["properties"].get("properties") or {}).get("state", "Running") if old \
                else "Running"
            props["properties"] = inner
        extra = {k: body[k] for k in ("tags", "sku", "identity") if k in body}
        resource = envelope(cid, "computes", name, props, system_data(old and old.body["systemData"]),
                            location=body.get("location") or ids.LOCATION, **extra)
        record = store.upsert(conn, cid, "computes", call.service.workspace_id, name, resource)
        if old is not None:
            return json_response(200, without_secrets(record.body))
        headers = accepted(call, conn, cid, async_header=True, location=False)
    return json_response(201, without_secrets(record.body), headers)


def get(call: Call):
    return json_response(200, without_secrets(_get(call).body))


def list_(call: Call):
    records = call.service.store.list("computes", call.service.workspace_id, archived=None)
    return page(call, order(call, records, default="createdtime asc"), lambda r: without_secrets(r.body))


def list_keys(call: Call):
    """The compute's secrets: the one place they are answered (ComputeSecrets), as on Azure."""
    record = _get(call)
    secrets = compute_secrets(record.body)
    if secrets is None:
        raise ApiError(400, "UserError", f"Compute '{record.name}' has no keys to list (a"
                       f" {record.body['properties'].get('computeType')}).")
    return json_response(200, secrets)


def delete(call: Call):
    action = call.query.get("underlyingResourceAction", "Delete")
    if action.lower() not in ("delete", "detach"):
        raise ApiError(400, "UserError", f"underlyingResourceAction '{action}' is not one of Delete, Detach.")
    store = call.service.store
    with store.transaction() as conn:
        if not store.delete(conn, _id(call)):
            return json_response(204)
        headers = accepted(call, conn, _id(call), async_header=True)
    return json_response(202, headers=headers)


def _power(state: str):
    def action(call: Call):
        store = call.service.store
        with store.transaction() as conn:
            record = _get(call, conn)
            props = record.body["properties"]
            if props.get("computeType") != "ComputeInstance":
                raise ApiError(400, "UserError", f"Compute '{record.name}' is a {props.get('computeType')};"
                               " only a ComputeInstance can be started, stopped or restarted.")
            inner = {**(props.get("properties") or {}), "state": state}
            body = {**record.body, "properties": {**props, "properties": inner, "modifiedOn": utcnow()}}
            store.upsert(conn, record.id, "computes", call.service.workspace_id, record.name, body)
            headers = accepted(call, conn, record.id)
        return json_response(202, headers=headers)

    return action


def register(router) -> None:
    host, base = ids.MANAGEMENT_HOST, "{WS}/computes/{computeName}"
    router.add(host, "GET", "{WS}/computes", list_)
    router.add(host, "GET", base, get)
    router.add(host, "PUT", base, put)
    router.add(host, "DELETE", base, delete)
    router.add(host, "POST", f"{base}/listKeys", list_keys)
    for verb, state in (("start", "Running"), ("stop", "Stopped"), ("restart", "Running")):
        router.add(host, "POST", f"{base}/{verb}", _power(state))
