"""Local job runner: runs the command jobs of the embedded workspace as real processes.

Contract (what the job service, `ml job ...` commands and log streaming may rely on):

- `PUT {WS}/jobs/{name}` stores the CommandJob body with `properties.status` NotStarted, then
  `spawn()` starts `python -m cli.local.runner <ML_HOME> <workspace> <job>` in a new session,
  stdin from /dev/null, stdout+stderr appended to `system_logs/runner.log`. That runner owns the
  job to its end. A job naming a compute that is not in the workspace is refused by the PUT
  (400 UserError naming `ml compute create`).
- Job folder `$ML_HOME/workspaces/<ws>/jobs/<job>/`: `snapshot/` (the code asset's files; the
  command's working directory, with `outputs/` and `logs/` as on Azure), `user_logs/std_log.txt`
  (stdout+stderr of the command; distributed jobs: `user_logs/std_log_process_<rank>.txt`),
  `system_logs/runner.log`, `system_logs/runner.json` (runner pid + process start time, command
  process groups), `system_logs/environment_build.log` (when a venv was built or reused), and
  `artifacts/`, the run's artifact root (Azure's `ExperimentRun/dcid.<job>/`, which the default
  datastore links to): MLflow artifacts, `outputs/` and `logs/` (moved there from the working folder
  when the command ends, whatever its outcome), and links to `user_logs/` and `system_logs/`; so
  `ml job download --all` writes `artifacts/outputs/...`, `artifacts/user_logs/...` as az does.
- Public inputs (`https://`, anonymous `wasbs://` and blob URLs) are fetched into
  `$ML_HOME/cache/public-data/` first (public_data.py), then given by their mode like local data.
- Outputs live in the default datastore's blob folder at `azureml/<job>/<output>/` unless the
  output has a `uri` (so `azureml://datastores/workspaceblobstore/paths/azureml/<job>/<output>/`);
  a `uri_file` output without a uri is the file `azureml/<job>/<output>/<output>`. Outputs with
  `assetName` are registered as data (uri_*, mltable) or model (*_model) versions pointing at that
  URI, only once the command succeeded: version `assetVersion` (the SDK's extra wire key) when given
  (taken already: the job fails saying so), else the next free one.
- Status, always written to the stored body in a transaction: NotStarted -> Queued -> Starting ->
  Running -> Finalizing -> Completed | Failed | Canceled (CancelRequested after POST cancel).
  `properties.properties` (strings) gets `StartTimeUtc` (when Running began), `EndTimeUtc`, and on
  failure `FailureReason` and `FailureLogTail` (the last 20 lines of the failing log). Reasons:
  "the command exited with code N", "the command process R exited with code N", "timed out after
  N s", "the local runner stopped unexpectedly", or what made preparation fail.
- Cancel: `POST .../cancel` -> `request_cancel()` sends SIGTERM to the runner's process group; the
  runner sends SIGTERM to each command process group, SIGKILL after 5 s, and records Canceled.
- Liveness: each runner forks a watchdog first thing (watchdog.py) that notices the runner's death at
  once, without a reader: it kills the job's command process groups and marks the job Failed with "the
  local runner stopped unexpectedly" (Canceled if cancel had been requested). Every GET/LIST of a job
  (and run details) also calls `reconcile()`, which does the same should the watchdog be gone too.
- Privacy: the runner runs with umask 077 (its files under ML_HOME are 0600/0700, the command's too),
  and the command gets a filtered copy of the submitter's environment, without credentials (job_env.py;
  extend it with ML_JOB_ENV_ALLOW / ML_JOB_ENV_DENY).
- Logs: `GET https://api.ml.invalid/history/v1.0{WS}/runs/{job}/details` answers
  `{"runId", "status", "startTimeUtc", "endTimeUtc", "logFiles": {"user_logs/std_log.txt": <SAS URL>},
  "error"?}`; each SAS URL reads the log on the blob plane (ranged GET with x-ms-range), through
  `ExperimentRun/dcid.<job>/` in the default datastore, a link to the job folder.
- The command sees: `${{inputs.x}}`/`${{outputs.y}}` bound (see binding.py), Azure's run variables
  (working.py: AZUREML_RUN_ID, AZUREML_ROOT_RUN_ID, AZUREML_ARM_SUBSCRIPTION/RESOURCEGROUP/
  WORKSPACE_NAME/PROJECT_NAME (the experiment), AZUREML_WORKSPACE_SCOPE, AZUREML_EXPERIMENT_SCOPE,
  AZUREML_EXPERIMENT_ID, AZUREML_CR_EXECUTION_WORKING_DIR_PATH (the working folder));
  for each input and output AZURE_ML_INPUT_<name> / AZURE_ML_OUTPUT_<name> and AZUREML_PARAMETER_<name>
  (the SDK documents both; the value `${{...}}` binds to), and AZUREML_DATAREFERENCE_<name> for data
  inputs (as Azure's data capability sets it); MLFLOW_TRACKING_URI/TOKEN/RUN_ID/EXPERIMENT_ID/
  EXPERIMENT_NAME (the job's run on a tracking server the runner serves on 127.0.0.1; the per-job
  token, sent as a bearer by the mlflow client, reaches this job's runs only); the job's
  environment_variables (last, so they may replace any of these, PATH included); and for distributed
  jobs the variables in launch.py. Not set: AZUREML_RUN_TOKEN and AZUREML_RUN_TOKEN_EXPIRY (locally the
  tracking server takes MLFLOW_TRACKING_TOKEN), AZUREML_SWEEP_<name> (sweeps do not run locally).
- Computes: a compute with `scaleSettings.maxNodeCount` runs at most that many nodes of jobs at once
  (slots.py); the others stay Queued. No compute: the default local pool, unbounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path


def spawn(home: Path, workspace: str, job: str) -> int:
    """Start the detached runner of `job`; returns its pid. Its identity goes to runner.json at once."""
    from cli.local import interpreter
    from cli.local.private import PRIVATE_UMASK
    from cli.local.runner import forked
    from cli.local.runner.state import JobFolder, process_start, write_info

    if forked.enabled():  # a parent job's runner starts its children's runners by forking (forked.py)
        return forked.spawn(home, workspace, job)
    folder = JobFolder.of(home, workspace, job)
    folder.make()
    with open(folder.runner_log, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "cli.local.runner", str(home), workspace, job],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, close_fds=True, env=interpreter.environment(),
                                   cwd=folder.root,
                                   umask=PRIVATE_UMASK)  # all it writes is under ML_HOME: private
    write_info(folder, pid=process.pid, start=process_start(process.pid))
    # Reap it when it ends, so a long-lived caller keeps no zombie (a zombie also reads as dead).
    threading.Thread(target=process.wait, daemon=True, name=f"reap-runner-{job}").start()
    return process.pid


def request_cancel(home: Path, workspace: str, job: str) -> bool:
    """SIGTERM the runner of `job`; False when it has no live runner (reconcile() settles the job)."""
    from cli.local.runner.state import JobFolder, alive, read_info

    info = read_info(JobFolder.of(home, workspace, job))
    if not info or not alive(info["pid"], info.get("start")):
        return False
    try:
        os.killpg(info["pid"], signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def reconcile(store, home: Path, workspace: str, record):
    """The job record, marked Failed (or Canceled) when its runner died; see state.reconcile."""
    from cli.local.runner.state import reconcile as settle

    return settle(store, home, workspace, record)
