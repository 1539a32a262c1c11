"""Sending a file list to blob storage as the SDK does (REST GUIDE 7.1 step 4, 7.2).

HEAD the indicator (first) blob and skip everything when its metadata says upload_status=completed;
else Put Blob per file (Put Block + Put Block List above 64 MiB), several at once, and set the
completion metadata on the indicator last, so a killed upload never looks done.
"""

from __future__ import annotations

import base64
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple
from urllib.parse import quote

from cli.client.progress import byte_progress
from cli.client.snapshot import SnapshotFile
from cli.errors import UsageError

MiB = 1 << 20
MAX_SINGLE_PUT = 64 * MiB  # azure-storage-blob's max_single_put_size
BLOCK_SIZE = 4 * MiB  # and its max_block_size
READ_WHOLE = 4 * MiB  # files up to this are read at once; larger ones are streamed
CHUNK = MiB
STORAGE_VERSION = "2025-01-05"
Advance = Callable[[int], None]


def workers() -> int:
    return min(16, 2 * (os.cpu_count() or 1))


@dataclass(frozen=True)
class BlobTarget:
    """Where blobs go and how each request is authorized: a SAS query riding on every URL (never
    printed), or an httpx.Auth signing each request (Shared Key, or a bearer token for storage)."""

    base: str  # container URL, or the SAS-granted prefix below it
    sas: str = ""
    auth: Any = None

    @classmethod
    def from_sas_uri(cls, sas_uri: str) -> "BlobTarget":
        base, _, sas = sas_uri.partition("?")
        return cls(base.rstrip("/"), sas)

    def url(self, blob: str, query: str = "") -> str:
        joined = "&".join(q for q in (query, self.sas) if q)
        return f"{self.base}/{quote(blob, safe='/~')}" + (f"?{joined}" if joined else "")


def upload_blobs(client, target: BlobTarget, blobs: Sequence[Tuple[SnapshotFile, str]], *, label: str,
                 name: str, version: str) -> bool:
    """Send each (file, blob name); False when a completed upload was already there."""
    indicator = blobs[0][1]
    head = client.head_blob(target.url(indicator), auth=target.auth)
    if head and head.get("x-ms-meta-upload_status") == "completed":
        return False
    total = sum(f.size for f, _ in blobs)
    description = f"Uploading {label[:47] + '...' if len(label) > 50 else label}"
    with byte_progress(total, description, enabled=getattr(client, "progress", True)) as advance:
        tasks, block_lists = [], []
        for f, blob in blobs:
            if f.size <= MAX_SINGLE_PUT:
                tasks.append(lambda f=f, blob=blob: _put_blob(client, target, blob, f, advance))
                continue
            ids = [_block_id(i) for i in range(-(-f.size // BLOCK_SIZE))]
            block_lists.append((blob, ids))
            for i, block_id in enumerate(ids):
                tasks.append(lambda f=f, blob=blob, i=i, block_id=block_id:
                             _put_block(client, target, blob, block_id, f, i * BLOCK_SIZE, advance))
        _run_all(tasks)
        for blob, ids in block_lists:
            _put_block_list(client, target, blob, ids)
    client.put_blob(target.url(indicator, "comp=metadata"), b"", {
        "x-ms-version": STORAGE_VERSION, "x-ms-meta-upload_status": "completed",
        "x-ms-meta-name": name, "x-ms-meta-version": version}, auth=target.auth)
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


def _put_blob(client, target: BlobTarget, blob: str, f: SnapshotFile, advance: Advance) -> None:
    headers = {"x-ms-version": STORAGE_VERSION, "x-ms-blob-type": "BlockBlob",
               "Content-Type": "application/octet-stream"}
    if f.size <= READ_WHOLE:
        data = _read(f.path, 0, f.size)
        if data:
            headers["Content-MD5"] = _md5(data)
        client.put_blob(target.url(blob), data, headers, auth=target.auth)
        advance(f.size)
        return
    # Read twice rather than hold up to 64 MiB per thread: once for Content-MD5, once to send.
    digest = hashlib.md5()
    for chunk in _FileRange(f.path, 0, f.size):
        digest.update(chunk)
    headers.update({"Content-MD5": base64.b64encode(digest.digest()).decode(), "Content-Length": str(f.size)})
    client.put_blob(target.url(blob), _FileRange(f.path, 0, f.size, advance), headers, auth=target.auth)


def _put_block(client, target: BlobTarget, blob: str, block_id: str, f: SnapshotFile, offset: int,
               advance: Advance) -> None:
    data = _read(f.path, offset, min(BLOCK_SIZE, f.size - offset))
    query = f"comp=block&blockid={quote(block_id, safe='')}"
    client.put_blob(target.url(blob, query), data, {"x-ms-version": STORAGE_VERSION, "Content-MD5": _md5(data)},
                    auth=target.auth)
    advance(len(data))


def _put_block_list(client, target: BlobTarget, blob: str, ids: List[str]) -> None:
    body = ('<?xml version="1.0" encoding="utf-8"?><BlockList>'
            + "".join(f"<Latest>{i}</Latest>" for i in ids) + "</BlockList>").encode()
    client.put_blob(target.url(blob, "comp=blocklist"), body, {
        "x-ms-version": STORAGE_VERSION, "Content-Type": "application/xml", "Content-MD5": _md5(body),
        "x-ms-blob-content-type": "application/octet-stream"}, auth=target.auth)


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
