"""Versioned assets (codes, data, models, environments, components): containers and immutable versions."""

from __future__ import annotations

from cli.local.contract import ASSET_DEFINITIONS, check_request
from cli.local.handlers import checks
from cli.local.handlers.common import envelope, list_view, order, page, system_data
from cli.local.http import ApiError, Call, json_response, not_found
from cli.local.ids import expand_short_uri

FAMILIES = ("codes", "data", "models", "environments", "components")
SINGULAR = {"codes": "code", "data": "data", "models": "model", "environments": "environment",
            "components": "component"}
URI_FIELDS = {"data": "dataUri", "models": "modelUri"}  # short azureml:// URIs Azure expands on write
MUTABLE = {"description", "tags", "isArchived", "stage"}  # what a PUT may change on an existing version
SERVER_SET = {"provisioningState", "environmentType", "latestVersion", "nextVersion"}


def _family(call: Call) -> str:
    return call.request.url.path.lower().split("/workspaces/", 1)[1].split("/")[1]


def _container_id(call: Call) -> str:
    return call.service.arm_id(_family(call), checks.name(call, "name", "asset", SINGULAR[_family(call)]))


def _render_container(call: Call, record) -> dict:
    body = dict(record.body)
    latest, nxt = call.service.store.latest_and_next_version(record.id)
    body["properties"] = {**body["properties"], "nextVersion": nxt}
    if latest is not None:
        body["properties"]["latestVersion"] = latest
    return body


def get_container(call: Call):
    record = call.service.store.get(_container_id(call))
    if record is None:
        raise not_found(SINGULAR[_family(call)] + " container", call.params["name"])
    return json_response(200, _render_container(call, record))


def put_container(call: Call):
    family = _family(call)
    body = check_request(ASSET_DEFINITIONS[family][0], call.json())
    props = {k: v for k, v in call.properties(body).items() if k not in SERVER_SET}
    props.setdefault("isArchived", False)
    if family == "data":  # a data container has a dataType and, in the contract, no provisioningState
        if not isinstance(props.get("dataType"), str):
            raise ApiError(400, "UserError", "A data container needs 'properties.dataType'.",
                           target="properties.dataType")
    else:
        props["provisioningState"] = "Succeeded"
    store, name = call.service.store, call.params["name"]
    cid = _container_id(call)
    with store.transaction() as conn:
        old = store.get(cid, conn)
        body = envelope(cid, family, name, props, system_data(old and old.body["systemData"]))
        record = store.upsert(conn, cid, family, call.service.workspace_id, name, body,
                              archived=bool(props["isArchived"]))
    return json_response(200 if old else 201, _render_container(call, record))


def list_containers(call: Call):
    family = _family(call)
    records = call.service.store.list(family, call.service.workspace_id, archived=list_view(call))
    return page(call, order(call, records), lambda r: _render_container(call, r))


def _version_id(call: Call) -> str:
    return call.service.arm_id(_family(call), checks.name(call, "name", "asset", SINGULAR[_family(call)]), "versions",
                               checks.name(call, "version", "version"))


def _normalize(call: Call, family: str, props: dict) -> dict:
    props = {k: v for k, v in props.items() if k not in SERVER_SET}
    for key in ("properties", "tags"):
        value = props.get(key, {})
        if not isinstance(value, dict) or any(isinstance(v, (dict, list)) or v is None for v in value.values()):
            raise ApiError(400, "UserError", f"'properties.{key}' must be an object of string values.",
                           target=f"properties.{key}")
        if key in props:  # the SDK sends e.g. hash_version as a number; the service stores strings
            props[key] = {k: v if isinstance(v, str) else str(v) for k, v in value.items()}
    props.setdefault("isArchived", False)
    props.setdefault("isAnonymous", False)
    for field in ("dataUri", "modelUri", "codeUri"):
        checks.datastore_uri(props.get(field), f"properties.{field}")
    uri_field = URI_FIELDS.get(family)
    if uri_field and isinstance(props.get(uri_field), str):
        props[uri_field] = expand_short_uri(call.service.workspace, props[uri_field])
    if family == "data" and not (isinstance(props.get("dataType"), str) and isinstance(props.get("dataUri"), str)):
        raise ApiError(400, "UserError", "A data version needs string properties 'dataType' and 'dataUri'.",
                       target="properties")
    if family == "environments":
        props["environmentType"] = "UserCreated"
    if family == "models" and not isinstance(props.get("flavors"), dict):
        props["flavors"] = {}  # as Azure stores a model without flavors; the SDK iterates them
    spec = props.get("componentSpec")
    if family == "components" and isinstance(spec, dict) and "version" not in spec:
        # Azure writes the version it stored into the spec (the SDK reads it from there, as auto-increment
        # sends none)
        props["componentSpec"] = {**spec, "version": call.params["version"]}
    if family != "data":  # data versions have no provisioningState in the contract
        props["provisioningState"] = "Succeeded"
    return props


def _immutable(props: dict) -> dict:
    # no flavors and empty flavors are the same model (versions stored before flavors were always set)
    return {k: v for k, v in props.items() if k not in MUTABLE and k not in SERVER_SET
            and not (k == "flavors" and not v)}


def put_version(call: Call):
    family, name, version = _family(call), call.params["name"], call.params["version"]
    body = call.json()
    props = _normalize(call, family, call.properties(body))  # the SDK's numbers in string maps become strings
    check_request(ASSET_DEFINITIONS[family][1], {**body, "properties": props})
    store, vid, cid = call.service.store, _version_id(call), _container_id(call)
    with store.transaction() as conn:
        old = store.get(vid, conn)
        if old is not None:
            before, after = _immutable(old.body["properties"]), _immutable(props)
            if before != after:
                changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
                raise ApiError(409, "UserError",
                               f"Version '{version}' of {SINGULAR[family]} '{name}' already exists with different"
                               f" content; asset versions are immutable (only {', '.join(sorted(MUTABLE))} can"
                               f" change). Changed: {', '.join('properties.' + k for k in changed)}. Use a new"
                               " version.", target="properties",
                               details=[{"code": "Immutable", "message": f"properties.{k} cannot change.",
                                         "target": f"properties.{k}"} for k in changed])
            if old.body["properties"] == props:
                return json_response(200, _render_version(family, old.body))
        if store.get(cid, conn) is None:  # Azure creates the container with its first version
            container_props = ({"isArchived": False, "dataType": props["dataType"]} if family == "data"
                               else {"isArchived": False, "provisioningState": "Succeeded"})
            container = envelope(cid, family, name, container_props, system_data())
            store.upsert(conn, cid, family, call.service.workspace_id, name, container)
        body = envelope(vid, f"{family}/versions", version, props,
                        system_data(old and old.body["systemData"]))
        record = store.upsert(conn, vid, f"{family}/versions", cid, name, body, version=version,
                              archived=bool(props["isArchived"]))
    return json_response(200 if old else 201, _render_version(family, record.body))


def _render_version(family: str, body: dict) -> dict:
    """A version as Azure returns it: a model always has `flavors` (the SDK iterates it, even when empty)."""
    if family == "models" and not isinstance(body["properties"].get("flavors"), dict):
        body = {**body, "properties": {**body["properties"], "flavors": {}}}
    return body


def get_version(call: Call):
    record = call.service.store.get(_version_id(call))
    if record is None:
        raise not_found(f"{SINGULAR[_family(call)]} version",
                        f"{call.params['name']}:{call.params['version']}")
    return json_response(200, _render_version(_family(call), record.body))


def delete_version(call: Call):
    store = call.service.store
    with store.transaction() as conn:
        deleted = store.delete(conn, _version_id(call))
    return json_response(200 if deleted else 204)


def list_versions(call: Call):
    family = _family(call)
    records = call.service.store.list(f"{family}/versions", _container_id(call), archived=list_view(call))
    if family == "codes" and "hash" in call.query:
        wanted = (call.query["hash"].lower(), call.query.get("hashVersion"))
        records = [r for r in records if _hash_of(r.body["properties"]) == wanted
                   or (wanted[1] is None and _hash_of(r.body["properties"])[0] == wanted[0])]
    return page(call, order(call, records), lambda r: _render_version(family, r.body))


def _hash_of(props: dict) -> tuple[str, str | None]:
    extra = props.get("properties") or {}
    version = extra.get("hash_version")
    return str(extra.get("hash_sha256", "")).lower(), None if version is None else str(version)


def register(router) -> None:
    from cli.local.ids import MANAGEMENT_HOST as host

    for family in FAMILIES:
        base = "{WS}/" + family
        router.add(host, "GET", base, list_containers)
        router.add(host, "GET", base + "/{name}", get_container)
        router.add(host, "PUT", base + "/{name}", put_container)
        router.add(host, "GET", base + "/{name}/versions", list_versions)
        router.add(host, "GET", base + "/{name}/versions/{version}", get_version)
        router.add(host, "PUT", base + "/{name}/versions/{version}", put_version)
        router.add(host, "DELETE", base + "/{name}/versions/{version}", delete_version)
