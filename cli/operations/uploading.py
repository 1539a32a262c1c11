"""Uploads a create needs before its version PUT: the local files an asset's spec names."""

from __future__ import annotations

from typing import Optional

from cli.spec.paths import is_local_path


def upload_local_path(client, spec: dict, family: str, path: Optional[str], datastore: Optional[str] = None) -> dict:
    """Upload `path` for a version of `spec` (family: data, models, environments) when it is local.

    Returns {local path: what the version body names}, what a ReferenceResolver's `uploads` maps:
    data and models an azureml:// datastore URI, a build context its blob URL with a trailing '/'
    (as the SDK sends them)."""
    from cli.client.datastore_upload import upload_to_datastore
    from cli.operations.assets import next_version

    if not is_local_path(path):
        return {}
    # The version the asset will most likely get goes in the upload's metadata; a concurrent create
    # may take that number first, which is harmless: the blobs are content-addressed.
    version = spec.get("version") or next_version(client, family, spec["name"])
    uploaded = upload_to_datastore(client, path, name=spec["name"], version=str(version), datastore=datastore)
    return {path: uploaded.uri if family in ("data", "models") else uploaded.url + "/"}


def default_datastore(client) -> dict:
    from cli.client.datastore_upload import default_datastore as find

    return find(client)
