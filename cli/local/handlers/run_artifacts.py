"""Run history's artifact API for MLflow runs: what azureml-mlflow's `azureml://` artifact URIs are served by.

With azureml-mlflow installed, a run's artifact URI is
`azureml://<api host>/mlflow/v2.0<workspace id>/experiments/<experiment>/runs/<run>/artifacts`, and the
plugin reaches the files through run history (api host, `/history/v1.0<workspace id>/experiments/<experiment>
/runs/<run>/artifacts...`, `experimentids/` too): `batch/metadata` creates empty artifacts and answers write
SAS URLs the plugin uploads to with azure-storage-blob; the listing and `contentinfo` answer the paths and read
SAS URLs. The files are the run's MLflow artifact folder (the one mlflow-artifacts URIs reach), linked as
`ExperimentRun/dcid.<run>` in workspaceartifactstore, where Azure keeps run artifacts, so both URIs see the
same files. SAS URLs are host-style (`<account>.blob.<storage suffix>`): the plugin only follows those.
"""

from __future__ import annotations

import os
from pathlib import Path

from cli.local import ids
from cli.local.blobs import RUN_LINKS
from cli.local.http import ApiError, Call, json_response, not_found
from cli.local.router import WS
from cli.local.tracking.errors import TrackingError

CONTAINER = "azureml"  # workspaceartifactstore's container (cli.local.handlers.datastores)
ORIGIN = "ExperimentRun"


def _run(call: Call) -> str:
    """The run of the path, checked to exist in the workspace's tracking store (its experiment too)."""
    from cli import names

    run_id, experiment = call.params["runId"], call.params["experiment"]
    if names.problem("job", run_id):
        raise not_found("run", run_id)
    tracking = call.service.tracking_api().store
    try:
        run = tracking.get_run(run_id)
        known = tracking.get_experiment(run["info"]["experiment_id"])
    except TrackingError:
        raise not_found("run", run_id) from None
    if experiment not in (known["experiment_id"], known["name"]):
        raise not_found("run", run_id)
    return run_id


def link(service, run_id: str) -> str:
    """Link `ExperimentRun/dcid.<run>` in workspaceartifactstore to the run's artifact folder; the prefix."""
    target = service.tracking_api().store.artifact_dir(run_id)
    target.mkdir(parents=True, exist_ok=True)
    prefix = f"{RUN_LINKS}{run_id}"
    at = service.blobs.root / ids.ARTIFACT_DATASTORE / prefix
    if not at.is_symlink():
        at.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(target.resolve(), at, target_is_directory=True)
        except FileExistsError:
            pass  # another request linked it first
    return prefix


def _artifact_path(call: Call, raw: str | None) -> str:
    path = (raw or "").strip("/")
    parts = path.split("/")
    if not path or any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts):
        raise ApiError(400, "UserError", f"'{raw}' is not an artifact path.", target="path")
    return path


def _content(service, run_id: str, path: str, permissions: str) -> dict:
    prefix = link(service, run_id)
    sas = service.blobs.sas_query(CONTAINER, prefix, permissions=permissions)
    url = f"https://{service.workspace}.{ids.BLOB_HOST}/{CONTAINER}/{prefix}/{path}?{sas}"
    return {"contentUri": url, "origin": ORIGIN, "container": f"dcid.{run_id}", "path": path}


def _dto(run_id: str, path: str) -> dict:
    return {"artifactId": f"{ORIGIN}/dcid.{run_id}/{path}", "origin": ORIGIN, "container": f"dcid.{run_id}",
            "path": path}


def _files(service, run_id: str) -> list[str]:
    root = service.tracking_api().store.artifact_dir(run_id)
    if not root.is_dir():
        return []
    # Files only, symlinks not followed: a run's folder is what its clients wrote, nothing it points at.
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not Path(folder, d).is_symlink()]
        found += [Path(folder, f).relative_to(root).as_posix() for f in files if not Path(folder, f).is_symlink()]
    return sorted(found)


def batch_create(call: Call):
    """POST .../artifacts/batch/metadata: empty artifacts at the asked paths, with write SAS URLs to fill them."""
    run_id = _run(call)
    asked = call.json().get("paths")
    if not isinstance(asked, list) or not all(isinstance(p, dict) for p in asked):
        raise ApiError(400, "UserError", "'paths' must be a list of {\"path\": ...}.", target="paths")
    paths = [_artifact_path(call, p.get("path")) for p in asked]
    return json_response(200, {"artifacts": {p: _dto(run_id, p) for p in paths},
                               "artifactContentInformation": {p: _content(call.service, run_id, p, "rcw")
                                                              for p in paths},
                               "errors": {}})


def list_artifacts(call: Call):
    """GET .../artifacts (and .../artifacts/path?path=<folder>): the run's files, paged by continuationToken."""
    run_id = _run(call)
    files = _files(call.service, run_id)
    folder = (call.query.get("path") or "").strip("/")
    if folder:
        files = [f for f in files if f.startswith(folder + "/")]
    start = call.query.get("continuationToken") or "0"
    if not start.isdigit():
        raise ApiError(400, "UserError", f"The continuation token '{start}' is not valid.", target="continuationToken")
    size, begin = 500, int(start)
    body = {"value": [_dto(run_id, f) for f in files[begin:begin + size]], "continuationToken": None, "nextLink": None}
    if begin + size < len(files):
        body["continuationToken"] = str(begin + size)
        url = call.request.url
        body["nextLink"] = f"{url.scheme}://{url.host}{url.path}?continuationToken={begin + size}"
    return json_response(200, body)


def content_information(call: Call):
    """GET .../artifacts/contentinfo?path=: a read SAS URL of one artifact."""
    run_id = _run(call)
    path = _artifact_path(call, call.query.get("path"))
    if path not in _files(call.service, run_id):
        raise not_found("artifact", path)
    return json_response(200, _content(call.service, run_id, path, "r"))


def metadata(call: Call):
    """GET .../artifacts/metadata?path=: one artifact's record."""
    run_id = _run(call)
    path = _artifact_path(call, call.query.get("path"))
    if path not in _files(call.service, run_id):
        raise not_found("artifact", path)
    return json_response(200, _dto(run_id, path))


def register(router) -> None:
    for scope in ("experiments", "experimentids"):
        base = "/history/v1.0" + WS + f"/{scope}/{{experiment}}/runs/{{runId}}/artifacts"
        router.add(ids.API_HOST, "POST", base + "/batch/metadata", batch_create)
        router.add(ids.API_HOST, "GET", base, list_artifacts)
        router.add(ids.API_HOST, "GET", base + "/path", list_artifacts)
        router.add(ids.API_HOST, "GET", base + "/contentinfo", content_information)
        router.add(ids.API_HOST, "GET", base + "/metadata", metadata)


def azureml_artifact_uris(response, workspace_id: str):
    """`response` with each run's `mlflow-artifacts:/<exp>/<run>/artifacts` URI written as Azure writes it
    (`azureml://.../experiments/<exp>/runs/<run>/artifacts`), for the clients of /mlflow/v2.0 (azureml-mlflow)."""
    import json

    import httpx

    if response.status_code != 200 or b"mlflow-artifacts:/" not in response.content:
        return response
    base = f"azureml://{ids.API_HOST}/mlflow/v2.0{workspace_id}/experiments/"

    def rewrite(node):
        if isinstance(node, dict):
            return {k: (base + v[len("mlflow-artifacts:/"):].replace("/", "/runs/", 1)
                        if k == "artifact_uri" and isinstance(v, str) and v.startswith("mlflow-artifacts:/")
                        else rewrite(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    try:
        body = rewrite(json.loads(response.content))
    except ValueError:
        return response
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
    return httpx.Response(200, headers=headers, content=json.dumps(body).encode())
