"""Data assets: uri_file, uri_folder, mltable -> DataVersionBase (dataType, dataUri)."""

from __future__ import annotations

from cli.rest.common import asset_show, compact, string_values


def to_rest(spec: dict, refs) -> dict:
    return {"properties": compact({
        "dataType": spec.get("type", "uri_folder"),
        "dataUri": refs.data_uri(spec["path"]),
        "description": spec.get("description"),
        "tags": string_values(spec.get("tags")),
        "properties": string_values(spec.get("properties")),
        "referencedUris": spec.get("referenced_uris"),
        "isAnonymous": False,
        "isArchived": False,
    })}


def from_rest(body: dict) -> dict:
    props = body.get("properties") or {}
    return asset_show(body, type=props.get("dataType"), path=props.get("dataUri"))
