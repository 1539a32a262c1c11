"""A batch endpoint's invoke on the local workspace: the batch scoring job it starts.

The job is a parallel job over the invoke's input (cli/local/runner/parallel: mini-batches, the
scoring script's init()/run() in max_concurrency_per_instance workers, error_threshold, retry_settings,
output_action) stored as a command job through the same jobs PUT any client sends, so it has a runner,
shows in `ml job list`, streams and cancels like any job. Its inputs: `data` (the invoke's input) and
`model` (the deployment's model; AZUREML_MODEL_DIR is the folder holding the model's files, as on Azure);
its output `score` (the invoke's output path, else the job's default folder) gets the results file.

An MLflow model without a scoring script is scored by mlflow_score.py (beside the parallel driver),
in the deployment's environment, or else in one built from the model's own conda.yaml, as Azure
builds it for no-code MLflow deployments.

Azure's defaults for a batch deployment's settings apply to what the deployment leaves out.

A pipeline component deployment's invoke starts a pipeline job instead (cli/local/batch_pipeline.py).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from cli.local.http import ApiError

BATCH_DEFAULTS = {"miniBatchSize": 10, "maxConcurrencyPerInstance": 1, "errorThreshold": -1,
                  "retrySettings": {"maxRetries": 3, "timeout": "PT30S"}, "outputAction": "AppendRow",
                  "outputFileName": "predictions.csv", "loggingLevel": "Info"}
ENDPOINT_KEY, DEPLOYMENT_KEY = "azureml.batchEndpoint", "azureml.batchDeployment"
MLFLOW_SCORER = Path(__file__).resolve().parent / "runner" / "parallel" / "mlflow_score.py"
MLFLOW_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"
_INPUT_TYPES = {"urifolder": "uri_folder", "urifile": "uri_file", "uri_folder": "uri_folder",
                "uri_file": "uri_file", "mltable": "mltable"}


def endpoint_of(job_body: dict) -> str | None:
    """The (lower-case) batch endpoint that started a stored job, or None."""
    extra = (job_body.get("properties") or {}).get("properties") or {}
    value = extra.get(ENDPOINT_KEY)
    return value.lower() if value else None


def _data_input(invoke: dict) -> dict:
    entries = invoke.get("inputData") or {}
    if not isinstance(entries, dict) or not entries:
        raise ApiError(400, "UserError", "The batch job needs an input ('properties.inputData').",
                       target="properties.inputData")
    candidates = [e for e in entries.values() if isinstance(e, dict) and e.get("uri")]
    if len(candidates) != 1:
        raise ApiError(400, "UserError", "A model deployment scores one data input; the request gives"
                       f" {len(candidates)}.", target="properties.inputData")
    entry = candidates[0]
    kind = _INPUT_TYPES.get(str(entry.get("jobInputType") or "uri_folder").lower())
    if kind is None:
        raise ApiError(400, "UserError", f"Input type '{entry.get('jobInputType')}' cannot be scored by a batch"
                       " deployment; use uri_folder or uri_file.", target="properties.inputData")
    return {"jobInputType": kind, "uri": entry["uri"], "mode": "ReadOnlyMount"}


def _output(service, invoke: dict) -> dict:
    output = {"jobOutputType": "uri_folder", "mode": "ReadWriteMount"}
    dataset = invoke.get("outputDataset") or {}
    if dataset.get("datastoreId") and dataset.get("path") is not None:
        datastore = dataset["datastoreId"].rstrip("/").rsplit("/", 1)[-1]
        output["uri"] = f"azureml://datastores/{datastore}/paths/{dataset['path'].lstrip('/')}"
    elif (invoke.get("outputData") or {}):
        uri = next(iter(invoke["outputData"].values()), {}).get("uri")
        if uri:
            output["uri"] = uri
    return output


def _model(service, deployment: dict) -> tuple[dict | None, str | None]:
    """(the model input, its type) of the deployment's model, or (None, None) without one."""
    asset = (deployment["properties"].get("model") or {}).get("assetId")
    if not asset:
        return None, None
    record = service.store.get(asset)
    if record is None:
        raise ApiError(400, "UserError", f"The deployment's model '{asset.split('/models/')[-1]}' no longer exists.")
    props = record.body["properties"]
    kind = props.get("modelType") or "custom_model"
    return {"jobInputType": kind, "uri": props["modelUri"], "mode": "ReadOnlyMount"}, kind


def _mlflow_environment(service, model_input: dict) -> str:
    """An anonymous environment from the MLflow model's conda.yaml (or requirements.txt)."""
    from cli.local.runner.data import DataResolver
    from cli.local.runner.errors import JobError

    try:
        folder = DataResolver(service).local_path(model_input["uri"], "mlflow_model")
    except JobError as error:
        raise ApiError(400, "UserError", str(error)) from None
    conda = next((p for p in (folder / "conda.yaml", folder / "conda.yml") if p.is_file()), None)
    if conda is None:
        raise ApiError(400, "UserError", "The MLflow model has no conda.yaml to build its environment from;"
                       " give the deployment an environment.")
    text = conda.read_text(encoding="utf-8")
    version = str(uuid.uuid5(uuid.NAMESPACE_URL, text + MLFLOW_IMAGE))
    eid = service.arm_id("environments", "CliV2AnonymousEnvironment", "versions", version)
    if service.store.get(eid) is None:
        from cli.local.handlers import assets

        _put(service, assets.put_version, eid, {"name": "CliV2AnonymousEnvironment", "version": version},
             {"properties": {"condaFile": text, "image": MLFLOW_IMAGE, "isAnonymous": True}}, "environment")
    return eid


def start(service, endpoint: dict, deployment: dict, invoke: dict) -> str:
    """Store the batch scoring job for `invoke` (a BatchJob's properties); its runner starts. Its name."""
    from cli.local.runner.parallel import command_job

    props = {**BATCH_DEFAULTS, **{k: v for k, v in deployment["properties"].items() if v is not None}}
    for key in ("miniBatchSize", "errorThreshold"):  # invoke's settings (--set, --mini-batch-size) win
        if invoke.get(key) is not None:
            props[key] = invoke[key]
    if invoke.get("retrySettings"):
        props["retrySettings"] = {**(props.get("retrySettings") or {}), **invoke["retrySettings"]}
    if (invoke.get("compute") or {}).get("instanceCount"):
        props["resources"] = {**(props.get("resources") or {}), "instanceCount": invoke["compute"]["instanceCount"]}
    name = invoke.get("jobName") or f"batchjob-{uuid.uuid4()}"
    extra = {ENDPOINT_KEY: endpoint["name"], DEPLOYMENT_KEY: deployment["name"]}
    experiment = ((invoke.get("properties") or {}).get("experimentName")) or endpoint["name"]
    if props.get("deploymentConfiguration"):  # a pipeline component deployment: a pipeline job
        from cli.local import batch_pipeline

        body = batch_pipeline.job_body(service, deployment, invoke, name=name, experiment=experiment, extra=extra)
        return _put_job(service, name, body)
    model_input, model_type = _model(service, deployment)
    code = props.get("codeConfiguration") or {}
    environment_id = props.get("environmentId")
    code_id, entry = code.get("codeId"), code.get("scoringScript")
    if not entry:
        if model_type != "mlflow_model":
            raise ApiError(400, "UserError", "The deployment has no scoring script; only an MLflow model can be"
                           " deployed without one.")
        entry = str(MLFLOW_SCORER)
        environment_id = environment_id or _mlflow_environment(service, model_input)
    inputs = {"data": _data_input(invoke)}
    if model_input:
        inputs["model"] = model_input
    node = {"input_data": "${{inputs.data}}", "mini_batch_size": props["miniBatchSize"],
            "max_concurrency_per_instance": props["maxConcurrencyPerInstance"],
            "error_threshold": props["errorThreshold"], "retry_settings": props["retrySettings"],
            "logging_level": props["loggingLevel"], "output_action": props["outputAction"],
            "output_file_name": invoke.get("outputFileName") or props["outputFileName"],
            "environment_variables": props.get("environmentVariables") or {},
            "resources": props.get("resources") or {},
            "task": {"entry_script": entry, "append_row_to": "${{outputs.score}}"}}
    body = command_job(node, inputs=inputs, outputs={"score": _output(service, invoke)}, code_id=code_id,
                       environment_id=environment_id, model_input="model" if model_input else None,
                       display_name=name, experiment_name=experiment, extra_properties=extra)
    if props.get("compute"):
        body["computeId"] = props["compute"]
    return _put_job(service, name, body)


def _put_job(service, name: str, body: dict) -> str:
    from cli.local.handlers import jobs

    _put(service, jobs.put, service.arm_id("jobs", name), {"id": name}, {"properties": body}, "batch job")
    return name


def _put(service, handler, resource_id: str, params: dict, body: dict, what: str) -> None:
    """PUT through the resource's own handler (the invoke runs inside a request, so not over HTTP again):
    the body is checked, stored and (a job) started as any client's is."""
    import httpx

    from cli.local.http import Call, Request

    request = Request("PUT", httpx.URL(service.url(resource_id)),
                      httpx.Headers({"content-type": "application/json"}), iter([json.dumps(body).encode()]))
    try:
        response = handler(Call(service, request, params))
    except ApiError as error:
        raise ApiError(400, "UserError", f"The {what} was refused: {error}") from None
    if response.status_code >= 300:
        message = json.loads(response.content).get("error", {}).get("message", "")
        raise ApiError(400, "UserError", f"The {what} was refused: {message}")


def batch_job_body(service, name: str) -> dict:
    """The BatchJob resource invoke answers (the SDK's wire shape: status, inputData, outputDataset)."""
    record = service.store.get(service.arm_id("jobs", name))
    props = record.body["properties"]
    if props.get("jobType") == "Pipeline":  # a pipeline component deployment's: its inputs and outputs by name
        shown = {"inputData": props.get("inputs") or {}, "outputData": props.get("outputs") or {}}
    else:
        shown = {"inputData": {"data": props["inputs"]["data"]},
                 "outputDataset": {"path": props["outputs"]["score"].get("uri")}}
    return {"id": record.id, "name": name, "type": "Microsoft.MachineLearningServices/workspaces/batchEndpoints/jobs",
            "properties": {"status": props.get("status", "NotStarted"), **shown,
                           "properties": props.get("properties") or {}},
            "systemData": record.body.get("systemData")}
