"""The mlflow-artifacts endpoints: upload, download and list a run's files in its job folder.

A run's artifact_uri is `mlflow-artifacts:/<experiment>/<run>/artifacts`, which the client turns
into `<tracking uri>/api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<file>`; the
run id picks the folder, so no path outside a run's folder is reachable.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from cli.local.tracking.errors import TrackingError

ROOT = "/api/2.0/mlflow-artifacts/artifacts"


def resolve(store, artifact_path: str) -> Path:
    """The file or folder that `<experiment>/<run>/artifacts[/<path>]` names."""
    parts = [p for p in artifact_path.split("/") if p]
    if len(parts) < 3 or parts[2] != "artifacts":
        raise TrackingError("RESOURCE_DOES_NOT_EXIST", f"No artifact location '{artifact_path}': "
                            "expected <experiment>/<run>/artifacts/<path>")
    if any(p in (".", "..") or "\\" in p for p in parts[3:]):
        raise TrackingError("INVALID_PARAMETER_VALUE", f"Invalid artifact path '{artifact_path}'")
    run = store.get_run(parts[1])
    if run["info"]["experiment_id"] != parts[0]:
        raise TrackingError("RESOURCE_DOES_NOT_EXIST",
                            f"Run {parts[1]} is not in experiment {parts[0]}")
    return store.artifact_dir(parts[1]).joinpath(*parts[3:])


def listing(target: Path) -> list[dict]:
    """Entries of a folder, as MLflow lists them (names relative to it); a file or nothing lists empty."""
    if not target.is_dir():
        return []
    files = []
    for entry in sorted(target.iterdir()):
        info = {"path": entry.name, "is_dir": entry.is_dir()}
        if not info["is_dir"]:
            info["file_size"] = entry.stat().st_size
        files.append(info)
    return files


def handle(request, method: str, rest: str, query: dict) -> None:
    """Answer one artifacts request on `request` (a TrackingHandler)."""
    store = request.server.store
    if method == "GET" and rest in ("", "/"):
        path = (query.get("path") or [""])[0]
        request.send_json(200, {"files": listing(resolve(store, path))})
    elif method == "GET":
        target = resolve(store, rest)
        if not target.is_file():
            raise TrackingError("RESOURCE_DOES_NOT_EXIST", f"No artifact '{rest.lstrip('/')}'")
        request.send_response(200)
        request.send_header("Content-Type", "application/octet-stream")
        request.send_header("Content-Length", str(target.stat().st_size))
        request.end_headers()
        with target.open("rb") as source:
            shutil.copyfileobj(source, request.wfile, 1 << 20)
    elif method == "PUT" and rest.strip("/"):
        target = resolve(store, rest)
        _write(target, request.read_chunks())
        request.send_json(200, {})
    else:
        raise TrackingError("ENDPOINT_NOT_FOUND", f"No endpoint {method} {ROOT}{rest}")


def _write(target: Path, chunks) -> None:
    # Written aside then renamed, so a reader never sees half a file.
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(temp, target)
    except BaseException:
        os.unlink(temp)
        raise
