"""Run history: the run details the SDK's `jobs.stream` polls, with SAS URLs of the job's log files.

The logs stay in the job folder; the default datastore links `ExperimentRun/dcid.<job>` to the job's
artifact root, which links `user_logs/` and `system_logs/` (as Azure keeps run logs, `outputs/` and
MLflow artifacts under ExperimentRun/dcid.<run> in the workspace's artifact store), so the blob plane
serves them, ranged reads included, with a read-only SAS limited to that prefix.
"""

from __future__ import annotations

from cli.local import ids
from cli.local.http import ApiError, Call, json_response, not_found
from cli.local.router import WS


def _log_prefix(service, job: str) -> str:
    """The blob prefix of the job's artifact root, linked on first use."""
    from cli.local.runner.state import JobFolder

    folder = JobFolder.of(service.home, service.workspace, job)  # made by the job's runner
    return folder.link_run_artifacts(service.blobs.root / ids.DEFAULT_DATASTORE, job)


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


def mlflow_run(call: Call):
    """MLflow's `runs/get` on the workspace's tracking URI (`mlFlowTrackingUri`, as azureml-mlflow
    calls it on Azure): the run of a job (run id = job name) with its latest metrics and params."""
    from cli.local.tracking.errors import TrackingError
    from cli.local.tracking.store import TrackingStore

    run_id = call.query.get("run_id") or call.query.get("run_uuid")
    if not run_id:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'run_id'.")
    if not (call.service.root / "tracking.db").is_file():  # nothing ever logged: do not create the store
        raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Run with id={run_id} not found")
    store = TrackingStore(call.service.root)
    try:
        return json_response(200, {"run": store.get_run(run_id)})
    except TrackingError as error:
        raise ApiError(error.status, error.code, error.message) from None
    finally:
        store.close()


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
    router.add(ids.API_HOST, "GET", "/mlflow/v1.0" + WS + "/api/2.0/mlflow/runs/get", mlflow_run)
