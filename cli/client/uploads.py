"""Uploading a local file or folder for an asset, as the SDK does (REST GUIDE section 7).

Code: find an existing version by content hash, else startPendingUpload, send the blobs with the
SAS it returns, then PUT the code version. Data and models: startPendingUpload and the blobs; the
caller PUTs the version with the returned URI.

Blob protocol: HEAD the indicator (first) blob and skip everything when its metadata says
upload_status=completed; else Put Blob per file (Put Block + Put Block List above 64 MiB), several
at once, and set the completion metadata on the indicator last, so a killed upload never looks done.
The pending-upload id is derived from the content hash, so the same content gets the same blob
prefix and an unchanged folder is hashed, not sent again.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence
from urllib.parse import quote

from cli.client.progress import byte_progress
from cli.client.snapshot import HASH_VERSION, SnapshotFile, collect, content_hash
from cli.errors import ServiceError, UsageError

MiB = 1 << 20
MAX_SINGLE_PUT = 64 * MiB  # azure-storage-blob's max_single_put_size
BLOCK_SIZE = 4 * MiB  # and its max_block_size
READ_WHOLE = 4 * MiB  # files up to this are read at once; larger ones are streamed
CHUNK = MiB
STORAGE_VERSION = "2025-01-05"
ASSET_TYPES = ("data", "models")
Advance = Callable[[int], None]


def workers() -> int:
    return min(16, 2 * (os.cpu_count() or 1))


def upload_code(client, path, *, name: Optional[str] = None, version: str = "1") -> str:
    """Upload a code folder (or file) unless the workspace has it already; returns the code version's ARM id."""
    files = _collect(path)
    digest = content_hash(files)
    anonymous = name is None
    # Anonymous code is named by its hash (a UUID, like the SDK's random one) so that the lookup below
    # finds the previous upload of the same content instead of sending it again.
    name = name or str(uuid.UUID(hex=digest[:32]))
    found = next(iter(client.list(f"codes/{name}/versions",
                                  params={"hash": digest, "hashVersion": HASH_VERSION}, max_results=1)), None)
    if found and found.get("id"):
        return found["id"]
    sas_uri, blob_uri = start_pending_upload(client, f"codes/{name}/versions/{version}", digest)
    folder = _folder(path)
    upload_blobs(client, sas_uri, files, folder=folder, name=name, version=version)
    code_uri = _join(blob_uri, folder) if folder else blob_uri.rstrip("/")  # code is always a folder
    body = {"properties": {"codeUri": code_uri, "isAnonymous": anonymous,
                           "properties": {"hash_sha256": digest, "hash_version": HASH_VERSION}}}
    result = client.put(f"codes/{name}/versions/{version}", body) or {}
    return result.get("id") or f"{client.workspace.arm_id}/codes/{name}/versions/{version}"


def upload_asset_files(client, path, *, asset_type: str, name: str, version: str) -> str:
    """Upload the files of a data or model version; returns the blob URI its version body should carry."""
    if asset_type not in ASSET_TYPES:
        raise ValueError(f"asset_type must be one of {ASSET_TYPES}, not {asset_type!r}")
    files = _collect(path)
    digest = content_hash(files)
    sas_uri, blob_uri = start_pending_upload(client, f"{asset_type}/{name}/versions/{version}", digest)
    folder = _folder(path)
    upload_blobs(client, sas_uri, files, folder=folder, name=name, version=version)
    return _join(blob_uri, folder or files[0].relpath)


def start_pending_upload(client, version_path: str, digest: str) -> tuple:
    """(SAS URI, blob URI) of a temporary blob prefix for `version_path` (e.g. 'codes/n/versions/1')."""
    body = {"pendingUploadType": "TemporaryBlobReference", "pendingUploadId": str(uuid.UUID(hex=digest[:32]))}
    answer = client.post(f"{version_path}/startPendingUpload", body) or {}
    reference = answer.get("blobReferenceForConsumption") or {}
    sas_uri = (reference.get("credential") or {}).get("sasUri")
    if not sas_uri:
        raise ServiceError("startPendingUpload answered without a SAS URI to upload to")
    return sas_uri, reference.get("blobUri") or sas_uri.partition("?")[0]


# ---- the blob plane


@dataclass(frozen=True)
class _Container:
    """The SAS-signed prefix blobs go under; the SAS query rides on every URL and is never printed."""

    base: str
    sas: str

    @classmethod
    def from_sas_uri(cls, sas_uri: str) -> "_Container":
        base, _, sas = sas_uri.partition("?")
        return cls(base.rstrip("/"), sas)

    def url(self, blob: str, query: str = "") -> str:
        return f"{self.base}/{quote(blob, safe='/~')}?{query + '&' if query else ''}{self.sas}"


def upload_blobs(client, sas_uri: str, files: Sequence[SnapshotFile], *, folder: Optional[str], name: str,
                 version: str) -> bool:
    """Send `files` under `<container>/<folder>` (a lone file: `<container>/<its name>`);
    False when a completed upload was already there."""
    container = _Container.from_sas_uri(sas_uri)
    blobs = [(f, f"{folder}/{f.relpath}" if folder else f.relpath) for f in files]
    dest = folder or files[0].relpath
    indicator = blobs[0][1]
    head = client.head_blob(container.url(indicator))
    if head and head.get("x-ms-meta-upload_status") == "completed":
        return False
    total = sum(f.size for f in files)
    with byte_progress(total, f"Uploading {dest[:47] + '...' if len(dest) > 50 else dest}") as advance:
        tasks, block_lists = [], []
        for f, blob in blobs:
            if f.size <= MAX_SINGLE_PUT:
                tasks.append(lambda f=f, blob=blob: _put_blob(client, container.url(blob), f, advance))
                continue
            ids = [_block_id(i) for i in range(-(-f.size // BLOCK_SIZE))]
            block_lists.append((blob, ids))
            for i, block_id in enumerate(ids):
                tasks.append(lambda f=f, blob=blob, i=i, block_id=block_id:
                             _put_block(client, container, blob, block_id, f, i * BLOCK_SIZE, advance))
        _run_all(tasks)
        for blob, ids in block_lists:
            _put_block_list(client, container, blob, ids)
    client.put_blob(container.url(indicator, "comp=metadata"), b"", {
        "x-ms-version": STORAGE_VERSION, "x-ms-meta-upload_status": "completed",
        "x-ms-meta-name": name, "x-ms-meta-version": version})
    return True


def _run_all(tasks: List[Callable[[], None]]) -> None:
    """Run `tasks` on a thread pool; the first failure cancels what has not started and is raised."""
    if len(tasks) == 1:
        tasks[0]()
        return
    pool = ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="ml-upload")
    futures = [pool.submit(task) for task in tasks]
    try:
        for future in as_completed(futures):
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _put_blob(client, url: str, f: SnapshotFile, advance: Advance) -> None:
    headers = {"x-ms-version": STORAGE_VERSION, "x-ms-blob-type": "BlockBlob",
               "Content-Type": "application/octet-stream"}
    if f.size <= READ_WHOLE:
        data = _read(f.path, 0, f.size)
        if data:
            headers["Content-MD5"] = _md5(data)
        client.put_blob(url, data, headers)
        advance(f.size)
        return
    # Read twice rather than hold up to 64 MiB per thread: once for Content-MD5, once to send.
    digest = hashlib.md5()
    for chunk in _FileRange(f.path, 0, f.size):
        digest.update(chunk)
    headers.update({"Content-MD5": base64.b64encode(digest.digest()).decode(), "Content-Length": str(f.size)})
    client.put_blob(url, _FileRange(f.path, 0, f.size, advance), headers)


def _put_block(client, container: _Container, blob: str, block_id: str, f: SnapshotFile, offset: int,
               advance: Advance) -> None:
    data = _read(f.path, offset, min(BLOCK_SIZE, f.size - offset))
    query = f"comp=block&blockid={quote(block_id, safe='')}"
    client.put_blob(container.url(blob, query), data, {"x-ms-version": STORAGE_VERSION, "Content-MD5": _md5(data)})
    advance(len(data))


def _put_block_list(client, container: _Container, blob: str, ids: List[str]) -> None:
    body = ('<?xml version="1.0" encoding="utf-8"?><BlockList>'
            + "".join(f"<Latest>{i}</Latest>" for i in ids) + "</BlockList>").encode()
    client.put_blob(container.url(blob, "comp=blocklist"), body, {
        "x-ms-version": STORAGE_VERSION, "Content-Type": "application/xml", "Content-MD5": _md5(body),
        "x-ms-blob-content-type": "application/octet-stream"})


def _block_id(index: int) -> str:
    # Block ids of one blob must all have the same length before base64.
    return base64.b64encode(f"block-{index:08d}".encode()).decode()


class _FileRange:
    """A byte range of a file as an iterable body that can be sent again on a retry."""

    def __init__(self, path: str, offset: int, length: int, advance: Optional[Advance] = None):
        self.path, self.offset, self.length, self.advance = path, offset, length, advance
        self._reported = 0  # a retry re-sends bytes the bar has already counted

    def __iter__(self):
        sent = 0
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            while sent < self.length:
                chunk = handle.read(min(CHUNK, self.length - sent))
                if not chunk:
                    raise UsageError(f"{self.path} changed while it was being uploaded")
                sent += len(chunk)
                if self.advance and sent > self._reported:
                    self.advance(sent - self._reported)
                    self._reported = sent
                yield chunk


def _read(path: str, offset: int, length: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(length)
    if len(data) != length:
        raise UsageError(f"{path} changed while it was being uploaded")
    return data


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


# ---- paths


def _collect(path) -> List[SnapshotFile]:
    files = collect(path)
    if not files:
        raise UsageError(f"{path}: nothing to upload (the folder is empty or every file is ignored)")
    return files


def _folder(path) -> Optional[str]:
    """The folder name the blobs go under (the SDK's: the resolved path's last part); None for a file."""
    resolved = Path(path).resolve()
    return resolved.name if resolved.is_dir() else None


def _join(blob_uri: str, dest: str) -> str:
    return f"{blob_uri.rstrip('/')}/{quote(dest, safe='~')}"
