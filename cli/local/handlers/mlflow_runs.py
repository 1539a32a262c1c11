"""Runs logged from outside a job (plain mlflow at the workspace's tracking URI) as the jobs Azure lists.

On Azure an MLflow run is a run of the workspace's run history, so a run a notebook or a laptop logs
through the workspace URI shows in the jobs list beside the submitted jobs: its name is the run id, its
display name the run name, its experiment the MLflow experiment (`Default` unless one is set), its status
the run's (RUNNING -> Running, FINISHED -> Completed, FAILED -> Failed, KILLED -> Canceled), its tags the
run's tags, and a nested run is listed under its parent only. Nothing ran it, so it has no command,
environment or compute, and `ml job cancel` ends the run (KILLED) since there is no process to stop.

The job record follows the run: it is written when the run is created and again whenever the run's
status, name, tags or lifecycle change through the workspace URI (cli.local.handlers.history.mlflow_api).
`ORIGIN_KEY` marks these records (a job's own root run shares its job's name and is never touched).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from cli.local import ids
from cli.local.tracking.errors import TrackingError

ORIGIN_KEY = "azureml.runsource"
ORIGIN = "mlflow"  # what made the run: a client of the tracking URI, not a job submission
STATUS = {"RUNNING": "Running", "SCHEDULED": "Queued", "FINISHED": "Completed", "FAILED": "Failed",
          "KILLED": "Canceled"}
RUN_NAME_TAG = "mlflow.runName"
PARENT_TAG = "mlflow.parentRunId"
# The MLflow calls that change what the job record shows; any other call leaves it as it is.
SYNCED = {"runs/create", "runs/update", "runs/delete", "runs/restore", "runs/set-tag", "runs/delete-tag",
          "runs/log-batch"}


def is_outside_run(body: dict) -> bool:
    """Is this stored job body a run logged from outside a job?"""
    return ((body.get("properties") or {}).get("properties") or {}).get(ORIGIN_KEY) == ORIGIN


def run_touched(method: str, path: str, request_body: bytes, response) -> str | None:
    """The run id an MLflow call at the workspace URI created or changed, or None."""
    endpoint = path.split("/api/2.0/mlflow/", 1)[-1]
    if method != "POST" or endpoint not in SYNCED or response.status_code != 200:
        return None
    try:
        if endpoint == "runs/create":
            return json.loads(response.content)["run"]["info"]["run_id"]
        body = json.loads(request_body or b"{}")
        if endpoint == "runs/log-batch" and not body.get("tags"):
            return None  # metrics and params: nothing the job record shows
        return str(body.get("run_id") or body.get("run_uuid") or "") or None
    except (ValueError, KeyError, TypeError):
        return None


def _iso(ms) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(int(ms) / 1000, timezone.utc).isoformat().replace("+00:00", "Z")


def sync(service, run_id: str) -> None:
    """Write (or refresh) the job record of the outside run `run_id`; a job's own runs are left alone."""
    from cli import names
    from cli.local.handlers.common import envelope, system_data
    from cli.local.runner.children import PARENT_KEY, ROOT_KEY

    if names.problem("job", run_id):
        return  # not a name a job can have: the run stays an MLflow run only
    tracking = service.tracking_api().store
    try:
        run = tracking.get_run(run_id)
        experiment = tracking.get_experiment(run["info"]["experiment_id"])["name"]
    except TrackingError:
        return
    info, tags = run["info"], {t["key"]: t["value"] for t in run["data"]["tags"]}
    jid = service.arm_id("jobs", run_id)
    extra = {ORIGIN_KEY: ORIGIN, "StartTimeUtc": _iso(info.get("start_time")), "EndTimeUtc": _iso(info.get("end_time"))}
    parent = tags.get(PARENT_TAG)
    if parent:
        parent_record = service.store.get(service.arm_id("jobs", parent))
        if parent_record is not None:
            root = ((parent_record.body["properties"].get("properties") or {}).get(ROOT_KEY)) or parent
            extra.update({PARENT_KEY: parent, ROOT_KEY: root})
    props = {"jobType": "Command", "command": "", "environmentId": "", "displayName": info.get("run_name") or run_id, "experimentName": experiment,
             "status": STATUS.get(info["status"], "Unknown"), "isArchived": info.get("lifecycle_stage") == "deleted",
             "tags": {k: str(v) for k, v in tags.items() if k != RUN_NAME_TAG},
             "properties": {k: v for k, v in extra.items() if v is not None},
             "services": {"Tracking": {"jobServiceType": "Tracking",
                                       "endpoint": f"azureml://{ids.API_HOST}/mlflow/v1.0{service.workspace_id}"}}}
    with service.store.transaction() as conn:
        old = service.store.get(jid, conn)
        if old is not None and not is_outside_run(old.body):
            return  # a submitted job's own run: the job's record is the runner's
        body = envelope(jid, "jobs", run_id, props, system_data(old and old.body["systemData"]))
        service.store.upsert(conn, jid, "jobs", service.workspace_id, run_id, body, archived=props["isArchived"])


def cancel(service, run_id: str) -> None:
    """Cancel an outside run: nothing runs it, so the run ends KILLED and its record follows."""
    import time

    tracking = service.tracking_api().store
    try:
        if tracking.get_run(run_id)["info"]["status"] in ("RUNNING", "SCHEDULED"):
            tracking.update_run(run_id, status="KILLED", end_time=int(time.time() * 1000))
    except TrackingError:
        pass
    sync(service, run_id)
