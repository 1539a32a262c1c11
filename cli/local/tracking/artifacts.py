"""The mlflow-artifacts endpoints: upload, download and list a run's or a logged model's files.

A run's artifact_uri is `mlflow-artifacts:/<experiment>/<run>/artifacts`, which the client turns
into `<tracking uri>/api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<file>`; a
logged model's is `mlflow-artifacts:/<experiment>/models/<model>/artifacts`. The run or model id
picks the folder (in its job's folder), so no path outside it is reachable.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import parse_qs

import httpx

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


def _check_scope(call, artifact_path: str) -> None:
    scope = call.service.scope
    parts = [p for p in artifact_path.split("/") if p]
    if scope is None or len(parts) < 3:
        return
    if parts[1] == "models" and len(parts) >= 4:
        scope.check_model(parts[2])
    else:
        scope.check_run(parts[1])


def _target(call, artifact_path: str) -> Path:
    _check_scope(call, artifact_path)
    return resolve(call.service.store, artifact_path)


def list_files(call) -> httpx.Response:
    """GET .../artifacts?path=<experiment>/<run>/artifacts[/<folder>]: a folder's entries."""
    from cli.local.tracking.server import mlflow_json

    path = parse_qs(call.request.url.query.decode()).get("path", [""])[0]
    return mlflow_json({"files": listing(_target(call, path))})


def download(call) -> httpx.Response:
    return file_response(_target(call, call.params["path"]), call.params["path"])


def upload(call) -> httpx.Response:
    from cli.local.tracking.server import mlflow_json

    _write(_target(call, call.params["path"]), call.request.stream)
    return mlflow_json({})


def register(router) -> None:
    from cli.local.router import ANY_HOST

    router.add(ANY_HOST, "GET", ROOT, list_files)
    router.add(ANY_HOST, "GET", ROOT + "/{path*}", download)
    router.add(ANY_HOST, "PUT", ROOT + "/{path*}", upload)


class _FileStream(httpx.SyncByteStream):
    def __init__(self, path: Path):
        self.path = path

    def __iter__(self):
        with self.path.open("rb") as source:
            while chunk := source.read(1 << 20):
                yield chunk


def file_response(target: Path, shown: str) -> httpx.Response:
    """A file's bytes, streamed from disk."""
    if not target.is_file():
        raise TrackingError("RESOURCE_DOES_NOT_EXIST", f"No artifact '{shown}'")
    return httpx.Response(200, stream=_FileStream(target), headers={
        "Content-Type": "application/octet-stream", "Content-Length": str(target.stat().st_size)})


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
