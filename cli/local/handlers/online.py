"""Online endpoints and deployments as Azure's REST contract has them, answered by the local workspace.

The handlers write the store and start or stop the endpoint's router process (cli.local.endpoints); the
router builds and runs the workers and records each deployment's provisioningState.
"""

from __future__ import annotations

from cli.local import endpoints, ids
from cli.local.handlers import checks
from cli.local.handlers.common import envelope, page, system_data, stored
from cli.local.handlers.operations import accepted
from cli.local.http import ApiError, Call, json_response
from cli.local.endpoints import tokens

EP_KIND, DEP_KIND = "onlineEndpoints", "onlineEndpoints/deployments"
READ_ONLY = {"provisioningState", "scoringUri", "swaggerUri"}


def _endpoint_id(call: Call) -> str:
    return call.service.arm_id("onlineEndpoints", checks.name(call, "endpointName", "endpoint"))


def _endpoint(call: Call, conn=None):
    return stored(call, _endpoint_id(call), "online endpoint", call.params["endpointName"], conn)


def _folder(call: Call):
    return endpoints.folder(call.service.home, call.service.workspace, call.params["endpointName"])


def put_endpoint(call: Call):
    from cli.local.runner.launch import free_port

    body = call.json()
    props = {k: v for k, v in call.properties(body).items() if k not in READ_ONLY}
    if str(props.get("authMode", "Key")).lower() not in ("key", "amltoken"):
        raise ApiError(400, "BadArgument", f"authMode '{props.get('authMode')}' is not supported locally; use Key"
                       " or AMLToken.", target="properties.authMode")
    store, name, eid = call.service.store, call.params["endpointName"], _endpoint_id(call)
    with store.transaction() as conn:
        old = store.get(eid, conn)
        deployments = {r.name for r in store.list(DEP_KIND, eid, archived=None)} if old else set()
        _check_traffic(props.get("traffic") or {}, deployments, "traffic")
        _check_traffic(props.get("mirrorTraffic") or {}, deployments, "mirrorTraffic")
        port = int(old.body["properties"]["scoringUri"].split(":")[2].split("/")[0]) if old else free_port()
        props.update(provisioningState="Succeeded", scoringUri=f"http://127.0.0.1:{port}/score",
                     swaggerUri=f"http://127.0.0.1:{port}/swagger.json")
        props.setdefault("traffic", {})
        props.setdefault("mirrorTraffic", {})
        extra = {k: body[k] for k in ("tags", "identity") if k in body}
        resource = envelope(eid, EP_KIND, name, props, system_data(old and old.body["systemData"]),
                            location=body.get("location") or ids.LOCATION, **extra)
        resource["kind"] = "Managed"
        record = store.upsert(conn, eid, EP_KIND, call.service.workspace_id, name, resource)
        headers = {} if old else accepted(call, conn, eid, async_header=True, location=False)
    root = _folder(call)
    endpoints.mark_routing_changed(root)
    if not endpoints.read_keys(root):
        endpoints.write_keys(root, {"primaryKey": endpoints.new_key(), "secondaryKey": endpoints.new_key(),
                                    "tokenSecret": endpoints.new_key()})
    try:
        endpoints.ensure_router(call.service.home, call.service.workspace, name, port)
    except OSError as exc:
        raise ApiError(500, "InternalServerError", f"the endpoint's router did not start: {exc}") from None
    return json_response(200 if old else 201, record.body, headers)


def _check_traffic(traffic: dict, deployments: set, field: str) -> None:
    unknown = sorted(set(traffic) - deployments)
    if unknown:
        raise ApiError(400, "BadArgument", f"The {field} names deployments that do not exist: {', '.join(unknown)}.",
                       target=f"properties.{field}")
    if any(not isinstance(v, int) or v < 0 or v > 100 for v in traffic.values()):
        raise ApiError(400, "BadArgument", f"{field} values must be integers from 0 to 100.", target=f"properties.{field}")
    if field == "traffic" and traffic and sum(traffic.values()) not in (0, 100):
        raise ApiError(400, "BadArgument", f"The traffic values must add up to 100 (or 0), not {sum(traffic.values())}.",
                       target="properties.traffic")


def get_endpoint(call: Call):
    return json_response(200, _endpoint(call).body)


def list_endpoints(call: Call):
    records = call.service.store.list(EP_KIND, call.service.workspace_id, archived=None)
    return page(call, records, lambda r: r.body)


def delete_endpoint(call: Call):
    store, eid = call.service.store, _endpoint_id(call)
    with store.transaction() as conn:
        if store.get(eid, conn) is None:
            return json_response(204)
        for record in store.list(DEP_KIND, eid, archived=None):
            store.delete(conn, record.id)
        store.delete(conn, eid)
        headers = accepted(call, conn, eid)
    endpoints.stop_router(call.service.home, call.service.workspace, call.params["endpointName"])
    import shutil  # keys, logs and model copies go with the endpoint: a new one of that name starts afresh

    shutil.rmtree(_folder(call), ignore_errors=True)
    return json_response(202, headers=headers)


def list_keys(call: Call):
    record = _endpoint(call)
    if str(record.body["properties"].get("authMode")).lower() != "key":
        raise ApiError(400, "BadArgument", f"Endpoint '{record.name}' uses {record.body['properties'].get('authMode')}"
                       " authentication; it has no keys (get a token instead).")
    keys = endpoints.read_keys(_folder(call))
    return json_response(200, {"primaryKey": keys.get("primaryKey"), "secondaryKey": keys.get("secondaryKey")})


def regenerate_keys(call: Call):
    record = _endpoint(call)
    body = call.json()
    kind = str(body.get("keyType", "")).lower()
    if kind not in ("primary", "secondary"):
        raise ApiError(400, "BadArgument", "keyType must be Primary or Secondary.", target="keyType")
    if str(record.body["properties"].get("authMode")).lower() != "key":
        raise ApiError(400, "BadArgument", f"Endpoint '{record.name}' does not use key authentication.")
    root = _folder(call)
    keys = endpoints.read_keys(root)
    keys[f"{kind}Key"] = body.get("keyValue") or endpoints.new_key()
    endpoints.write_keys(root, keys)
    with call.service.store.transaction() as conn:
        headers = accepted(call, conn, record.id)
    return json_response(202, headers=headers)


def token(call: Call):
    record = _endpoint(call)
    if str(record.body["properties"].get("authMode")).lower() != "amltoken":
        raise ApiError(400, "BadArgument", f"Endpoint '{record.name}' does not use AMLToken authentication.")
    keys = endpoints.read_keys(_folder(call))
    return json_response(200, tokens.issue(keys.get("tokenSecret", ""), record.name))


# ---- deployments

def _deployment_id(call: Call) -> str:
    return f"{_endpoint_id(call)}/deployments/{checks.name(call, 'deploymentName', 'deployment')}"


def put_deployment(call: Call):
    body = call.json()
    props = {k: v for k, v in call.properties(body).items() if k not in READ_ONLY}
    store, name, did = call.service.store, call.params["deploymentName"], _deployment_id(call)
    with store.transaction() as conn:
        endpoint = _endpoint(call, conn)
        old = store.get(did, conn)
        for key, kind in (("model", "model"), ("environmentId", "environment")):
            ref = props.get(key)
            if ref and ref.startswith(call.service.workspace_id) and store.get(ref, conn) is None:
                raise ApiError(404, "ResourceNotFound", f"The {kind} '{ref.rsplit('/', 3)[-3]}' version"
                               f" '{ref.rsplit('/', 1)[-1]}' does not exist in this workspace.", target=f"properties.{key}")
        props["provisioningState"] = "Updating" if old else "Creating"
        props.setdefault("endpointComputeType", "Managed")
        props.setdefault("scaleSettings", {"scaleType": "Default"})  # Azure's default; the SDK reads it back
        extra = {k: body[k] for k in ("tags", "sku") if k in body}
        extra.setdefault("sku", {"name": "Default", "capacity": 1})
        resource = envelope(did, DEP_KIND, name, props, system_data(old and old.body["systemData"]),
                            location=body.get("location") or ids.LOCATION, **extra)
        record = store.upsert(conn, did, DEP_KIND, endpoint.id, name, resource)
        headers = accepted(call, conn, did, async_header=True, location=False)
    port = int(endpoint.body["properties"]["scoringUri"].split(":")[2].split("/")[0])
    try:  # a router that died (a reboot) comes back with the endpoint's first write
        endpoints.ensure_router(call.service.home, call.service.workspace, endpoint.name, port)
    except OSError as exc:
        raise ApiError(500, "InternalServerError", f"the endpoint's router did not start: {exc}") from None
    return json_response(200 if old else 201, record.body, headers)


def _deployment(call: Call, conn=None):
    _endpoint(call, conn)
    return stored(call, _deployment_id(call), "online deployment", call.params["deploymentName"], conn)


def get_deployment(call: Call):
    return json_response(200, _deployment(call).body)


def list_deployments(call: Call):
    endpoint = _endpoint(call)
    return page(call, call.service.store.list(DEP_KIND, endpoint.id, archived=None), lambda r: r.body)


def delete_deployment(call: Call):
    store = call.service.store
    with store.transaction() as conn:
        endpoint = _endpoint(call, conn)
        record = store.get(_deployment_id(call), conn)
        if record is None:
            return json_response(204)
        share = (endpoint.body["properties"].get("traffic") or {}).get(record.name, 0)
        if share:
            raise ApiError(400, "BadArgument", f"Deployment '{record.name}' still takes {share}% of the traffic of"
                           f" endpoint '{endpoint.name}'; set its traffic to 0 first.")
        store.delete(conn, record.id)
        headers = accepted(call, conn, record.id)
    return json_response(202, headers=headers)


def get_logs(call: Call):
    """A deployment's logs. containerType as on Azure, mapped to what runs locally: InferenceServer, the
    live generation's scoring workers (each after a `==> worker-N.log <==` line); StorageInitializer, the
    deployment's own log (environment, model and code placement, generations going live, restarts);
    none, both, the deployment's log first."""
    record = _deployment(call)
    body = call.json(required=False) or {}
    tail, container = body.get("tail"), body.get("containerType")
    if tail is not None and (not isinstance(tail, int) or tail < 1):
        raise ApiError(400, "BadArgument", "tail must be a positive integer.", target="tail")
    if container not in (None, "InferenceServer", "StorageInitializer"):
        raise ApiError(400, "BadArgument", f"containerType '{container}' is not one of InferenceServer,"
                       " StorageInitializer.", target="containerType")
    folder = _folder(call) / record.name
    parts = []
    if container != "InferenceServer" and (folder / "deployment.log").is_file():
        parts.append((folder / "deployment.log").read_text(errors="replace"))
    generations = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime) \
        if folder.is_dir() else []
    if generations and container != "StorageInitializer":
        for log in sorted(generations[-1].glob("worker-*.log")):
            parts.append(f"==> {log.name} <==\n" + log.read_text(errors="replace"))
    lines = "".join(part if part.endswith("\n") else part + "\n" for part in parts).splitlines()
    content = "\n".join(lines[-tail:] if tail else lines)
    return json_response(200, {"content": content})


def register(router) -> None:
    host, ep = ids.MANAGEMENT_HOST, "{WS}/onlineEndpoints/{endpointName}"
    router.add(host, "GET", "{WS}/onlineEndpoints", list_endpoints)
    router.add(host, "GET", ep, get_endpoint)
    router.add(host, "PUT", ep, put_endpoint)
    router.add(host, "DELETE", ep, delete_endpoint)
    router.add(host, "POST", f"{ep}/listKeys", list_keys)
    router.add(host, "POST", f"{ep}/regenerateKeys", regenerate_keys)
    router.add(host, "POST", f"{ep}/token", token)
    dep = f"{ep}/deployments/{{deploymentName}}"
    router.add(host, "GET", f"{ep}/deployments", list_deployments)
    router.add(host, "GET", dep, get_deployment)
    router.add(host, "PUT", dep, put_deployment)
    router.add(host, "DELETE", dep, delete_deployment)
    router.add(host, "POST", f"{dep}/getLogs", get_logs)
