"""The mlflow-artifacts endpoints: upload, download and list a run's or a logged model's files.

A run's artifact_uri is `mlflow-artifacts:/<experiment>/<run>/artifacts`, which the client turns
into `<tracking uri>/api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<file>`; a
logged model's is `mlflow-artifacts:/<experiment>/models/<model>/artifacts`. The run or model id
picks the folder (in its job's folder), so no path outside it is reachable.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from cli.local.tracking.errors import TrackingError

ROOT = "/api/2.0/mlflow-artifacts/artifacts"


def _safe(parts: list[str], shown: str) -> list[str]:
    if any(p in (".", "..") or "\\" in p for p in parts):
        raise TrackingError("INVALID_PARAMETER_VALUE", f"Invalid artifact path '{shown}'")
    return parts


def resolve(store, artifact_path: str) -> Path:
    """The file or folder that `<experiment>/<run>/artifacts[/<path>]` or
    `<experiment>/models/<model>/artifacts[/<path>]` (a logged model's) names."""
    parts = [p for p in artifact_path.split("/") if p]
    if len(parts) >= 3 and parts[2] == "artifacts":
        rest = _safe(parts[3:], artifact_path)
        owner, what = store.get_run(parts[1])["info"], f"Run {parts[1]}"
        base = store.artifact_dir(parts[1])
    elif len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        rest = _safe(parts[4:], artifact_path)
        owner, what = store.get_logged_model(parts[2], allow_deleted=True)["info"], f"Logged model {parts[2]}"
        base = store.model_artifact_dir(parts[2])
    else:
        raise TrackingError("RESOURCE_DOES_NOT_EXIST", f"No artifact location '{artifact_path}': expected "
                            "<experiment>/<run>/artifacts/<path> or <experiment>/models/<model>/artifacts/<path>")
    if owner["experiment_id"] != parts[0]:
        raise TrackingError("RESOURCE_DOES_NOT_EXIST", f"{what} is not in experiment {parts[0]}")
    return base.joinpath(*rest)


def model_path(store, model_id: str, relative: str) -> Path:
    """A path below a logged model's artifact root (the logged-models artifact endpoints)."""
    root = store.model_artifact_dir(model_id)
    return root.joinpath(*_safe([p for p in (relative or "").split("/") if p], relative))


def model_listing(store, model_id: str, directory: str) -> dict:
    """ListLoggedModelArtifacts: the entries of a folder of a model, paths from the model's root."""
    prefix = "/".join(p for p in (directory or "").split("/") if p)
    files = listing(model_path(store, model_id, prefix))
    for info in files:
        info["path"] = f"{prefix}/{info['path']}" if prefix else info["path"]
    root = store.get_logged_model(model_id)["info"]["artifact_uri"]
    return {"root_uri": root, "files": files}


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
        send_file(request, resolve(store, rest), rest.lstrip("/"))
    elif method == "PUT" and rest.strip("/"):
        target = resolve(store, rest)
        _write(target, request.read_chunks())
        request.send_json(200, {})
    else:
        raise TrackingError("ENDPOINT_NOT_FOUND", f"No endpoint {method} {ROOT}{rest}")


def send_file(request, target: Path, shown: str) -> None:
    if not target.is_file():
        raise TrackingError("RESOURCE_DOES_NOT_EXIST", f"No artifact '{shown}'")
    request.send_response(200)
    request.send_header("Content-Type", "application/octet-stream")
    request.send_header("Content-Length", str(target.stat().st_size))
    request.end_headers()
    with target.open("rb") as source:
        shutil.copyfileobj(source, request.wfile, 1 << 20)


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
