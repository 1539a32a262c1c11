"""Status of long-running operations (what Azure-AsyncOperation and Location headers point at)."""

from __future__ import annotations

import uuid

from cli.local import ids
from cli.local.http import Call, json_response, not_found

BASE = "/subscriptions/{subscriptionId}/providers/Microsoft.MachineLearningServices/locations/{location}"


def accepted(call: Call, conn, resource_id: str, status: int = 202, *, async_header: bool = False,
             location: bool = True) -> dict[str, str]:
    """Record a finished operation on `resource_id`; the LRO headers that point at it."""
    op_id = str(uuid.uuid4())
    call.service.store.record_operation(conn, op_id, resource_id)
    headers = {"Retry-After": "0"}
    if async_header:
        headers["Azure-AsyncOperation"] = ids.operation_status_url(op_id)
    if location:
        headers["Location"] = ids.operation_result_url(op_id)
    return headers


def status(call: Call):
    op = call.service.store.operation(call.params["operationId"])
    if op is None:
        raise not_found("operation", call.params["operationId"])
    body = {"id": call.request.url.path, "name": op["id"], "status": op["status"], "startTime": op["started_at"]}
    if op["ended_at"]:
        body["endTime"] = op["ended_at"]
    return json_response(200, body)


def result(call: Call):
    op = call.service.store.operation(call.params["operationId"])
    if op is None:
        raise not_found("operation", call.params["operationId"])
    if op["status"] == "InProgress":
        return json_response(202, headers={"Location": str(call.request.url), "Retry-After": "1"})
    return json_response(204)


def register(router) -> None:
    router.add(ids.MANAGEMENT_HOST, "GET", BASE + "/mfeOperationsStatus/{operationId}", status)
    router.add(ids.MANAGEMENT_HOST, "GET", BASE + "/mfeOperationResults/{operationId}", result)
