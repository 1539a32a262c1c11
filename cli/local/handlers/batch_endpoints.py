"""Batch endpoints and their deployments: PUT (201 + Azure-AsyncOperation, as Azure's long-running
create), GET, LIST, PATCH (tags, defaults, description), DELETE (202; an endpoint takes its deployments
with it); the endpoint's jobs (`GET https://api.ml.invalid<ws id>/batchEndpoints/{e}/jobs` on the API
host, where the SDK's list_jobs reads them on Azure's regional API host); and invoke: `POST <scoringUri>` starting a batch scoring job (cli/local/batch_jobs.py).

Provisioning: a create answers `Creating` and the resource reads `Succeeded` right after (nothing is
provisioned ahead of an invoke locally: each job builds or reuses its environment, as command jobs do).
The scoring URI is on the workspace's API host, `https://api.ml.invalid/batchscoring/v1.0<ws id>/
batchEndpoints/<name>/jobs` (Azure: `https://<name>.<region>.inference.ml.azure.com/jobs`); it takes the
workspace's bearer token (401 without it), as Azure's takes an AAD token.
"""

from __future__ import annotations

import hmac

from cli.local import ids
from cli.local.contract import check_request
from cli.local.handlers import checks
from cli.local.handlers.common import envelope, order, page, system_data, stored
from cli.local.handlers.operations import accepted
from cli.local.http import ApiError, Call, json_response, not_found
from cli.local.store import utcnow

ENDPOINTS, DEPLOYMENTS = "batchEndpoints", "batchEndpoints/deployments"
ENDPOINT_READ_ONLY = {"provisioningState", "scoringUri", "swaggerUri"}
DEPLOYMENT_READ_ONLY = {"provisioningState"}
SCORING_PREFIX = "/batchscoring/v1.0"


def _endpoint_id(call: Call) -> str:
    return call.service.arm_id(ENDPOINTS, checks.name(call, "endpointName", "endpoint"))


def _deployment_id(call: Call) -> str:
    return f"{_endpoint_id(call)}/deployments/{checks.name(call, 'deploymentName', 'deployment')}"


def scoring_uri(service, endpoint: str) -> str:
    return f"https://{ids.API_HOST}{SCORING_PREFIX}{service.workspace_id}/batchEndpoints/{endpoint}/jobs"


def get_endpoint(call: Call, conn=None):
    return stored(call, _endpoint_id(call), "batch endpoint", call.params["endpointName"], conn)


def _shown(body: dict, state: str | None = None) -> dict:
    """The body as answered: a create in progress reads Creating/Updating, as Azure's first answer does."""
    return body if state is None else {**body, "properties": {**body["properties"], "provisioningState": state}}


def put_endpoint(call: Call):
    body = check_request("BatchEndpoint", call.json())
    props = {k: v for k, v in call.properties(body).items() if k not in ENDPOINT_READ_ONLY | {"keys"}}
    service, name, eid = call.service, call.params["endpointName"], _endpoint_id(call)
    defaults = props.get("defaults") or {}
    with service.store.transaction() as conn:
        old = service.store.get(eid, conn)
        if defaults.get("deploymentName") and service.store.get(
                f"{eid}/deployments/{defaults['deploymentName']}", conn) is None:
            raise ApiError(400, "UserError", f"Deployment '{defaults['deploymentName']}' does not exist in batch"
                           f" endpoint '{name}'; create it before making it the default.", target="properties.defaults")
        props.update(provisioningState="Succeeded", scoringUri=scoring_uri(service, name))
        extra = {k: body[k] for k in ("tags", "identity", "kind", "sku") if k in body}
        resource = envelope(eid, ENDPOINTS, name, props, system_data(old and old.body["systemData"]),
                            location=body.get("location") or ids.LOCATION, **extra)
        record = service.store.upsert(conn, eid, ENDPOINTS, service.workspace_id, name, resource)
        headers = accepted(call, conn, eid, async_header=True, location=False)
    return json_response(200 if old else 201, _shown(record.body, "Updating" if old else "Creating"), headers)


def patch_endpoint(call: Call):
    body = call.json()
    service = call.service
    with service.store.transaction() as conn:
        record = get_endpoint(call, conn)
        new = dict(record.body)
        if "tags" in body:
            new["tags"] = body["tags"] or {}
        props = dict(new["properties"])
        for key in ("description", "defaults", "properties"):
            if key in (body.get("properties") or {}):
                props[key] = body["properties"][key]
        new.update(properties=props, systemData=system_data(record.body["systemData"]))
        record = service.store.upsert(conn, record.id, ENDPOINTS, service.workspace_id, record.name, new)
        headers = accepted(call, conn, record.id, async_header=True)
    return json_response(202, headers=headers)


def get_endpoint_body(call: Call):
    return json_response(200, get_endpoint(call).body)


def list_endpoints(call: Call):
    records = call.service.store.list(ENDPOINTS, call.service.workspace_id, archived=None)
    return page(call, order(call, records, default="createdtime asc"), lambda r: r.body)


def delete_endpoint(call: Call):
    store = call.service.store
    with store.transaction() as conn:
        if not store.delete(conn, _endpoint_id(call)):  # its deployments (records under it) go with it
            return json_response(204)
        headers = accepted(call, conn, _endpoint_id(call), async_header=True)
    return json_response(202, headers=headers)


def _check_references(service, props: dict) -> None:
    """Model, code, environment, component and compute must exist here (400 naming the missing one)."""
    named = [("model", (props.get("model") or {}).get("assetId")),
             ("code", (props.get("codeConfiguration") or {}).get("codeId")),
             ("environment", props.get("environmentId")),
             ("component", ((props.get("deploymentConfiguration") or {}).get("componentId") or {}).get("assetId")),
             ("compute", props.get("compute")),
             ("compute", _default_compute(service, props))]
    for kind, ref in named:
        if isinstance(ref, str) and ref.lower().startswith(service.workspace_id.lower() + "/") \
                and service.store.get(ref) is None:
            short = ref.split("/", 10)[-1] if kind != "compute" else ref.rsplit("/", 1)[-1]
            raise ApiError(400, "UserError", f"The deployment's {kind} '{short}' was not found in this workspace.",
                           target=f"properties.{kind}")


def _default_compute(service, props: dict) -> str | None:
    """A pipeline component deployment's `settings.default_compute` (a name or an ARM id) as an ARM id."""
    compute = ((props.get("deploymentConfiguration") or {}).get("settings") or {}).get("default_compute")
    if not isinstance(compute, str) or not compute.strip():
        return None
    name = compute.strip().removeprefix("azureml:").rstrip("/").rsplit("/", 1)[-1]
    return None if name.lower() in ("serverless", "local") else service.arm_id("computes", name)


def _string_settings(body: dict) -> dict:
    """A pipeline deployment's `settings` with scalar values as strings: the contract types them as strings,
    the SDK sends them as written (`continue_on_step_failure: false`), and Azure's service reads a JSON
    scalar into a string field as its text (False, 3), so the same body is taken here."""
    config = (body.get("properties") or {}).get("deploymentConfiguration")
    settings = config.get("settings") if isinstance(config, dict) else None
    if isinstance(settings, dict):
        config["settings"] = {k: (str(v) if isinstance(v, (bool, int, float)) else v) for k, v in settings.items()}
    return body


def put_deployment(call: Call):
    body = check_request("BatchDeployment", _string_settings(call.json()))
    props = {k: v for k, v in call.properties(body).items() if k not in DEPLOYMENT_READ_ONLY}
    service, name, did = call.service, call.params["deploymentName"], _deployment_id(call)
    _check_references(service, props)
    with service.store.transaction() as conn:
        endpoint = get_endpoint(call, conn)
        old = service.store.get(did, conn)
        props["provisioningState"] = "Succeeded"
        extra = {k: body[k] for k in ("tags", "identity", "kind", "sku") if k in body}
        resource = envelope(did, DEPLOYMENTS, name, props, system_data(old and old.body["systemData"]),
                            location=body.get("location") or ids.LOCATION, **extra)
        record = service.store.upsert(conn, did, DEPLOYMENTS, endpoint.id, name, resource)
        headers = accepted(call, conn, did, async_header=True, location=False)
    return json_response(200 if old else 201, _shown(record.body, "Updating" if old else "Creating"), headers)


def _get_deployment(call: Call, conn=None):
    get_endpoint(call, conn)
    return stored(call, _deployment_id(call), "batch deployment", call.params["deploymentName"], conn)


def get_deployment(call: Call):
    return json_response(200, _get_deployment(call).body)


def patch_deployment(call: Call):
    body = call.json()
    service = call.service
    with service.store.transaction() as conn:
        record = _get_deployment(call, conn)
        new = dict(record.body)
        if "tags" in body:
            new["tags"] = body["tags"] or {}
        props = {**new["properties"], **{k: v for k, v in (body.get("properties") or {}).items()
                                         if k not in DEPLOYMENT_READ_ONLY}}
        new.update(properties=props, systemData=system_data(record.body["systemData"]))
        service.store.upsert(conn, record.id, DEPLOYMENTS, _endpoint_id(call), record.name, new)
        headers = accepted(call, conn, record.id, async_header=True)
    return json_response(202, headers=headers)


def list_deployments(call: Call):
    endpoint = get_endpoint(call)
    records = call.service.store.list(DEPLOYMENTS, endpoint.id, archived=None)
    return page(call, order(call, records, default="createdtime asc"), lambda r: r.body)


def delete_deployment(call: Call):
    store = call.service.store
    with store.transaction() as conn:
        endpoint = get_endpoint(call, conn)
        default = ((endpoint.body["properties"].get("defaults") or {}).get("deploymentName") or "")
        if default.lower() == call.params["deploymentName"].lower() and store.get(_deployment_id(call), conn):
            props = {**endpoint.body["properties"], "defaults": {}}
            store.upsert(conn, endpoint.id, ENDPOINTS, call.service.workspace_id, endpoint.name,
                         {**endpoint.body, "properties": props})
        if not store.delete(conn, _deployment_id(call)):
            return json_response(204)
        headers = accepted(call, conn, _deployment_id(call), async_header=True)
    return json_response(202, headers=headers)


def _authorized(call: Call) -> bool:
    header = call.request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    expected = call.service.access_token("https://ml.azure.com/.default")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode())


def invoke(call: Call):
    """POST <scoringUri>: a batch scoring job with the chosen deployment (header) or the default."""
    from cli.local import batch_jobs

    if not _authorized(call):
        raise ApiError(401, "Unauthorized", "The request needs a bearer token for this workspace.")
    endpoint = get_endpoint(call)
    body = call.json()
    wanted = call.request.headers.get("azureml-model-deployment") or \
        (endpoint.body["properties"].get("defaults") or {}).get("deploymentName")
    if not wanted:
        raise ApiError(400, "UserError", f"Batch endpoint '{endpoint.name}' has no default deployment; name one"
                       " with --deployment-name or make one the default (ml batch-deployment create --set-default).")
    deployment = call.service.store.get(f"{endpoint.id}/deployments/{wanted}")
    if deployment is None:
        raise not_found("batch deployment", wanted)
    job = batch_jobs.start(call.service, endpoint.body, deployment.body, call.properties(body))
    return json_response(200, batch_jobs.batch_job_body(call.service, job))


def list_jobs(call: Call):
    from cli.local import batch_jobs

    endpoint = get_endpoint(call)
    records = [r for r in call.service.store.list("jobs", call.service.workspace_id, archived=None)
               if batch_jobs.endpoint_of(r.body) == endpoint.name.lower()]
    return page(call, order(call, records), lambda r: r.body)


def register(router) -> None:
    host, base = ids.MANAGEMENT_HOST, "{WS}/batchEndpoints"
    router.add(host, "GET", base, list_endpoints)
    router.add(host, "GET", f"{base}/{{endpointName}}", get_endpoint_body)
    router.add(host, "PUT", f"{base}/{{endpointName}}", put_endpoint)
    router.add(host, "PATCH", f"{base}/{{endpointName}}", patch_endpoint)
    router.add(host, "DELETE", f"{base}/{{endpointName}}", delete_endpoint)
    deployments = f"{base}/{{endpointName}}/deployments"
    router.add(host, "GET", deployments, list_deployments)
    router.add(host, "GET", f"{deployments}/{{deploymentName}}", get_deployment)
    router.add(host, "PUT", f"{deployments}/{{deploymentName}}", put_deployment)
    router.add(host, "PATCH", f"{deployments}/{{deploymentName}}", patch_deployment)
    router.add(host, "DELETE", f"{deployments}/{{deploymentName}}", delete_deployment)
    router.add(ids.API_HOST, "POST", f"{SCORING_PREFIX}{{WS}}/batchEndpoints/{{endpointName}}/jobs", invoke)
    # the SDK's list_jobs: the data plane's route on the workspace's API host (its "mfe base uri")
    router.add(ids.API_HOST, "GET", "{WS}/batchEndpoints/{endpointName}/jobs", list_jobs)
