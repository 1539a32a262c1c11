"""Pieces every family shares: dropping unset members, ids, creation_context."""

from __future__ import annotations


def compact(mapping: dict) -> dict:
    """The mapping without members that are None (the wire omits unset properties)."""
    return {key: value for key, value in mapping.items() if value is not None}


def string_values(mapping: dict | None) -> dict:
    """tags/properties are dict[str, str] on the wire; YAML may give numbers or booleans."""
    return {key: str(value) for key, value in (mapping or {}).items() if value is not None}


def name_and_version(resource_id: str | None, body: dict) -> tuple[str | None, str | None]:
    """An asset version's container name and version, from `.../<name>/versions/<version>`."""
    parts = (resource_id or "").rstrip("/").split("/")
    if len(parts) >= 3 and parts[-2] == "versions":
        return parts[-3], parts[-1]
    return body.get("name"), None


def creation_context(system_data: dict | None) -> dict | None:
    """ARM systemData as `show` prints it."""
    if not system_data:
        return None
    keys = {"createdAt": "created_at", "createdBy": "created_by", "createdByType": "created_by_type",
            "lastModifiedAt": "last_modified_at", "lastModifiedBy": "last_modified_by",
            "lastModifiedByType": "last_modified_by_type"}
    return {ours: system_data[theirs] for theirs, ours in keys.items() if theirs in system_data}


def resource_fields(body: dict) -> dict:
    """id and creation_context of any ARM resource body."""
    return compact({"id": body.get("id"), "creation_context": creation_context(body.get("systemData"))})


def asset_show(body: dict, **fields) -> dict:
    """The fields every versioned asset's `show` prints, plus the family's own."""
    props = body.get("properties") or {}
    name, version = name_and_version(body.get("id"), body)
    return compact({
        "name": name, "version": version, **resource_fields(body),
        "description": props.get("description"), "tags": props.get("tags") or {},
        "properties": props.get("properties") or {}, **fields,
    })


def arm_name(resource_id: str | None) -> str | None:
    return resource_id.rstrip("/").rsplit("/", 1)[-1] if resource_id else None


def asset_reference(resource_id: str | None) -> str | None:
    """A workspace asset ARM id as the spec would write it (azureml:name:version); others unchanged."""
    if not resource_id or not resource_id.startswith("/subscriptions/"):
        return resource_id
    parts = resource_id.rstrip("/").split("/")
    if len(parts) >= 3 and parts[-2] == "versions":
        return f"azureml:{parts[-3]}:{parts[-1]}"
    return f"azureml:{parts[-1]}"


def iso_duration(seconds) -> str | None:
    """Seconds as the ISO 8601 duration the wire carries (7200 -> PT2H, 90061 -> P1DT1H1M1S)."""
    if not seconds:
        return None
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


def duration_seconds(value: str | None) -> int | None:
    """An ISO 8601 duration (P1DT2H3M4S) back to seconds."""
    import re

    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", value or "")
    if not value or not match:
        return None
    days, hours, minutes, secs = (float(group or 0) for group in match.groups())
    return int(days * 86400 + hours * 3600 + minutes * 60 + secs)
