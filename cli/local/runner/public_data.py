"""Public data for local jobs: `https://` files and anonymous Azure blob files and folders
(`wasbs://<container>@<account>.blob.core.windows.net/<path>`, `https://<account>.blob.core.windows.net/
<container>/<path>`), fetched once into a cache under `$ML_HOME/cache/public-data/`.

The cache is keyed by the URL (one folder per URL, named by its hash) and by the version of what it
names (a sub-folder per version: the ETag, else Last-Modified, of a file; the names and ETags of a
folder's blobs). Every use asks the server again, conditionally for a file (If-None-Match /
If-Modified-Since: 304 means the cached copy is current), by listing for a folder (List Blobs
`?restype=container&comp=list&prefix=` answers each blob's ETag); a changed version is fetched anew
into a scratch folder and renamed into place, so jobs racing for one URL never see half a copy.
Offline (the connection fails within CONNECT_TIMEOUT), a cached copy is used and said so; without one
the job fails with one line naming the URL. URLs are only ever printed redacted (a SAS `sig=`).

Tests stand a loopback server in for public storage: ML_PUBLIC_DATA_HOSTS maps host names to base URLs,
`account.blob.core.windows.net=http://127.0.0.1:8123,...`; the original host still decides how a URL
is read (a blob host can list folders).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlsplit
from xml.etree import ElementTree

from cli.redact import redact
from cli.local.runner.errors import JobError

HOSTS_VARIABLE = "ML_PUBLIC_DATA_HOSTS"
CONNECT_TIMEOUT = 5.0  # seconds: offline should be one line soon, not a long hang
READ_TIMEOUT = 120.0
BLOB_HOST_MARK = ".blob.core."  # <account>.blob.core.windows.net and the sovereign clouds' hosts
FOLDER_TYPES = {"uri_folder", "mltable", "custom_model", "mlflow_model", "triton_model"}


def is_public(uri: str, local_blob_host: str) -> bool:
    """Whether `uri` names data on the network rather than in the local workspace."""
    if uri.startswith(("wasbs://", "wasb://")):
        return True
    if not uri.startswith(("https://", "http://")):
        return False
    host = (urlsplit(uri).hostname or "").lower()
    return not (host == local_blob_host or host.endswith("." + local_blob_host))


@dataclass(frozen=True)
class PublicLocation:
    url: str  # the https URL (a wasbs:// URI rewritten), SAS query included
    blob: tuple[str, str, str] | None  # (account URL, container, blob path) on Azure blob storage

    @classmethod
    def of(cls, uri: str) -> "PublicLocation":
        parts = urlsplit(uri)
        if parts.scheme in ("wasbs", "wasb"):
            container, _, account_host = parts.netloc.partition("@")
            if not container or not account_host:
                raise JobError(f"'{redact(uri)}' is not a wasbs://<container>@<account host>/<path> URI")
            scheme = "https" if parts.scheme == "wasbs" else "http"
            uri = f"{scheme}://{account_host}/{container}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
            parts = urlsplit(uri)
        host = (parts.hostname or "").lower()
        blob = None
        if BLOB_HOST_MARK in host:
            container, _, path = parts.path.lstrip("/").partition("/")
            if container:
                blob = (f"{parts.scheme}://{parts.netloc}", unquote(container), unquote(path))
        return cls(uri, blob)

    @property
    def name(self) -> str:
        """The last segment of the path: what the cached file or folder is called."""
        path = self.blob[2] if self.blob else unquote(urlsplit(self.url).path)
        return PurePosixPath(path.rstrip("/")).name or (self.blob[1] if self.blob else "data")


class PublicDataCache:
    """Fetch public files and folders into `root`, one folder per URL, one sub-folder per version."""

    def __init__(self, root: Path, log=lambda message: None):
        self.root, self.log = Path(root), log

    def fetch(self, uri: str, kind: str | None) -> Path:
        """The local copy of `uri`: a file (uri_file) or a folder (the folder kinds)."""
        import httpx

        location = PublicLocation.of(uri)
        shown = redact(uri)
        entry = self.root / hashlib.sha256(location.url.encode()).hexdigest()[:32]
        cached = _current(entry)
        folder = kind in FOLDER_TYPES or (kind is None and location.url.split("?")[0].endswith("/"))
        try:
            with httpx.Client(timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
                              follow_redirects=True) as client:
                if folder:
                    if not location.blob:
                        raise JobError(f"cannot read the folder {shown}: only folders on Azure blob storage can be"
                                       " listed; give a file URL (type: uri_file)")
                    return self._folder(client, location, entry, cached, shown)
                return self._file(client, location, entry, cached, shown)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if cached is not None:
                self.log(f"cannot reach {shown} ({_reason(exc)}): using the copy cached on {cached['fetched']}")
                return entry / cached["version"] / location.name
            raise JobError(f"cannot reach {shown} to fetch it ({_reason(exc)}); local jobs need the network"
                           " for public data once, then use their cached copy") from None
        except httpx.HTTPError as exc:
            raise JobError(f"fetching {shown} failed: {redact(_reason(exc))}") from None

    # ---- one file

    def _file(self, client, location: PublicLocation, entry: Path, cached: dict | None, shown: str) -> Path:
        headers = {}
        if cached is not None:
            headers = {k: v for k, v in (("If-None-Match", cached.get("etag")),
                                         ("If-Modified-Since", cached.get("last_modified"))) if v}
        with client.stream("GET", _routed(location.url), headers=headers) as answer:
            if answer.status_code == 304 and cached is not None:
                self.log(f"using the cached copy of {shown} (unchanged: {cached['version'][:12]})")
                return entry / cached["version"] / location.name
            _check(answer, shown)
            etag, modified = answer.headers.get("etag"), answer.headers.get("last-modified")
            version = _version(etag or modified or answer.headers.get("content-length", ""), location.url)
            scratch = self._scratch(entry)
            with open(scratch / location.name, "wb") as out:
                for chunk in answer.iter_bytes():
                    out.write(chunk)
        self.log(f"fetched {shown}")
        return self._publish(entry, scratch, version, {"etag": etag, "last_modified": modified}) / location.name

    # ---- a folder of blobs

    def _folder(self, client, location: PublicLocation, entry: Path, cached: dict | None, shown: str) -> Path:
        account, container, path = location.blob
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        sas = urlsplit(location.url).query
        blobs = _list_blobs(client, f"{account}/{quote(container)}", prefix, sas, shown)
        if not blobs:
            raise JobError(f"{shown} holds no files (or its container does not allow anonymous listing)")
        version = _version(json.dumps(sorted(blobs.items())), location.url)
        if cached is not None and cached["version"] == version:
            self.log(f"using the cached copy of {shown} (unchanged: {len(blobs)} files)")
            return entry / version / location.name
        scratch = self._scratch(entry)
        before = (cached or {}).get("blobs") or {}
        fetched = 0
        for name in sorted(blobs):
            relative = name[len(prefix):]
            if not relative or ".." in relative.split("/") or relative.startswith("/"):
                continue  # a name that would leave the folder is not copied
            target = scratch / location.name / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if blobs[name] and before.get(name) == blobs[name]:
                try:  # unchanged since the cached version: reuse its copy
                    shutil.copy2(entry / cached["version"] / location.name / relative, target)
                    continue
                except OSError:
                    pass
            fetched += 1
            url = f"{account}/{quote(container)}/{quote(name, safe='/~')}" + (f"?{sas}" if sas else "")
            with client.stream("GET", _routed(url)) as answer:
                _check(answer, redact(url))
                with open(target, "wb") as out:
                    for chunk in answer.iter_bytes():
                        out.write(chunk)
        (scratch / location.name).mkdir(exist_ok=True)
        self.log(f"fetched {fetched} of the {len(blobs)} files of {shown}")
        return self._publish(entry, scratch, version, {"blobs": blobs}) / location.name

    # ---- the cache folders

    def _scratch(self, entry: Path) -> Path:
        entry.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".fetch-", dir=entry))

    def _publish(self, entry: Path, scratch: Path, version: str, validators: dict) -> Path:
        """Rename the scratch folder to its version (another job may have won: use its copy) and
        record it as the current one; older versions go."""
        from cli.local.store import utcnow

        final = entry / version
        try:
            os.rename(scratch, final)
        except OSError:  # the same version is already there
            shutil.rmtree(scratch, ignore_errors=True)
        meta = {"version": version, "fetched": utcnow(), **validators}
        tmp = entry / f".current.{os.getpid()}.json"
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, entry / "current.json")
        for old in entry.iterdir():
            if old.is_dir() and old.name != version and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)  # a job still copying from it keeps its open files
        return final


def _current(entry: Path) -> dict | None:
    try:
        meta = json.loads((entry / "current.json").read_text())
    except (OSError, ValueError):
        return None
    return meta if (entry / meta.get("version", "-")).is_dir() else None


def _version(validator: str, url: str) -> str:
    return hashlib.sha256(f"{url}\n{validator}".encode()).hexdigest()[:32]


def _list_blobs(client, container_url: str, prefix: str, sas: str, shown: str) -> dict[str, str]:
    """{blob name: its ETag, else Last-Modified} of every blob under `prefix` (List Blobs, paged)."""
    found, marker = {}, ""
    while True:
        query = f"restype=container&comp=list&prefix={quote(prefix, safe='')}"
        query += (f"&marker={quote(marker, safe='')}" if marker else "") + (f"&{sas}" if sas else "")
        answer = client.get(_routed(f"{container_url}?{query}"))
        _check(answer, shown)
        try:
            root = ElementTree.fromstring(answer.content)
        except ElementTree.ParseError:
            raise JobError(f"listing {shown} gave no blob list") from None
        for blob in root.iter("Blob"):
            name = blob.findtext("Name") or ""
            props = blob.find("Properties")
            stamp = ""
            if props is not None:
                stamp = props.findtext("Etag") or props.findtext("Last-Modified") or ""
            if name and not name.endswith("/"):
                found[name] = stamp
        marker = (root.findtext("NextMarker") or "").strip()
        if not marker:
            return found


def _check(answer, shown: str) -> None:
    if answer.status_code >= 400:
        what = {404: "does not exist", 403: "is not public (403)", 401: "is not public (401)"}.get(
            answer.status_code, f"answered HTTP {answer.status_code}")
        raise JobError(f"{shown} {what}")


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _routes() -> dict[str, str]:
    routes = {}
    for pair in os.environ.get(HOSTS_VARIABLE, "").split(","):
        host, _, base = pair.partition("=")
        if host.strip() and base.strip():
            routes[host.strip().lower()] = base.strip().rstrip("/")
    return routes


def _routed(url: str) -> str:
    """`url` with its scheme and host replaced by the base ML_PUBLIC_DATA_HOSTS maps its host to."""
    parts = urlsplit(url)
    base = _routes().get((parts.hostname or "").lower())
    if not base:
        return url
    return base + parts.path + (f"?{parts.query}" if parts.query else "")
