"""What every resource handler shares: ARM envelopes, systemData, list views and paging."""

from __future__ import annotations

import getpass
from urllib.parse import urlencode

from cli.local.http import ApiError, Call, json_response, not_found
from cli.local.ids import resource_type
from cli.local.store import Record, utcnow

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
LIST_VIEWS = {"activeonly": False, "archivedonly": True, "all": None}


def stored(call: Call, resource_id: str, kind: str, name: str, conn=None) -> Record:
    """The stored record `resource_id`, or a 404 naming the `kind` and `name` the client asked for."""
    record = call.service.store.get(resource_id, conn)
    if record is None:
        raise not_found(kind, name)
    return record


def user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "local"


def system_data(previous: dict | None = None) -> dict:
    """ARM systemData for a write: creation fields kept from `previous`, modification fields now."""
    now, who = utcnow(), user()
    created = previous or {"createdAt": now, "createdBy": who, "createdByType": "User"}
    return {"createdAt": created["createdAt"], "createdBy": created["createdBy"],
            "createdByType": created.get("createdByType", "User"),
            "lastModifiedAt": now, "lastModifiedBy": who, "lastModifiedByType": "User"}


def envelope(id: str, kind: str, name: str, properties: dict, sysdata: dict, **extra) -> dict:
    """An ARM resource body: id, name, type, systemData, properties (+ e.g. location, tags)."""
    return {"id": id, "name": name, "type": resource_type(kind), "systemData": sysdata,
            "properties": properties, **extra}


def list_view(call: Call) -> bool | None:
    """The archived filter for `listViewType` (default ActiveOnly): False, True or None (all)."""
    view = call.query.get("listViewType", "ActiveOnly")
    try:
        return LIST_VIEWS[view.lower()]
    except KeyError:
        raise ApiError(400, "UserError", f"listViewType '{view}' is not one of ActiveOnly, ArchivedOnly,"
                       " All.", target="listViewType") from None


def order(call: Call, records: list[Record], default: str = "createdtime desc") -> list[Record]:
    """Sort by `$orderBy` ('createdtime|modifiedtime|name|version [asc|desc]')."""
    text = (call.query.get("$orderBy") or call.query.get("orderBy") or default).strip()
    field, _, direction = text.partition(" ")
    keys = {"createdtime": lambda r: r.created_at, "createdat": lambda r: r.created_at,
            "modifiedtime": lambda r: r.modified_at, "name": lambda r: r.name,
            "version": lambda r: (0, int(r.version), "") if (r.version or "").isdigit() else (1, 0, r.version)}
    key = keys.get(field.lower())
    if key is None or direction.strip().lower() not in ("", "asc", "desc"):
        raise ApiError(400, "UserError", f"$orderBy '{text}' is not supported; use one of"
                       f" {', '.join(keys)} followed by asc or desc.", target="$orderBy")
    if call.query.get("orderByAsc", "").lower() == "false":
        direction = "desc"
    return sorted(records, key=key, reverse=direction.strip().lower() == "desc")


def page(call: Call, records: list[Record], render) -> "object":
    """One page of a list: {"value": [...], "nextLink": <same URL with $skipToken>} while more remain."""
    size_text = call.query.get("$top") or call.query.get("count") or str(DEFAULT_PAGE_SIZE)
    token = call.query.get("$skipToken") or call.query.get("$skip") or "0"
    if not size_text.isdigit() or not 0 < int(size_text) <= MAX_PAGE_SIZE:
        raise ApiError(400, "UserError", f"Page size '{size_text}' must be an integer from 1 to {MAX_PAGE_SIZE}.")
    if not token.isdigit():
        raise ApiError(400, "UserError", f"The continuation token '{token}' is not valid.", target="$skipToken")
    size, start = int(size_text), int(token)
    body: dict = {"value": [render(r) for r in records[start:start + size]]}
    if start + size < len(records):
        query = {k: v for k, v in call.query.items() if k not in ("$skip", "$skipToken")}
        query["$skipToken"] = str(start + size)
        url = call.request.url
        body["nextLink"] = f"{url.scheme}://{url.host}{url.path}?{urlencode(query)}"
    return json_response(200, body)
