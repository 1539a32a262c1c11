"""Reading an asset's files back from its datastore: list the blobs under its URI and fetch them.

Access is through a SAS from the datastore's listSecrets (the local workspace grants one for its
own blob store); identity-based Azure datastores are not readable this way yet.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path, PurePosixPath
from typing import Iterable, List, Optional, Tuple
from urllib.parse import quote, unquote
from xml.etree import ElementTree

from cli.errors import MLError, UsageError


def download(client, uri: str, destination: Path, *, overwrite: bool = False) -> List[Path]:
    """Copy the file or folder at `uri` into `destination` (a folder keeps its own name).

    Nothing is written when a file would be overwritten without `overwrite`, or a blob name would
    leave `destination` or pass through a symlink already there (see `target_in`)."""
    base, sas, prefix = _locate(client, uri)
    names = [n for n in _list(client, base, sas, prefix) if n == prefix or n.startswith(prefix + "/")]
    parent = str(PurePosixPath(prefix).parent)
    relatives = [name[len(parent) + 1:] if parent not in ("", ".") else name for name in names]
    targets = check_targets(destination, relatives, overwrite=overwrite)
    for name, target in zip(names, targets):
        client.save_blob(f"{base}/{quote(name, safe='/~')}?{sas}", lambda chunks, to=target: write_file(to, chunks))
    return targets


def target_in(destination: Path, relative: str, *, overwrite: bool) -> Path:
    """`destination/relative`, or MLError: a name with '.', '..', '\\' or an absolute path; a symlink
    on the way below `destination` (it would carry the write elsewhere); an existing non-file; an
    existing file without `overwrite` (az's flag)."""
    from cli import names

    reason = names.relative_path_problem(relative, what="file name")
    if reason or not relative or "" in relative.split("/"):
        raise MLError(f"refusing to write '{relative}' below {destination}: {reason or 'an empty folder name'}")
    target = destination.joinpath(*relative.split("/"))
    step = destination
    for part in relative.split("/"):
        step = step / part
        if step.is_symlink():
            raise MLError(f"refusing to write {target}: {step} is a symbolic link",
                          hint="remove the link, or download into another folder")
    if target.exists() and not target.is_file():
        raise MLError(f"refusing to write {target}: it exists and is not a regular file")
    if target.exists() and not overwrite:
        raise MLError(f"{target} already exists", hint="give --overwrite to replace existing files")
    return target


def check_targets(destination: Path, relatives: Iterable[str], *, overwrite: bool) -> List[Path]:
    """`target_in` for every file, all checked before the first is written."""
    return [target_in(destination, relative, overwrite=overwrite) for relative in relatives]


def write_file(target: Path, data: bytes | Iterable[bytes]) -> None:
    """Write `target` (bytes, or chunks as they come) whole or not at all; an existing file (or link)
    there is replaced, never written through."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with open(tmp, "xb") as handle:  # x: never opens an existing file or link
            for chunk in ([data] if isinstance(data, bytes) else data):
                handle.write(chunk)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _locate(client, uri: str) -> Tuple[str, str, str]:
    """(container URL, SAS query, blob path) of an azureml:// datastore URI or a blob URL."""
    from cli.spec.references import MalformedReference, parse_reference

    datastore, path = None, None
    if uri.startswith("azureml://"):
        try:
            ref = parse_reference(uri)
        except MalformedReference as exc:
            raise UsageError(str(exc)) from None
        if ref.kind != "datastore":
            raise UsageError(f"cannot read files from '{uri}'")
        datastore, path = ref.datastore, (ref.path or "").strip("/")
    for record in client.list(client.workspace.datastore()):
        props = record.get("properties") or {}
        if props.get("datastoreType") != "AzureBlob":
            continue
        account, container, endpoint = props.get("accountName"), props.get("containerName"), props.get("endpoint")
        base = f"https://{account}.blob.{endpoint}/{container}"
        if datastore is None:
            path = _below(uri, base) or _below(uri, f"https://blob.{endpoint}/{account}/{container}")
            if path is None:
                continue
        elif record.get("name") != datastore:
            continue
        from cli import names

        reason = names.relative_path_problem(path, what="datastore path", decoded_too=True)
        if reason:
            raise UsageError(f"cannot read '{uri}': {reason}")
        return base, _sas(client, record["name"]), path
    raise UsageError(f"no blob datastore of this workspace holds '{uri}'")


def _below(uri: str, base: str) -> Optional[str]:
    head, _, _ = uri.partition("?")
    return unquote(head[len(base) + 1:]).strip("/") if head.lower().startswith(base.lower() + "/") else None


def _sas(client, datastore: str) -> str:
    secrets = client.post(client.workspace.datastore(datastore) + "/listSecrets", {"expirableSecret": True, "expireAfterHours": 1}) or {}
    if secrets.get("secretsType") != "Sas" or not secrets.get("sasToken"):
        raise UsageError(f"datastore '{datastore}' gives no SAS token; reading its files needs one")
    return secrets["sasToken"].lstrip("?")


def _list(client, base: str, sas: str, prefix: str) -> List[str]:
    names, marker = [], ""
    while True:
        query = f"restype=container&comp=list&prefix={quote(prefix, safe='')}" + (f"&marker={quote(marker, safe='')}" if marker else "")
        root = ElementTree.fromstring(client.get_blob(f"{base}?{query}&{sas}"))
        names += [el.text or "" for el in root.iter("Name")]
        marker = (root.findtext("NextMarker") or "").strip()
        if not marker:
            return names
