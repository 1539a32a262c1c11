"""Run history: the run details the SDK's `jobs.stream` polls, with SAS URLs of the job's log files.

The logs stay in the job folder; the default datastore links `ExperimentRun/dcid.<job>` to the job's
artifact root, which links `user_logs/` and `system_logs/` (as Azure keeps run logs, `outputs/` and
MLflow artifacts under ExperimentRun/dcid.<run> in the workspace's artifact store), so the blob plane
serves them, ranged reads included, with a read-only SAS limited to that prefix.
"""

from __future__ import annotations

from cli.local import ids
from cli.local.http import ApiError, Call, Request, json_response, not_found
from cli.local.router import WS


def link_run(service, job: str) -> str:
    """Make the job's folder and link `ExperimentRun/dcid.<job>` to its artifact root in the default
    datastore and in workspaceartifactstore (where the SDK's `jobs.download` looks); the blob prefix.
    Called when the job is created, so a job never streamed still downloads."""
    from cli.local.runner.state import JobFolder

    folder = JobFolder.of(service.home, service.workspace, job)
    folder.make()
    folder.link_run_artifacts(service.blobs.root / ids.ARTIFACT_DATASTORE, job)
    return folder.link_run_artifacts(service.blobs.root / ids.DEFAULT_DATASTORE, job)


_log_prefix = link_run


def details(call: Call):
    from cli.local.handlers.jobs import _live
    from cli.local.runner.state import JobFolder

    from cli.local.handlers import checks

    service, job = call.service, checks.name(call, "runId", "job")
    record = service.store.get(service.arm_id("jobs", job))
    if record is None:
        raise not_found("run", job)
    record = _live(service, record)
    props = record.body["properties"]
    extra = props.get("properties") or {}
    container = service.store.get(service.arm_id("datastores", ids.DEFAULT_DATASTORE)).body[
        "properties"]["containerName"]
    prefix = _log_prefix(service, job)
    sas = service.blobs.sas_query(container, prefix, permissions="r")
    folder = JobFolder.of(service.home, service.workspace, job)
    names = sorted(p.relative_to(folder.root).as_posix() for pattern in ("user_logs/*.txt", "system_logs/*.log")
                   for p in folder.root.glob(pattern) if p.is_file())
    body = {
        "runId": job, "runUuid": job, "status": props.get("status"), "target": props.get("computeId") or "local",
        "startTimeUtc": extra.get("StartTimeUtc"), "endTimeUtc": extra.get("EndTimeUtc"),
        "properties": extra, "inputDatasets": [], "outputDatasets": [],
        "logFiles": {name: f"{ids.blob_url(service.workspace, container, f'{prefix}/{name}')}?{sas}"
                     for name in names},
    }
    if extra.get("FailureReason"):
        body["error"] = {"error": {"code": "UserError", "message": extra["FailureReason"]}}
    return json_response(200, body)


MLFLOW_PREFIX_SEGMENTS = 1 + 2 + 8  # '', 'mlflow', 'v1.0' | 'v2.0', then the workspace's 8 ARM segments


def mlflow_api(call: Call):
    """The MLflow REST API (and mlflow-artifacts) at the workspace's tracking URI, as on Azure:
    `https://<api host>/mlflow/v1.0<workspace id>/api/2.0/mlflow/...` (v2.0 too). It is the workspace's
    whole tracking store (cli.local.tracking), the one jobs log to, with no per-job scope. Run artifact URIs
    are `mlflow-artifacts:` ones under v1.0 (the https URI plain mlflow is given, which follows no other) and
    run history's `azureml://` ones under v2.0, the version azureml-mlflow calls (cli.local.handlers.run_artifacts)."""
    request = call.request
    raw_path, _, query = request.url.raw_path.partition(b"?")
    rest = "/" + "/".join(raw_path.decode("ascii").split("/")[MLFLOW_PREFIX_SEGMENTS:])
    from cli.local.handlers import mlflow_runs

    # A run call's body is a small JSON document, read here so the run it names can be followed after.
    body = request.content if request.method == "POST" and "/api/2.0/mlflow/runs/" in rest else None
    inner = Request(request.method, request.url.copy_with(raw_path=(rest + ("?" + query.decode() if query else "")).encode()),
                    request.headers, iter((body,)) if body is not None else request.stream)
    response = call.service.tracking_api().answer_api(inner)
    run_id = body is not None and mlflow_runs.run_touched(request.method, rest, body, response)
    if run_id:
        mlflow_runs.sync(call.service, run_id)  # runs logged from outside a job are jobs, as on Azure
    if raw_path.split(b"/")[2] == b"v2.0":  # azureml-mlflow's version: run history artifact URIs, as on Azure
        from cli.local.handlers.run_artifacts import azureml_artifact_uris

        return azureml_artifact_uris(response, call.service.workspace_id)
    return response


OUTPUT_TYPES = {"uri_folder": "uri_folder", "uri_file": "uri_file", "mltable": "mltable"}


def _output_asset_id(service, job: str, name: str) -> str:
    """The id run history gives a job's data output (Azure registers it as a data asset)."""
    from cli.local.handlers.workspace import workspace_body

    guid = workspace_body(service)["properties"]["workspaceId"]
    return f"azureml://locations/{ids.LOCATION}/workspaces/{guid}/data/azureml_{job}_output_data_{name}/versions/1"


def run_data(call: Call):
    """POST rundata (the SDK's `get_run_data`): the run's metadata, with its data outputs as asset ids
    that batchGetResolvedUris turns into datastore URIs."""
    from cli.local.handlers.jobs import _live

    body = call.json()
    job = body.get("runId")
    if not isinstance(job, str) or not job:
        raise ApiError(400, "UserError", "The request needs a 'runId'.", target="runId")
    service = call.service
    from cli import names

    if names.problem("job", job):
        raise not_found("run", job)
    record = service.store.get(service.arm_id("jobs", job))
    if record is None:
        raise not_found("run", job)
    props = _live(service, record).body["properties"]
    extra = props.get("properties") or {}
    outputs = {}
    if props.get("status") in ("Completed", "Failed", "Canceled"):
        for name, output in (props.get("outputs") or {}).items():
            kind = OUTPUT_TYPES.get(str((output or {}).get("jobOutputType", "")).lower())
            if kind:
                outputs[name] = {"assetId": _output_asset_id(service, job, name), "type": kind}
    run = {"runId": job, "runUuid": job, "rootRunId": job, "name": props.get("displayName"),
           "displayName": props.get("displayName"), "status": props.get("status"),
           "experimentId": props.get("experimentName"), "startTimeUtc": extra.get("StartTimeUtc"),
           "endTimeUtc": extra.get("EndTimeUtc"), "target": props.get("computeId") or "local",
           "properties": extra, "tags": props.get("tags") or {}, "runType": "azureml.CommandRun",
           "inputs": {}, "outputs": outputs}
    return json_response(200, {"runMetadata": run})


def resolved_uris(call: Call):
    """POST dataversion/batchGetResolvedUris: a job output's asset id -> its datastore URI."""
    import re

    from cli.local.runner.data import default_output_uri

    body = call.json()
    asked = body.get("values")
    if not isinstance(asked, list) or not all(isinstance(v, str) for v in asked):
        raise ApiError(400, "UserError", "'values' must be a list of asset ids.", target="values")
    service, found = call.service, {}
    pattern = re.compile(r"/data/azureml_(?P<job>.+)_output_data_(?P<name>[^/]+)/versions/1$")
    for asset_id in asked:
        match = pattern.search(asset_id)
        record = match and service.store.get(service.arm_id("jobs", match["job"]))
        output = record and ((record.body["properties"].get("outputs") or {}).get(match["name"]))
        if not output or _output_asset_id(service, match["job"], match["name"]) != asset_id:
            continue
        uri = output.get("uri") or default_output_uri(match["job"], match["name"])
        found[asset_id] = {"uri": ids.expand_short_uri(service.workspace, uri),
                           "type": OUTPUT_TYPES.get(str(output.get("jobOutputType", "")).lower())}
    return json_response(200, {"values": found})


def run_summary(service, record) -> dict:
    """A job as run history's `Run` object (the fields the SDK's `_BaseJob._load_from_rest` reads)."""
    props = record.body["properties"]
    extra = props.get("properties") or {}
    sysdata = record.body.get("systemData") or {}
    from cli.local.runner.children import PARENT_KEY, ROOT_KEY

    run = {"runId": record.name, "runUuid": record.name, "parentRunId": extra.get(PARENT_KEY),
           "rootRunId": extra.get(ROOT_KEY) or record.name, "status": props.get("status"),
           "displayName": props.get("displayName"), "description": props.get("description"),
           "experimentId": props.get("experimentName"), "runType": props.get("jobType"),
           "createdUtc": sysdata.get("createdAt"), "lastModifiedUtc": sysdata.get("lastModifiedAt"),
           "startTimeUtc": extra.get("StartTimeUtc"), "endTimeUtc": extra.get("EndTimeUtc"),
           "tags": props.get("tags") or {}, "properties": extra,
           "target": (props.get("computeId") or "").rsplit("/", 1)[-1] or None}
    return {k: v for k, v in run.items() if v is not None}


def children(call: Call):
    """`GET .../runs/{runId}/children`: the child jobs of a job, oldest first, paged with `$top`/nextLink."""
    from cli.local.handlers import checks
    from cli.local.handlers.common import page
    from cli.local.runner.children import children_of

    service, job = call.service, checks.name(call, "runId", "job")
    if service.store.get(service.arm_id("jobs", job)) is None:
        raise not_found("run", job)
    return page(call, children_of(service.store, service.workspace, job), lambda r: run_summary(service, r))


def register(router) -> None:
    router.add(ids.API_HOST, "GET", "/history/v1.0" + WS + "/runs/{runId}/details", details)
    router.add(ids.API_HOST, "GET", "/history/v1.0" + WS + "/runs/{runId}/children", children)
    router.add(ids.API_HOST, "POST", "/history/v1.0" + WS + "/rundata", run_data)
    router.add(ids.API_HOST, "POST", "/data/v1.0" + WS + "/dataversion/batchGetResolvedUris", resolved_uris)
    from cli.local.handlers import run_artifacts

    run_artifacts.register(router)
    for version in ("v1.0", "v2.0"):
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            router.add(ids.API_HOST, method, f"/mlflow/{version}" + WS + "/{path*}", mlflow_api)
