"""Data assets (uri_file, uri_folder, mltable): local files uploaded, then the version created."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from cli.errors import UsageError
from cli.operations import assets
from cli.operations.uploading import upload_local_path
from cli.spec.paths import is_local_path

TYPES = ("uri_file", "uri_folder", "mltable")
_PATH_KINDS = ("file", "folder", "pattern")


def referenced_uris(folder: Path) -> list:
    """The paths a local MLTable file names, which the SDK sends as the version's referencedUris."""
    import yaml

    try:
        table = yaml.safe_load((folder / "MLTable").read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise UsageError(f"mltable folder '{folder}' has no readable MLTable file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{folder / 'MLTable'} is not valid YAML: {str(exc).splitlines()[0]}") from None
    paths = table.get("paths") if isinstance(table, dict) else None
    if not isinstance(paths, list) or not paths:
        # the SDK refuses such a table too (its MLTable schema requires paths)
        raise UsageError(f"{folder / 'MLTable'} names no paths; an MLTable needs a `paths:` list")
    return [next((str(entry[kind]) for kind in _PATH_KINDS if kind in entry), None)
            for entry in paths if isinstance(entry, dict)]


def create(client, spec: dict, datastore: Optional[str] = None) -> dict:
    spec = {"type": "uri_folder", **spec}
    if spec["type"] not in TYPES:
        raise UsageError(f"data type '{spec['type']}' is not one of {', '.join(TYPES)}")
    if spec["type"] == "mltable" and is_local_path(spec.get("path")):
        spec["referenced_uris"] = referenced_uris(Path(spec["path"]))
    uploads = upload_local_path(client, spec, "data", spec.get("path"), datastore)
    return assets.create(client, "data", spec, uploads)
