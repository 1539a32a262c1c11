"""Job inputs and outputs as local paths: URIs and asset ids resolved to the workspace's blob folders.

Public data (`https://` and anonymous blob storage) is fetched into a cache first (public_data.py);
a `direct` input of it is its URL. Input modes: `download` gives a writable copy, `direct` (and `rw_mount`) the path itself, and
`ro_mount` (the default for files and folders, also `eval_mount`) a copy whose files are mode 0444
and folders 0555 under the job's `inputs/`. A copy, not a symlink or hard links: a symlink lets the
job write through to the original, and hard links share the original's inode (its content and its
mode). Read-only bind mounts would need privileges a local tool does not have. A process running
as root ignores the modes, but still only ever touches the copy, so the original stays intact.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cli.redact import redact
from cli.local import ids
from cli.local.runner.errors import JobError
from cli.local.runner.public_data import is_public

READ_ONLY_MODES = {None, "ReadOnlyMount", "EvalMount"}
COPY_MODES = {"Download", "EvalDownload"}
DIRECT_MODES = {"Direct", "ReadWriteMount"}
_DATASTORE_URI = re.compile(r"^azureml://(?:subscriptions/[^/]+/resourcegroups/[^/]+/workspaces/[^/]+/)?"
                            r"datastores/(?P<ds>[^/]+)/paths/(?P<path>.*)$", re.IGNORECASE)
_JOB_OUTPUT = re.compile(r"^azureml://jobs/(?P<job>[^/]+)/outputs/(?P<name>[^/]+)(?:/paths/(?P<path>.*))?$")
_ASSET_ID = re.compile(r"/(?P<kind>data|models)/(?P<name>[^/]+)/versions/(?P<version>[^/]+)$", re.IGNORECASE)


ARTIFACT_OUTPUTS = ("artifacts", "default")  # a job's artifact root, as outputs (the SDK calls it "default")


def default_output_uri(job: str, name: str) -> str:
    return f"azureml://datastores/{ids.DEFAULT_DATASTORE}/paths/azureml/{job}/{name}/"


class DataResolver:
    """Local paths of the URIs a job body carries, in one local workspace (public data: its cached copy)."""

    def __init__(self, service, log=lambda message: None):
        self.service = service
        self.log = log

    def public(self, uri: str, kind: str | None) -> Path:
        from cli.local.runner.public_data import PublicDataCache

        return PublicDataCache(Path(self.service.home) / "cache" / "public-data", self.log).fetch(uri, kind)

    def datastore_path(self, datastore: str, path: str) -> Path:
        if self.service.store.get(self.service.arm_id("datastores", datastore)) is None:
            raise JobError(f"datastore '{datastore}' does not exist in this workspace")
        from cli import names

        reason = names.problem("datastore", datastore)
        if reason:
            raise JobError(reason)
        path = unquote(path).strip("/")
        root = (self.service.blobs.root / datastore).resolve()
        try:
            full = (root / path).resolve() if path else root  # links followed: where the data really is
        except RuntimeError:
            raise JobError(f"path '{path}' of datastore '{datastore}' is a symlink loop") from None
        if full != root and root not in full.parents:
            raise JobError(f"path '{path}' leaves datastore '{datastore}'")
        return full

    def local_path(self, uri: str, kind: str | None = None) -> Path:
        """Where the data of `uri` (blob URL, azureml:// URI, data/model asset id, local path, public
        URL of a `kind` of data) lives."""
        uri = uri.strip()
        if is_public(uri, ids.BLOB_HOST):
            return self.public(uri, kind)
        if match := _DATASTORE_URI.match(uri):
            return self.datastore_path(match["ds"], match["path"])
        if match := _JOB_OUTPUT.match(uri):
            base = self.artifacts_output(match["job"], match["name"]) or \
                self.local_path(self.job_output_uri(match["job"], match["name"]))
            if not match["path"]:
                return base
            full = (base / unquote(match["path"])).resolve()
            if full != base.resolve() and base.resolve() not in full.parents:
                raise JobError(f"path '{match['path']}' leaves the output '{match['name']}' of job '{match['job']}'")
            return full
        if uri.startswith(("https://", "http://")):
            return self._blob_url(uri)
        if uri.startswith("azureml:") and not uri.startswith("azureml://"):
            return self._asset(uri[len("azureml:"):])
        if uri.startswith("/subscriptions/"):
            return self._asset(uri)
        if uri.startswith("file://"):
            return Path(unquote(urlsplit(uri).path))
        if os.path.isabs(uri):
            return Path(uri)
        raise JobError(f"cannot use '{uri}' as job data on the local workspace")

    def _blob_url(self, url: str) -> Path:
        parts = urlsplit(url)
        host, path = parts.hostname or "", parts.path
        if host.endswith("." + ids.BLOB_HOST):
            host, path = ids.BLOB_HOST, f"/{host.split('.', 1)[0]}{path}"
        pieces = path.strip("/").split("/", 2)
        if host != ids.BLOB_HOST or len(pieces) < 2 or pieces[0].lower() != self.service.workspace.lower():
            raise JobError(f"cannot read '{redact(url)}': it is not in this local workspace")
        from cli.local.blobs import BlobError

        try:
            datastore = self.service.blobs.datastore_for_container(pieces[1])
        except BlobError:
            raise JobError(f"no local datastore has the blob container of '{redact(url)}'") from None
        return self.datastore_path(datastore, pieces[2] if len(pieces) > 2 else "")

    def _asset(self, ref: str) -> Path:
        store = self.service.store
        if not ref.startswith("/"):
            name, _, version = ref.partition(":")
            if not version:
                raise JobError(f"'azureml:{ref}' names no version")
            record = store.get(self.service.arm_id("data", name, "versions", version)) or \
                store.get(self.service.arm_id("models", name, "versions", version))
        else:
            record = store.get(ref) if _ASSET_ID.search(ref) else None
        if record is None:
            match = _ASSET_ID.search(ref)
            name, version = (match["name"], match["version"]) if match else ref.partition(":")[::2]
            raise JobError(f"data asset or model '{name}' version {version} does not exist in this workspace;"
                           f" ml data list and ml model list show the ones there are")
        props = record.body["properties"]
        uri = props.get("dataUri") or props.get("modelUri")
        if not uri:
            raise JobError(f"asset '{ref}' has no data or model URI")
        return self.local_path(uri, props.get("dataType") or props.get("modelType"))

    def artifacts_output(self, job: str, name: str) -> Path | None:
        """A job's `artifacts` output with no place of its own is its artifact root (what it wrote to
        ./outputs and ./logs), as a pipeline step reads it on Azure; None for any other output."""
        if name not in ARTIFACT_OUTPUTS:
            return None
        record = self.service.store.get(self.service.arm_id("jobs", job))
        output = ((record.body["properties"].get("outputs") or {}).get(name) if record else None) or {}
        if record is None or output.get("uri"):
            return None
        from cli.local.runner.state import JobFolder

        return JobFolder.of(self.service.home, self.service.workspace, job).artifacts

    def job_output_uri(self, job: str, name: str) -> str:
        record = self.service.store.get(self.service.arm_id("jobs", job))
        if record is None:
            raise JobError(f"job '{job}' (named in azureml://jobs/{job}/outputs/{name}) does not exist")
        output = (record.body["properties"].get("outputs") or {}).get(name)
        if output is None:
            raise JobError(f"job '{job}' has no output '{name}'")
        return output.get("uri") or default_output_uri(job, name)


def prepare_input(resolver: DataResolver, name: str, spec: dict, inputs_dir: Path) -> str:
    """The value `${{inputs.<name>}}` binds to: a literal's value or a local path made per its mode."""
    if spec.get("jobInputType") == "literal":
        return str(spec.get("value", ""))
    mode = spec.get("mode")
    if mode in DIRECT_MODES and is_public(spec["uri"], ids.BLOB_HOST):
        return spec["uri"]  # as on Azure: a direct input is its URL, read by the job itself
    source = resolver.local_path(spec["uri"], spec.get("jobInputType"))
    if not source.exists():
        raise JobError(f"input '{name}': {redact(spec['uri'])} does not exist (looked at {source})")
    if mode in DIRECT_MODES:
        return str(source)
    if mode not in READ_ONLY_MODES | COPY_MODES:
        raise JobError(f"input '{name}': mode {mode} is not supported locally")
    target = inputs_dir / name / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=False, ignore=_links_out_and_loops(source))
    else:
        shutil.copy2(source, target)
    if mode in READ_ONLY_MODES:
        _set_read_only(target)
    return str(target)


def _links_out_and_loops(source: Path):
    """A copytree `ignore`: links leading out of `source` or back to a folder above them, and FIFOs,
    sockets and devices (the copy would block on them) stay behind."""
    root = os.path.realpath(source)

    def ignore(folder: str, entries: list) -> set:
        here = os.path.realpath(folder)
        skipped = set()
        for entry in entries:
            path = os.path.join(folder, entry)
            real = os.path.realpath(path)
            if os.path.islink(path) and (not (real == root or real.startswith(root + os.sep))
                                         or here == real or here.startswith(real + os.sep)):
                skipped.add(entry)
            elif not (os.path.isdir(real) or os.path.isfile(real)):
                skipped.add(entry)  # dangling links, FIFOs, sockets, devices
        return skipped

    return ignore


def _set_read_only(path: Path) -> None:
    if path.is_file():
        path.chmod(0o444)
        return
    for folder, dirs, files in os.walk(path, topdown=False):
        for file in files:
            os.chmod(os.path.join(folder, file), 0o444)
        os.chmod(folder, 0o555)


def remove_inputs(inputs_dir: Path) -> None:
    """Delete the job's input copies, read-only ones included."""
    if not inputs_dir.exists():
        return
    for folder, dirs, files in os.walk(inputs_dir):
        os.chmod(folder, stat.S_IRWXU)
    shutil.rmtree(inputs_dir, ignore_errors=True)


def output_uri(job: str, name: str, spec: dict) -> str:
    """The URI of an output's data: its `uri`, else its default folder (a uri_file: the file in it)."""
    if spec.get("uri"):
        return spec["uri"]
    folder = default_output_uri(job, name)
    return folder + name if spec.get("jobOutputType") == "uri_file" else folder


def prepare_output(resolver: DataResolver, job: str, name: str, spec: dict) -> tuple[str, str]:
    """(local path `${{outputs.<name>}}` binds to, the output's URI): created empty and writable."""
    uri = output_uri(job, name, spec)
    path = resolver.local_path(uri)
    if spec.get("jobOutputType") == "uri_file":
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        path.mkdir(parents=True, exist_ok=True)
    return str(path), uri
