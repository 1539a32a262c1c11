"""What every versioned asset (data, models, environments, components, codes) shares.

Versions are immutable: a PUT of an existing version with other content is refused by the service
(ConflictError, exit 5) and one with the same content returns the existing version. Without a
version, a create takes the container's next version, and takes the one after when another writer
got there first, so concurrent creates each get their own number.
"""

from __future__ import annotations

import importlib
from typing import Callable, Iterable, Optional

from cli.errors import ConflictError, ResourceNotFoundError, UsageError
from cli.rest.common import compact, creation_context, string_values

SINGULAR = {"data": "data asset", "models": "model", "environments": "environment",
            "components": "component", "codes": "code"}
PLURAL = {"data": "data assets", "models": "models", "environments": "environments", "components": "components",
          "codes": "code versions"}
COMMAND_GROUP = {"data": "data", "models": "model", "environments": "environment", "components": "component",
                 "codes": "code"}
_TRANSLATORS = {"data": "data", "models": "model", "environments": "environment",
                "components": "component", "codes": "code"}
SERVER_SET = {"provisioningState", "environmentType", "latestVersion", "nextVersion"}
MUTABLE = {"data": ("description", "tags"), "models": ("description", "tags", "stage"),
           "environments": ("description", "tags"), "components": ("description", "tags"),
           "codes": ("description", "tags")}
MAX_CREATE_ATTEMPTS = 200  # each loss means another writer created a version meanwhile


def translator(kind: str):
    return importlib.import_module(f"cli.rest.{_TRANSLATORS[kind]}")


def translate(client, make_body: Callable, uploads: Optional[dict] = None, resolver_class=None):
    """`make_body(refs)` (a pure translation) with every `@latest` it names asked of the workspace first.

    A first, collecting pass finds the labels the spec uses, so cli.rest never calls the network."""
    from cli.rest.references import ReferenceResolver

    resolver_class = resolver_class or ReferenceResolver
    probe = resolver_class(client.workspace.arm_id, None, uploads)
    body = make_body(probe)
    if not probe.labels:
        return body
    latest = {(kind, name): latest_version(client, kind, name) for kind, name in sorted(probe.labels)}
    return make_body(resolver_class(client.workspace.arm_id, latest, uploads))


# ---- versions and labels

def latest_version(client, kind: str, name: str) -> str:
    """The newest version that is not archived."""
    params = {"$orderBy": "createdtime desc", "listViewType": "ActiveOnly", "$top": 1}
    for item in client.list(client.workspace.version(kind, name), params, max_results=1):
        return item["id"].rstrip("/").rsplit("/", 1)[-1]
    group = COMMAND_GROUP.get(kind, kind)
    try:
        client.get(client.workspace.container(kind, name))
    except ResourceNotFoundError:
        raise ResourceNotFoundError(f"{SINGULAR[kind]} '{name}' does not exist in this workspace",
                                    hint=f"ml {group} list shows the {PLURAL.get(kind, kind)} there are") from None
    raise ResourceNotFoundError(f"{SINGULAR[kind]} '{name}' has no version that is not archived (@latest skips archived versions)",
                                hint=f"ml {group} list -n {name} --include-archived shows its versions")


def next_version(client, kind: str, name: str) -> str:
    """The version number a create without a version takes: one past the highest integer version."""
    try:
        container = client.get(client.workspace.container(kind, name)) or {}
    except ResourceNotFoundError:
        return "1"
    suggested = (container.get("properties") or {}).get("nextVersion")
    if suggested:
        return str(suggested)
    numbers = [int(v) for v in _version_names(client, kind, name) if v.isdigit()]
    return str(max(numbers, default=0) + 1)


def _version_names(client, kind: str, name: str) -> Iterable[str]:
    for item in client.list(client.workspace.version(kind, name), {"listViewType": "All"}):
        yield item["id"].rstrip("/").rsplit("/", 1)[-1]


def pick_version(client, kind: str, name: str, version: Optional[str], label: Optional[str]) -> str:
    """-v or -l (exactly one); the only label is `latest`."""
    if version and label:
        raise UsageError("give --version/-v or --label/-l, not both")
    if version:
        return str(version)
    if not label:
        raise UsageError(f"give the {SINGULAR[kind]}'s --version/-v or --label/-l latest")
    if label != "latest":
        raise UsageError(f"label '{label}' is not supported; use --label latest or a version")
    return latest_version(client, kind, name)


# ---- reads

def show(client, kind: str, name: str, version: Optional[str] = None, label: Optional[str] = None) -> dict:
    version = pick_version(client, kind, name, version, label)
    return translator(kind).from_rest(client.get(client.workspace.version(kind, name, version)))


def list_view(include_archived: bool, archived_only: bool) -> str:
    if include_archived and archived_only:
        raise UsageError("give --include-archived or --archived-only, not both")
    return "ArchivedOnly" if archived_only else "All" if include_archived else "ActiveOnly"


def list_assets(client, kind: str, name: Optional[str] = None, *, include_archived: bool = False,
                archived_only: bool = False, max_results: Optional[int] = None) -> list:
    """The versions of `name`, newest first; without a name, the containers (one per asset name)."""
    params = {"listViewType": list_view(include_archived, archived_only)}
    if name:
        items = client.list(client.workspace.version(kind, name), params, max_results=max_results)
        return [translator(kind).from_rest(item) for item in items]
    items = client.list(client.workspace.child(kind), params, max_results=max_results)
    return [container_shown(item) for item in items]


def container_shown(body: dict) -> dict:
    props = body.get("properties") or {}
    return compact({
        "name": body.get("name"), "id": body.get("id"),
        "creation_context": creation_context(body.get("systemData")),
        "description": props.get("description"), "tags": props.get("tags") or {},
        "latest_version": props.get("latestVersion"), "type": props.get("dataType"),
        "archived": bool(props.get("isArchived")),
    })


# ---- writes

def create(client, kind: str, spec: dict, uploads: Optional[dict] = None) -> dict:
    """PUT the spec's version, or the next free version when it names none; the created asset shown."""
    rest = translator(kind)
    name = spec["name"]
    if spec.get("version") is not None:
        version = str(spec["version"])
        body = translate(client, lambda refs: rest.to_rest({**spec, "version": version}, refs), uploads)
        return rest.from_rest(client.put(client.workspace.version(kind, name, version), body))
    return rest.from_rest(create_next_version(client, kind, name, lambda v: translate(client, lambda refs: rest.to_rest({**spec, "version": v}, refs), uploads)))


def create_next_version(client, kind: str, name: str, make_body: Callable[[str], dict]) -> dict:
    """Create a new version numbered after the newest; retry with the next number when it is taken."""
    for _ in range(MAX_CREATE_ATTEMPTS):
        version = next_version(client, kind, name)
        created = client.create_only(client.workspace.version(kind, name, version), make_body(version))
        if created is not None:
            return created
    raise ConflictError(f"could not create a new version of {SINGULAR[kind]} '{name}': other writers took "
                        f"{MAX_CREATE_ATTEMPTS} version numbers in a row", hint="give a version with --version/-v")


def set_archived(client, kind: str, name: str, version: Optional[str], label: Optional[str], archived: bool) -> None:
    """Archive or restore one version, or with neither -v nor -l, the whole asset (its container)."""
    if version or label:
        path = client.workspace.version(kind, name, pick_version(client, kind, name, version, label))
    else:
        path = client.workspace.container(kind, name)
    body = client.get(path)
    props = {k: v for k, v in (body.get("properties") or {}).items() if k not in SERVER_SET}
    props["isArchived"] = archived
    client.put(path, {"properties": props})


def update(client, kind: str, name: str, version: Optional[str], label: Optional[str], overrides: Iterable[str]) -> dict:
    """Apply `--set` to the shown asset; only the mutable fields (description, tags, stage) may change."""
    from cli.spec.overrides import updated

    rest = translator(kind)
    path = client.workspace.version(kind, name, pick_version(client, kind, name, version, label))
    body = client.get(path)
    before, mutable = rest.from_rest(body), MUTABLE[kind]
    after, changed = updated(before, overrides, mutable)
    if changed:
        raise ConflictError(f"{SINGULAR[kind]} '{name}' version {before.get('version')}: {', '.join(changed)} cannot "
                            f"change; versions are immutable (only {', '.join(mutable)} can be updated)",
                            hint="create a new version instead")
    props = {k: v for k, v in (body.get("properties") or {}).items() if k not in SERVER_SET}
    props["description"] = after.get("description")
    props["tags"] = string_values(after.get("tags"))
    if "stage" in mutable:
        props["stage"] = after.get("stage")
    return rest.from_rest(client.put(path, {"properties": compact(props)}))
