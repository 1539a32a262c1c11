"""Blob storage of the local workspace on disk, and the SAS tokens that grant access to it.

Layout under `<workspace>/blobs/`: `<datastore>/<path>` holds committed blobs only; `.meta/<datastore>/
<path>.json` their metadata; `.staging/` uncommitted blocks and partial writes. A blob becomes
visible by one os.replace, so an upload killed halfway leaves nothing at its path, and what it
staged is removed by the next BlobStore once its owner process is gone.

Every path built from a request is resolved and must stay inside its datastore's folder: a blob
name with '.', '..', '\\' or NUL is refused, and a symlink (a job may write one into an output) is
followed only when it leads to a place inside that folder, or, for the run-history links
`ExperimentRun/dcid.<job>`, inside the workspace's jobs folder. Listing never loops.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import stat
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable

from cli import names
from cli.local import ids
from cli.local.http import ApiError
from cli.local.store import Store

SAS_VERSION = "2025-01-05"
CHUNK = 1 << 20


class BlobError(ApiError):
    """The wire error in Azure Storage's shape: an XML <Error>, and the code in x-ms-error-code."""

    content_type = "application/xml"

    def __init__(self, status: int, code: str, message: str, detail: str | None = None):
        super().__init__(status, code, message, headers={"x-ms-error-code": code})
        self.detail = detail

    def encode(self) -> bytes:
        from xml.sax.saxutils import escape

        detail = (f"<AuthenticationErrorDetail>{escape(self.detail)}</AuthenticationErrorDetail>"
                  if self.detail else "")
        return (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{self.code}</Code>'
                f"<Message>{escape(self.message)}</Message>{detail}</Error>").encode()


RUN_LINKS = "ExperimentRun/dcid."  # blob prefix of the links to job folders (handlers/history.py)


def _check_path(path: str) -> str:
    reason = names.relative_path_problem(path, what="blob name")
    if reason or not path or "" in path.split("/"):
        raise BlobError(400, "InvalidUri", f"The blob name {path!r} is not valid here"
                        + (f": {reason}." if reason else "."))
    return path


def _check_prefix(prefix: str) -> str:
    """A list prefix: its folders must be safe; the last part may be any start of a name."""
    folders = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
    reason = names.relative_path_problem(prefix, what="prefix")
    if reason or "" in folders.split("/")[1:] or (folders and not folders.split("/")[0]):
        raise BlobError(400, "InvalidQueryParameterValue", f"The prefix {prefix!r} is not valid here"
                        + (f": {reason}." if reason else "."))
    return prefix


def _inside(path: Path | None, root: Path) -> bool:
    return path is not None and (path == root or root in path.parents)


def _resolved(path: Path) -> Path | None:
    """`path` with every symlink followed; None for a link loop."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    return True


class BlobStore:
    def __init__(self, root: Path, store: Store, workspace: str):
        self.root, self.store, self.workspace = Path(root), store, workspace
        self._secret: bytes | None = None
        self.clean_staging()

    def clean_staging(self) -> None:
        """Remove what killed uploads left in `.staging/`: partial writes and staged blocks whose writer is gone."""
        staging = self.root / ".staging"
        try:
            entries = list(staging.iterdir())
        except OSError:
            return  # nothing staged yet, or a read-only workspace
        for entry in entries:
            try:
                if entry.name.startswith("tmp-") and entry.is_file():
                    owner = entry.name.split("-")[1]
                    if owner.isdigit() and not _pid_alive(int(owner)):
                        entry.unlink()
                elif entry.is_dir() and not entry.is_symlink():
                    for blocks in entry.iterdir():
                        owners = [int(p.name.rsplit(".", 1)[1]) for p in blocks.glob(".owner.*")
                                  if p.name.rsplit(".", 1)[1].isdigit()]
                        if owners and not any(map(_pid_alive, owners)):
                            shutil.rmtree(blocks, ignore_errors=True)
            except OSError:
                continue  # another process may be cleaning the same entry

    # ---- datastores <-> containers

    def ensure_default_datastore(self) -> None:
        """Create the `workspaceblobstore` (and `workspaceartifactstore`) datastore resources on first use.

        One made identity-based by an older version is made key-based: clients would ask for a token."""
        from cli.local.handlers.datastores import DEFAULT_CREDENTIALS, artifact_store_body, default_datastore_body

        ds_id = f"{ids.workspace_id(self.workspace)}/datastores/{ids.DEFAULT_DATASTORE}"
        artifacts_id = f"{ids.workspace_id(self.workspace)}/datastores/{ids.ARTIFACT_DATASTORE}"
        if self.store.get(artifacts_id) is None:  # every Azure workspace has both
            with self.store.transaction() as conn:
                if self.store.get(artifacts_id, conn) is None:
                    self.store.upsert(conn, artifacts_id, "datastores", ids.workspace_id(self.workspace),
                                      ids.ARTIFACT_DATASTORE, artifact_store_body(self.workspace))

        def current(record) -> bool:
            return record is not None and (record.body["properties"].get("credentials") or {}).get(
                "credentialsType") != "None"

        if current(self.store.get(ds_id)):
            return
        with self.store.transaction() as conn:
            record = self.store.get(ds_id, conn)
            if current(record):
                return
            body = default_datastore_body(self.workspace) if record is None else {
                **record.body, "properties": {**record.body["properties"], "credentials": DEFAULT_CREDENTIALS}}
            self.store.upsert(conn, ds_id, "datastores", ids.workspace_id(self.workspace), ids.DEFAULT_DATASTORE, body)

    def datastore_for_container(self, container: str) -> str:
        """Name of the local datastore whose blob container is `container`."""
        for record in self.store.list("datastores", ids.workspace_id(self.workspace)):
            props = record.body["properties"]
            if (props.get("containerName") == container and props.get("accountName") == self.workspace
                    and props.get("endpoint") == ids.BLOB_ENDPOINT_SUFFIX):
                return record.name
        raise BlobError(404, "ContainerNotFound", "The specified container does not exist.")

    def _datastore_root(self, datastore: str) -> Path:
        reason = names.problem("datastore", datastore)
        if reason:
            raise BlobError(400, "InvalidResourceName",
                            f"The specified resource name contains invalid characters: {reason}.")
        return self.root / datastore

    def _allowed(self, datastore: str, blob: str) -> list[Path]:
        """The resolved folders a blob's path may lead into (through symlinks too)."""
        roots = [self._datastore_root(datastore).resolve()]
        if blob.startswith(RUN_LINKS):
            roots.append((self.root.parent / "jobs").resolve())
        return roots

    def path(self, datastore: str, blob: str) -> Path:
        """The file of `blob`, resolved: inside its datastore folder (or a job folder through a run link), else 400."""
        candidate = self._datastore_root(datastore) / _check_path(blob)
        resolved = _resolved(candidate)
        if resolved is None or not any(_inside(resolved, root) for root in self._allowed(datastore, blob)):
            raise BlobError(400, "InvalidUri", f"The blob name '{blob}' leads outside its container.")
        return resolved

    def _meta_path(self, datastore: str, blob: str) -> Path:
        root = (self.root / ".meta" / self._datastore_root(datastore).name).resolve()
        path = _resolved(root / (_check_path(blob) + ".json"))
        if path is None or not _inside(path, root):
            raise BlobError(400, "InvalidUri", f"The blob name '{blob}' leads outside its container.")
        return path

    def _staging(self, datastore: str, blob: str) -> Path:
        return self.root / ".staging" / datastore / hashlib.sha256(blob.encode()).hexdigest()

    # ---- SAS

    def _key(self) -> bytes:
        if self._secret is None:
            self._secret = self.store.secret()
        return self._secret

    def _signature(self, container: str, prefix: str, fields: dict[str, str]) -> str:
        resource = f"/{self.workspace}/{container}/{prefix}".rstrip("/")
        text = "\n".join((fields["sp"], fields["se"], resource, fields["sv"], fields["sr"]))
        digest = hmac.new(self._key(), text.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def bearer_token(self) -> str:
        """The workspace's storage bearer token: derived from its signing key, never stored."""
        digest = hmac.new(self._key(), f"bearer:{self.workspace}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sas_query(self, container: str, prefix: str = "", *, hours: float = 24.0,
                  permissions: str = "racwdl") -> str:
        """A SAS query string granting `permissions` on blobs under `<container>/<prefix>`."""
        from urllib.parse import urlencode

        expiry = (datetime.now(timezone.utc) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
        depth = len(prefix.strip("/").split("/")) if prefix.strip("/") else 0
        fields = {"sv": SAS_VERSION, "sr": "d" if depth else "c", "sp": permissions, "se": expiry}
        if depth:
            fields["sdd"] = str(depth)
        fields["sig"] = self._signature(container, prefix.strip("/"), fields)
        return urlencode(fields)

    def authorize(self, container: str, blob: str, query: dict[str, str], headers, permission: str) -> None:
        """Raise BlobError unless the SAS in `query` (or a bearer token) grants `permission` on the blob."""
        if "sig" not in query:
            scheme, _, token = headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer":  # identity-based access (credentialsType None): this workspace's token
                if hmac.compare_digest(token.strip().encode(), self.bearer_token().encode()):
                    return
                raise BlobError(401, "InvalidAuthenticationInfo", "Server failed to authenticate the request."
                                " Please refer to the information in the www-authenticate header.",
                                "The bearer token is not valid for this workspace.")
            raise BlobError(401, "NoAuthenticationInformation",
                            "Server failed to authenticate the request. Please refer to the information in"
                            " the www-authenticate header.")
        failed = ("Server failed to authenticate the request. Make sure the value of Authorization header"
                  " is formed correctly including the signature.")
        try:
            fields = {k: query[k] for k in ("sv", "sr", "sp", "se")}
            depth = int(query.get("sdd", "0")) if fields["sr"] == "d" else 0
            expiry = datetime.strptime(fields["se"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except (KeyError, ValueError):
            raise BlobError(403, "AuthenticationFailed", failed, "The SAS is missing or has a malformed"
                            " sv, sr, sp, se or sdd field.") from None
        prefix = "/".join(blob.split("/")[:depth]) if depth else ""
        expected = self._signature(container, prefix, fields)
        if not hmac.compare_digest(expected, query["sig"]) or (depth and blob.count("/") < depth):
            raise BlobError(403, "AuthenticationFailed", failed,
                            f"Signature did not match. String to sign used was for"
                            f" /{self.workspace}/{container}/{prefix}")
        if expiry <= datetime.now(timezone.utc):
            raise BlobError(403, "AuthenticationFailed", failed,
                            f"Signed expiry time [{fields['se']}] has to be after the current time.")
        if permission not in fields["sp"]:
            raise BlobError(403, "AuthorizationPermissionMismatch",
                            "This request is not authorized to perform this operation using this permission.")

    # ---- blobs

    def properties(self, datastore: str, blob: str) -> dict | None:
        """Size, ETag, times, MD5 and metadata of a committed blob, or None."""
        path = self.path(datastore, blob)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not path.is_file():
            return None
        try:
            meta = json.loads(self._meta_path(datastore, blob).read_text())
        except (OSError, ValueError):
            meta = {}
        return {"size": stat.st_size, "etag": f'"0x{stat.st_mtime_ns:X}"', "mtime": stat.st_mtime,
                "md5": meta.get("md5"), "metadata": meta.get("metadata", {})}

    def read(self, datastore: str, blob: str, start: int = 0, length: int | None = None) -> bytes:
        """The blob's bytes, or only `length` of them from `start` (a log tail never loads the whole log)."""
        with open(self.path(datastore, blob), "rb") as handle:
            handle.seek(start)
            return handle.read() if length is None else handle.read(length)

    def _commit(self, datastore: str, blob: str, tmp: Path, md5: str, metadata: dict[str, str]) -> None:
        final, meta = self.path(datastore, blob), self._meta_path(datastore, blob)
        final.parent.mkdir(parents=True, exist_ok=True)
        meta.unlink(missing_ok=True)  # old metadata must never describe the new content
        os.replace(tmp, final)
        self._write_meta(datastore, blob, {"md5": md5, "metadata": metadata})

    def _write_meta(self, datastore: str, blob: str, meta: dict) -> None:
        path = self._meta_path(datastore, blob)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, path)

    def _tmp(self) -> Path:
        tmp = self.root / ".staging" / f"tmp-{os.getpid()}-{uuid.uuid4().hex}"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        return tmp

    def put_blob(self, datastore: str, blob: str, chunks: Iterable[bytes], metadata: dict[str, str],
                 content_md5: str | None = None) -> str:
        """Write a whole blob from `chunks`; it appears only once complete. Returns its base64 MD5."""
        self.path(datastore, blob)
        tmp, digest = self._tmp(), hashlib.md5()
        try:
            with open(tmp, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
            md5 = base64.b64encode(digest.digest()).decode()
            if content_md5 and content_md5 != md5:
                raise BlobError(400, "Md5Mismatch", "The MD5 value specified in the request did not match"
                                " with the MD5 value calculated by the server.")
            self._commit(datastore, blob, tmp, md5, metadata)
            return md5
        finally:
            tmp.unlink(missing_ok=True)

    def put_block(self, datastore: str, blob: str, block_id: str, data: bytes) -> None:
        self.path(datastore, blob)
        staging = self._staging(datastore, blob)
        staging.mkdir(parents=True, exist_ok=True)
        (staging / f".owner.{os.getpid()}").touch()  # so a later start can tell a dead upload from a live one
        name = hashlib.sha256(block_id.encode()).hexdigest()
        tmp = staging / f".{name}.{uuid.uuid4().hex}"
        tmp.write_bytes(data)
        os.replace(tmp, staging / name)

    def put_block_list(self, datastore: str, blob: str, block_ids: list[str], metadata: dict[str, str]) -> str:
        """Commit staged blocks in the given order as the blob's content; returns its base64 MD5."""
        staging = self._staging(datastore, blob)
        parts = [staging / hashlib.sha256(b.encode()).hexdigest() for b in block_ids]
        missing = [b for b, p in zip(block_ids, parts) if not p.is_file()]
        if missing:
            raise BlobError(400, "InvalidBlockList", f"The specified block list is invalid: block"
                            f" '{missing[0]}' was never staged.")

        def chunks():
            for part in parts:
                with open(part, "rb") as f:
                    while data := f.read(CHUNK):
                        yield data

        md5 = self.put_blob(datastore, blob, chunks(), metadata)
        shutil.rmtree(staging, ignore_errors=True)
        return md5

    def set_metadata(self, datastore: str, blob: str, metadata: dict[str, str]) -> None:
        props = self.properties(datastore, blob)
        if props is None:
            raise BlobError(404, "BlobNotFound", "The specified blob does not exist.")
        self._write_meta(datastore, blob, {"md5": props["md5"], "metadata": metadata})

    def delete(self, datastore: str, blob: str) -> None:
        if self.properties(datastore, blob) is None:
            raise BlobError(404, "BlobNotFound", "The specified blob does not exist.")
        self._meta_path(datastore, blob).unlink(missing_ok=True)
        self.path(datastore, blob)  # checked; the name itself is removed, a link rather than what it points at
        (self._datastore_root(datastore) / blob).unlink()

    def list(self, datastore: str, prefix: str = "") -> list[str]:
        """Names of committed blobs (regular files) under `prefix`, sorted.

        The walk starts at the prefix's folder, not the datastore's root. It follows a symlink only
        into the allowed folders (see `path`; the run-history links lead to job folders), and
        enters each real folder once, so a link loop ends."""
        _check_prefix(prefix)
        base = self._datastore_root(datastore)
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        try:
            start = self.path(datastore, folder) if folder else base.resolve()
        except BlobError:
            return []  # a prefix leading out of the container lists nothing
        if not start.is_dir():
            return []
        found: list[str] = []
        self._walk(datastore, start, folder, prefix, found, {start})
        return sorted(found)

    def _walk(self, datastore: str, folder: Path, relative: str, prefix: str, found: list, seen: set) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            name = f"{relative}/{entry.name}" if relative else entry.name
            if not (name.startswith(prefix) or prefix.startswith(name + "/")):
                continue
            target = Path(entry.path)
            if entry.is_symlink():
                target = _resolved(target)
                if target is None or not any(_inside(target, root) for root in self._allowed(datastore, name)):
                    continue  # a link out of the container is not a blob
            try:
                mode = target.stat().st_mode
            except OSError:
                continue  # dangling
            if stat.S_ISDIR(mode):
                real = _resolved(target)
                if real is not None and real not in seen:
                    self._walk(datastore, real, name, prefix, found, seen | {real})
            elif stat.S_ISREG(mode) and name.startswith(prefix):
                found.append(name)
