"""Data assets (uri_file, uri_folder, mltable): local files uploaded, then the version created."""

from __future__ import annotations

from typing import Optional

from cli.errors import UsageError
from cli.operations import assets
from cli.operations.uploading import upload_local_path

TYPES = ("uri_file", "uri_folder", "mltable")


def create(client, spec: dict, datastore: Optional[str] = None) -> dict:
    spec = {"type": "uri_folder", **spec}
    if spec["type"] not in TYPES:
        raise UsageError(f"data type '{spec['type']}' is not one of {', '.join(TYPES)}")
    uploads = upload_local_path(client, spec, "data", spec.get("path"), datastore)
    return assets.create(client, "data", spec, uploads)
