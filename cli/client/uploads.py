"""Uploading a local code folder as the SDK does (REST GUIDE 7.1).

Find an existing code version by content hash, else startPendingUpload, send the blobs with the
SAS it returns (cli.client.blob_upload), then PUT the code version. The pending-upload id is
derived from the content hash, so the same content gets the same blob prefix and an unchanged
folder is hashed, not sent again. Data, models and build contexts go to a datastore instead
(cli.client.datastore_upload): workspaces have startPendingUpload for codes only.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import List, Optional, Sequence, Tuple
from urllib.parse import quote

from cli.client.blob_upload import BlobTarget, upload_blobs
from cli.client.snapshot import HASH_VERSION, MERGED_FOLDER, SnapshotFile, collect, collect_with_includes, content_hash
from cli.errors import ServiceError, UsageError


def upload_code(client, path, *, name: Optional[str] = None, version: str = "1", includes: Sequence[str] = ()) -> str:
    """Upload a code folder (or file) unless the workspace has it already; returns the code version's ARM id.

    With `includes` (a component's additional_includes), the code and the includes are uploaded as one
    folder, as the SDK merges them."""
    files = collect_with_includes(path, includes) if includes else collect_files(path)
    if not files:
        raise UsageError(f"{path}: nothing to upload (the code and its additional includes are empty)")
    digest = content_hash(files)
    anonymous = name is None
    # Anonymous code is named by its hash (a UUID, like the SDK's random one) so that the lookup below
    # finds the previous upload of the same content instead of sending it again.
    name = name or str(uuid.UUID(hex=digest[:32]))
    found = next(iter(client.list(client.workspace.version("codes", name),
                                  params={"hash": digest, "hashVersion": HASH_VERSION}, max_results=1)), None)
    if found and found.get("id"):
        return found["id"]
    version_path = client.workspace.version("codes", name, version)  # checks name and version before any request
    sas_uri, blob_uri = start_pending_upload(client, version_path, digest)
    folder = MERGED_FOLDER if includes else folder_name(path)
    upload_blobs(client, BlobTarget.from_sas_uri(sas_uri), blob_names(files, folder),
                 label=folder or files[0].relpath, name=name, version=version)
    # a lone file's code is the folder holding it, with the trailing '/' the SDK's subdir_path gives
    code_uri = f"{blob_uri.rstrip('/')}/{quote(folder, safe='~')}" if folder else blob_uri.rstrip("/") + "/"
    body = {"properties": {"codeUri": code_uri, "isAnonymous": anonymous,
                           "properties": {"hash_sha256": digest, "hash_version": HASH_VERSION}}}
    result = client.put(version_path, body) or {}
    return result.get("id") or f"{client.workspace.arm_id}/codes/{name}/versions/{version}"


def start_pending_upload(client, version_path: str, digest: str) -> tuple:
    """(SAS URI, blob URI) of a temporary blob prefix for `version_path` (e.g. 'codes/n/versions/1')."""
    body = {"pendingUploadType": "TemporaryBlobReference", "pendingUploadId": str(uuid.UUID(hex=digest[:32]))}
    answer = client.post(f"{version_path}/startPendingUpload", body) or {}
    reference = answer.get("blobReferenceForConsumption") or {}
    sas_uri = (reference.get("credential") or {}).get("sasUri")
    if not sas_uri:
        raise ServiceError("startPendingUpload answered without a SAS URI to upload to")
    return sas_uri, reference.get("blobUri") or sas_uri.partition("?")[0]


# ---- paths, shared with datastore uploads


def collect_files(path) -> List[SnapshotFile]:
    files = collect(path)
    if not files:
        raise UsageError(f"{path}: nothing to upload (the folder is empty or every file is ignored)")
    return files


def folder_name(path) -> Optional[str]:
    """The folder name the blobs go under (the SDK's: the resolved path's last part); None for a file."""
    resolved = Path(path).resolve()
    return resolved.name if resolved.is_dir() else None


def blob_names(files: List[SnapshotFile], folder: Optional[str], prefix: str = "") -> List[Tuple[SnapshotFile, str]]:
    """Each file with its blob name: `<prefix>/<folder>/<relpath>`, or `<prefix>/<name>` for a lone file."""
    head = "/".join(p for p in (prefix, folder) if p)
    return [(f, f"{head}/{f.relpath}" if head else f.relpath) for f in files]
