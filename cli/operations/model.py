"""Models (custom_model, mlflow_model, triton_model): upload, create, and download their files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from cli.errors import ResourceNotFoundError
from cli.operations import assets, blob_files
from cli.operations.uploading import upload_local_path


def create(client, spec: dict, datastore: Optional[str] = None) -> dict:
    spec = {"type": "custom_model", **spec}
    uploads = upload_local_path(client, spec, "models", spec.get("path"), datastore)
    return assets.create(client, "models", spec, uploads)


def download(client, name: str, version: Optional[str], label: Optional[str], destination: Path,
             overwrite: bool = False) -> list:
    """Write the model's files under `destination/<name>/`; the paths written, or ResourceNotFoundError.

    Existing files are replaced only with `overwrite`; a symlink in the destination is never written through."""
    model = assets.show(client, "models", name, version, label)
    written = blob_files.download(client, model["path"], Path(destination) / name, overwrite=overwrite)
    if not written:
        raise ResourceNotFoundError(f"model '{name}' version {model['version']} has no files at {model['path']}")
    return [str(path) for path in written]
