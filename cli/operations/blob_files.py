"""Reading an asset's files back from its datastore: list the blobs under its URI and fetch them.

Access is through a SAS from the datastore's listSecrets (the local workspace grants one for its
own blob store); identity-based Azure datastores are not readable this way yet.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import List, Optional, Tuple
from urllib.parse import quote, unquote
from xml.etree import ElementTree

from cli.errors import MLError, UsageError


def download(client, uri: str, destination: Path) -> List[Path]:
    """Copy the file or folder at `uri` into `destination` (a folder keeps its own name)."""
    base, sas, prefix = _locate(client, uri)
    names = [n for n in _list(client, base, sas, prefix) if n == prefix or n.startswith(prefix + "/")]
    parent = str(PurePosixPath(prefix).parent)
    written = []
    for name in names:
        relative = name[len(parent) + 1:] if parent not in ("", ".") else name
        target = destination.joinpath(*relative.split("/"))
        if ".." in relative.split("/"):
            raise MLError(f"refusing to write blob '{name}' outside {destination}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(client.get_blob(f"{base}/{quote(name, safe='/~')}?{sas}"))
        written.append(target)
    return written


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
