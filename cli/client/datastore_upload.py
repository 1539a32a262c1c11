"""Uploading local data, model files or a build context to a workspace datastore (REST GUIDE 7.2).

The datastore (the workspace default unless named) gives the storage account and container; access
is the caller's AAD token for storage when the datastore is identity-based, else a secret from
listSecrets: a SAS appended to each blob URL, or the account key signing each request. Blobs go to
`LocalUpload/<object hash>/<file or folder name>`, so unchanged content is found, not sent again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

from cli.client.blob_upload import BlobTarget, upload_blobs
from cli.client.snapshot import object_hash
from cli.client.uploads import blob_names, collect_files, folder_name
from cli.errors import AuthenticationError, ServiceError, UsageError

DEFAULT_DATASTORE = "workspaceblobstore"
UPLOAD_ROOT = "LocalUpload"
IDENTITY_CREDENTIALS = ("none", "aad")
log = logging.getLogger("ml.client")


@dataclass(frozen=True)
class Uploaded:
    datastore: str
    path: str  # in the container: LocalUpload/<hash>/<name>
    url: str  # https://<account>.blob.<endpoint>/<container>/<path>

    @property
    def uri(self) -> str:
        return f"azureml://datastores/{self.datastore}/paths/{self.path}"


def upload_to_datastore(client, path, *, name: str, version: str, datastore: Optional[str] = None) -> Uploaded:
    """Upload the file or folder at `path` unless the datastore has it already."""
    files = collect_files(path)
    record = client.get(client.workspace.datastore(datastore)) if datastore else default_datastore(client)
    props = record.get("properties") or {}
    if props.get("datastoreType") != "AzureBlob":
        raise UsageError(f"datastore '{record.get('name')}' is of type {props.get('datastoreType')}: local files"
                         " can only be uploaded to an Azure Blob datastore")
    container_url = f"{account_url(props)}/{props['containerName']}"
    folder = folder_name(path)
    prefix = f"{UPLOAD_ROOT}/{object_hash(path)}"
    blobs = blob_names(files, folder, prefix)
    target = blob_target(client, record, container_url)
    upload_blobs(client, target, blobs, label=folder or files[0].relpath, name=name, version=version)
    remote = f"{prefix}/{folder or files[0].relpath}"
    return Uploaded(record["name"], remote, f"{container_url}/{remote}")


def account_url(props: dict) -> str:
    """The blob endpoint Azure derives from a datastore: https://<account>.blob.<endpoint>."""
    endpoint = props.get("endpoint") or "core.windows.net"
    return f"{props.get('protocol') or 'https'}://{props['accountName']}.blob.{endpoint}"


def default_datastore(client) -> dict:
    """The workspace's default datastore, as the SDK finds it; `workspaceblobstore` if none says so."""
    params = {"isDefault": True, "count": 30, "orderByAsc": False}
    for item in client.list(client.workspace.datastore(), params):
        if (item.get("properties") or {}).get("isDefault"):
            return item
    return client.get(client.workspace.datastore(DEFAULT_DATASTORE)) or {}


def blob_target(client, record: dict, container_url: str) -> BlobTarget:
    """How blob calls to this datastore's container are authorized, chosen as the SDK chooses."""
    from cli.client.blob_auth import STORAGE_SCOPE, BearerAuth, SharedKeyAuth

    props = record["properties"]
    kind = str((props.get("credentials") or {}).get("credentialsType") or "None")
    identity = BlobTarget(container_url, auth=BearerAuth(lambda: client.access_token(STORAGE_SCOPE)))
    if kind.lower() in IDENTITY_CREDENTIALS:
        return identity
    try:
        secrets = client.post(client.workspace.datastore(record["name"]) + "/listSecrets",
                              {"expirableSecret": True, "expireAfterHours": 1}) or {}
    except (ServiceError, AuthenticationError) as exc:
        # The SDK's fallback too: a caller without listSecrets rights may still have storage data roles.
        log.debug("listSecrets of datastore %s failed (%s); using the Azure credential", record["name"], exc)
        return identity
    if secrets.get("secretsType") == "Sas" and secrets.get("sasToken"):
        return BlobTarget(container_url, sas=secrets["sasToken"].lstrip("?"))
    if secrets.get("secretsType") == "AccountKey" and secrets.get("key"):
        return BlobTarget(container_url, auth=SharedKeyAuth(props["accountName"], secrets["key"]))
    raise UsageError(f"datastore '{record['name']}' gives {secrets.get('secretsType') or 'no'} secrets: uploads"
                     " need an account key, a SAS token or identity-based access")
