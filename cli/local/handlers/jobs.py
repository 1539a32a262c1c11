"""Jobs: PUT stores the job and hands it to the runner hook; GET, LIST, cancel (202), DELETE (202)."""

from __future__ import annotations

from cli.local import ids, jobs_hook
from cli.local.store import Record
from cli.local.contract import check_request
from cli.local.handlers import checks, mlflow_runs
from cli.local.handlers.common import envelope, list_view, order, page, system_data
from cli.local.handlers.operations import accepted
from cli.local.http import ApiError, Call, json_response, not_found

MUTABLE = {"description", "tags", "displayName", "isArchived"}
SERVER_SET = {"status", "services", "parameters"}
TERMINAL = {"Completed", "Failed", "Canceled"}
UNAVAILABLE = "interactive services are not available on the local workspace"


def _id(call: Call) -> str:
    return call.service.arm_id("jobs", checks.name(call, "id", "job"))


def _check_data_paths(props: dict) -> None:
    """Input and output URIs may name any datastore path, never one that leaves its datastore."""
    for side in ("inputs", "outputs"):
        entries = props.get(side)
        for key, spec in (entries.items() if isinstance(entries, dict) else ()):
            if isinstance(spec, dict):
                checks.datastore_uri(spec.get("uri"), f"properties.{side}.{key}.uri")


def _immutable(props: dict) -> dict:
    return {k: v for k, v in props.items() if k not in MUTABLE and k not in SERVER_SET}


def _check_compute(service, compute_id) -> None:
    if compute_id and service.store.get(compute_id) is None:
        name = compute_id.rstrip("/").rsplit("/", 1)[-1]
        raise ApiError(400, "UserError", f"Compute '{name}' was not found in this workspace; create it first"
                       f" with `ml compute create --name {name} --type amlcompute`.", target="properties.computeId")


def _live(service, record: Record) -> Record:
    """The record, settled first when its runner died (see cli.local.runner.reconcile)."""
    if record.body["properties"].get("status") in TERMINAL:
        return record
    from cli.local.runner import reconcile

    return reconcile(service.store, service.home, service.workspace, record)


def put(call: Call):
    props = call.properties(check_request("JobBase", call.json()))
    if not isinstance(props.get("jobType"), str):
        raise ApiError(400, "UserError", "A job needs 'properties.jobType'.", target="properties.jobType")
    service, name, jid = call.service, call.params["id"], _id(call)
    _check_data_paths(props)
    if "experimentName" in props:
        checks.value(props["experimentName"], "experiment", "properties.experimentName")
    _check_compute(service, props.get("computeId"))
    asked = props.get("services") if isinstance(props.get("services"), dict) else {}
    props = {k: v for k, v in props.items() if k not in SERVER_SET}
    props.setdefault("experimentName", "Default")
    props.setdefault("displayName", name)
    props.setdefault("isArchived", False)
    with service.store.transaction() as conn:
        old = service.store.get(jid, conn)
        if old is not None:
            before, after = _immutable(old.body["properties"]), _immutable(props)
            if before != after:
                changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
                raise ApiError(409, "UserError", f"Job '{name}' already exists; only {', '.join(sorted(MUTABLE))}"
                               f" can change. Changed: {', '.join('properties.' + k for k in changed)}.")
            props.update({k: old.body["properties"][k] for k in SERVER_SET if k in old.body["properties"]})
        else:
            props["status"] = "NotStarted"
            tracking = f"azureml://{ids.API_HOST}/mlflow/v1.0{service.workspace_id}"
            # Interactive services are kept as asked, marked unavailable: nothing serves them locally
            # (the runner says so in the job's log).
            props["services"] = {**{n: {**s, "status": "NotAvailable", "errorMessage": UNAVAILABLE}
                                    for n, s in asked.items() if isinstance(s, dict)},
                                 "Tracking": {"jobServiceType": "Tracking", "endpoint": tracking}}
        body = envelope(jid, "jobs", name, props, system_data(old and old.body["systemData"]))
        record = service.store.upsert(conn, jid, "jobs", service.workspace_id, name, body,
                                      archived=bool(props["isArchived"]))
    if old is None:
        from cli.local.handlers.history import link_run

        link_run(service, name)  # its logs and artifacts are reachable from the start, as on Azure
        jobs_hook.on_job_created(name, service.home, service.workspace)
    return json_response(200 if old else 201, record.body)


def get(call: Call):
    record = call.service.store.get(_id(call))
    if record is None:
        raise not_found("job", call.params["id"])
    return json_response(200, _live(call.service, record).body)


def list_(call: Call):
    from cli.local.runner.children import parent_of

    # Child jobs (pipeline steps, sweep trials) are listed under their parent only, as on Azure.
    records = [r for r in call.service.store.list("jobs", call.service.workspace_id, archived=list_view(call))
               if not parent_of(r.body)]
    if call.query.get("jobType"):
        records = [r for r in records if r.body["properties"]["jobType"].lower() == call.query["jobType"].lower()]
    if call.query.get("tag"):
        records = [r for r in records if call.query["tag"] in (r.body["properties"].get("tags") or {})]
    return page(call, order(call, records), lambda r: _live(call.service, r).body)


def cancel(call: Call):
    service = call.service
    with service.store.transaction() as conn:
        record = service.store.get(_id(call), conn)
        if record is None:
            raise not_found("job", call.params["id"])
        requested = record.body["properties"].get("status") not in TERMINAL | {"CancelRequested"}
        outside = mlflow_runs.is_outside_run(record.body)
        if requested and not outside:
            props = {**record.body["properties"], "status": "CancelRequested"}
            service.store.upsert(conn, record.id, "jobs", service.workspace_id, record.name,
                                 {**record.body, "properties": props}, archived=record.archived)
        headers = accepted(call, conn, record.id)
    if requested and outside:
        mlflow_runs.cancel(service, record.name)  # an MLflow run logged from outside a job: no runner to stop
    elif requested:
        jobs_hook.on_job_cancel_requested(record.name, service.home, service.workspace)
    return json_response(202, headers=headers)


def delete(call: Call):
    store = call.service.store
    with store.transaction() as conn:
        if not store.delete(conn, _id(call)):
            return json_response(204)
        headers = accepted(call, conn, _id(call))
    headers["x-ms-async-operation-timeout"] = "PT1H"
    return json_response(202, headers=headers)


def register(router) -> None:
    from cli.local.handlers import history

    history.register(router)
    host = ids.MANAGEMENT_HOST
    router.add(host, "GET", "{WS}/jobs", list_)
    router.add(host, "GET", "{WS}/jobs/{id}", get)
    router.add(host, "PUT", "{WS}/jobs/{id}", put)
    router.add(host, "DELETE", "{WS}/jobs/{id}", delete)
    router.add(host, "POST", "{WS}/jobs/{id}/cancel", cancel)
