"""Request bodies are checked against the REST contract before anything is stored: 400 naming the field.

A wrongly shaped body stored with 201 would break every later read of it (show, list, archive),
so the local service refuses it as Azure does. The definitions are the contract's own, copied into
models.schema.json beside this file by tools/contract_subset.py, and checked with ml's validator
(cli.spec.schema). Null members mean "absent" on the wire, as Azure reads them.
"""

from __future__ import annotations

import functools
from pathlib import Path

from cli.local.http import ApiError

SCHEMA_FILE = "models.schema.json"
ASSET_DEFINITIONS = {  # family -> (container, version)
    "codes": ("CodeContainer", "CodeVersion"),
    "components": ("ComponentContainer", "ComponentVersion"),
    "data": ("DataContainer", "DataVersionBase"),
    "environments": ("EnvironmentContainer", "EnvironmentVersion"),
    "models": ("ModelContainer", "ModelVersion"),
}
MAX_LISTED = 3


def stored_definition(kind: str) -> str | None:
    """The contract definition a stored record of collection `kind` ('jobs', 'models/versions') conforms to."""
    family, _, versions = kind.partition("/")
    if family in ASSET_DEFINITIONS:
        return ASSET_DEFINITIONS[family][1 if versions else 0]
    return {"jobs": "JobBase", "computes": "ComputeResource", "datastores": "Datastore"}.get(kind)


@functools.lru_cache(maxsize=1)
def _validator():
    from cli.spec.schema import SchemaStore, Validator

    return Validator(SchemaStore(Path(__file__).parent), near_misses=False)  # the contract, as JSON Schema reads it


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _where(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the body)"


@functools.lru_cache(maxsize=1)
def _write_only_missing() -> frozenset[str]:
    """The messages of a required write-only property left out (credential secrets): fine when stored."""
    document = _validator().store.document(SCHEMA_FILE)
    names = {name for schema in document["$defs"].values() if isinstance(schema, dict)
             for name, prop in (schema.get("properties") or {}).items() if prop.get("writeOnly")}
    return frozenset(f"missing required key '{name}'" for name in names)


def problems(definition: str, body, *, stored: bool = False) -> list[tuple[str, str]]:
    """(field, message) for each way `body` fails the contract's `definition`; empty when it conforms.

    `stored`: a body as the service keeps it, which may lack write-only members (as responses do)."""
    issues = _validator().issues(_without_nulls(body), {"$ref": f"#/$defs/{definition}"}, SCHEMA_FILE)
    skip = _write_only_missing() if stored else frozenset()
    return [(_where(issue.path), issue.message) for issue in issues if issue.message not in skip]


def check_request(definition: str, body: dict) -> dict:
    """`body`, or a 400 UserError naming the first fields that fail the contract's `definition`."""
    found = problems(definition, body)
    if not found:
        return body
    shown = "; ".join(f"{field}: {message}" for field, message in found[:MAX_LISTED])
    more = f" (and {len(found) - MAX_LISTED} more)" if len(found) > MAX_LISTED else ""
    raise ApiError(400, "UserError", f"The request body does not match the REST contract ({definition}):"
                   f" {shown}{more}.", target=found[0][0])
