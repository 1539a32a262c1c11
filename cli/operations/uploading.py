"""Uploads a create needs before its version PUT: the local files an asset's spec names."""

from __future__ import annotations

from typing import Optional

from cli.errors import UsageError
from cli.spec.paths import is_local_path

DEFAULT_DATASTORE = "workspaceblobstore"


def upload_local_path(client, spec: dict, family: str, path: Optional[str], datastore: Optional[str] = None) -> dict:
    """Upload `path` for a version of `spec` (family: data, models, environments) when it is local.

    Returns {local path: blob URI}, what a ReferenceResolver's `uploads` maps."""
    from cli.client.uploads import upload_asset_files
    from cli.operations.assets import next_version

    if not is_local_path(path):
        return {}
    if datastore and datastore != DEFAULT_DATASTORE:
        raise UsageError(f"--datastore {datastore}: local files can only be uploaded to {DEFAULT_DATASTORE} for now")
    # Named after the version the asset will most likely get; a concurrent create may take that
    # number first, which is harmless: the blobs are content-addressed, not version-addressed.
    version = spec.get("version") or next_version(client, family, spec["name"])
    asset_type = "models" if family == "models" else "data"  # build contexts travel like data
    blob_uri = upload_asset_files(client, path, asset_type=asset_type, name=spec["name"], version=str(version))
    return {path: datastore_uri(client, blob_uri) if family in ("data", "models") else blob_uri}


def datastore_uri(client, blob_uri: str) -> str:
    """A blob URI in the default datastore's container as `azureml://datastores/<ds>/paths/<path>`,
    the form the SDK gives uploaded data and models; other URIs (a temporary container) stay."""
    default = default_datastore(client)
    container = (default.get("properties") or {}).get("containerName")
    head = blob_uri.partition("?")[0]
    marker = f"/{container}/"
    if not container or marker not in head:
        return blob_uri
    return f"azureml://datastores/{default['name']}/paths/{head.split(marker, 1)[1]}"


def default_datastore(client) -> dict:
    for item in client.list(client.workspace.datastore(), {"isDefault": True}):
        if (item.get("properties") or {}).get("isDefault"):
            return item
    return client.get(client.workspace.datastore(DEFAULT_DATASTORE)) or {}
