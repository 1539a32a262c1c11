"""Code versions: an uploaded snapshot (blob folder URI) plus its content hash."""

from __future__ import annotations

from cli.rest.common import asset_show

HASH_VERSION = "202208"  # the hashing scheme the SDK labels its snapshots with


def to_rest(spec: dict, refs=None, *, content_hash: str | None = None) -> dict:
    """CodeVersion body; `spec["path"]` is the blob folder URI the snapshot was uploaded to."""
    properties = {"hash_sha256": content_hash, "hash_version": HASH_VERSION} if content_hash else {}
    body = {"codeUri": spec["path"], "isAnonymous": bool(spec.get("is_anonymous", False)), "properties": properties}
    if spec.get("description"):
        body["description"] = spec["description"]
    if spec.get("tags"):
        body["tags"] = {k: str(v) for k, v in spec["tags"].items()}
    return {"properties": body}


def from_rest(body: dict) -> dict:
    return asset_show(body, path=(body.get("properties") or {}).get("codeUri"))
