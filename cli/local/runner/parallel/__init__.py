"""Parallel jobs: Azure's parallel run (mini-batches over input files, an entry script's init()/run())
on the local workspace.

How it runs: a parallel node becomes a command job (`command_job`) whose command starts driver.py in
the job's own environment. So a parallel step gets everything a command job has (its own runner,
snapshot, inputs and outputs bound, venv, logs, cancel, watchdog) and the engine stays in two small
standard-library scripts the job's interpreter runs: driver.py (mini-batches, workers, retries,
thresholds, results file; its docstring states the semantics) and worker.py (one worker process).

Entry point for a pipeline runner (a `type: parallel` node) or a batch endpoint's invoke:

    from cli.local.runner.parallel import command_job, merge_component
    node, code_id, environment_id = merge_component(component_spec, pipeline_node)
    properties = command_job(node, inputs=..., outputs=..., code_id=code_id, environment_id=environment_id)
    # then PUT {WS}/jobs/<child> with {"properties": properties} (e.g. ChildJobs.submit)

`node` holds the parallel settings in the REST shape the SDK writes for a pipeline's parallel node
(snake_case: input_data, mini_batch_size, max_concurrency_per_instance, error_threshold,
mini_batch_error_threshold, logging_level, retry_settings {max_retries, timeout}, task {entry_script,
program_arguments, append_row_to}, environment_variables, resources), with the parallel component's
own values already merged under the node's. `inputs`/`outputs` are the resolved JobInput/JobOutput
bodies a command job takes (no `${{parent...}}` left).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from cli.local.runner.errors import JobError

DRIVER = Path(__file__).resolve().parent / "driver.py"
PARALLEL_KEY = "azureml.parallel"  # marks the command job as a parallel node's
_INPUT_REF = re.compile(r"^\$\{\{\s*inputs\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
DEFAULT_TIMEOUT = 60
DEFAULT_RETRIES = 3


def _seconds(value) -> str:
    """retry_settings.timeout: seconds as a number, or an ISO duration (PT30S) as REST bodies carry it."""
    from cli.rest.common import duration_seconds

    if value is None or value == "":
        return str(DEFAULT_TIMEOUT)
    if isinstance(value, (int, float)) or str(value).strip().isdigit():
        return str(int(value))
    seconds = duration_seconds(value)
    if seconds is None:
        raise JobError(f"retry_settings.timeout '{value}' is not a number of seconds")
    return str(int(seconds))


def driver_command(node: dict, inputs: dict, *, model_dir: str | None = None) -> str:
    """The command (with `${{inputs/outputs...}}` left for the runner to bind) that runs the driver."""
    task = node.get("task") or {}
    entry = task.get("entry_script") or task.get("entryScript")
    if not entry:
        raise JobError("the parallel task has no entry_script")
    input_data = node.get("input_data") or node.get("inputData")
    if not input_data:
        raise JobError("the parallel job has no input_data")
    match = _INPUT_REF.match(str(input_data).strip())
    input_type = None
    if match:
        if match[1] not in inputs:
            raise JobError(f"input_data {input_data} names no input of the job")
        input_type = str(inputs[match[1]].get("jobInputType") or "").lower() or None
    retry = node.get("retry_settings") or node.get("retrySettings") or {}
    data_word = str(input_data).strip() if match else shlex.quote(str(input_data))  # a reference: the runner quotes it
    words = ["python", shlex.quote(str(DRIVER)), "--entry-script", shlex.quote(entry), "--input-data", data_word]
    options = [
        ("--input-type", input_type),
        ("--mini-batch-size", node.get("mini_batch_size", node.get("miniBatchSize"))),
        ("--max-concurrency", _workers(node)),
        ("--error-threshold", node.get("error_threshold", node.get("errorThreshold"))),
        ("--mini-batch-error-threshold", node.get("mini_batch_error_threshold",
                                                  node.get("miniBatchErrorThreshold"))),
        ("--max-retries", retry.get("max_retries", retry.get("maxRetries", DEFAULT_RETRIES))),
        ("--timeout", _seconds(retry.get("timeout"))),
        ("--logging-level", node.get("logging_level") or node.get("loggingLevel")),
        ("--output-action", _output_action(node.get("output_action") or node.get("outputAction"))),
        ("--output-file-name", node.get("output_file_name") or node.get("outputFileName")),
        ("--partition-keys", _partition_keys(node.get("partition_keys") or node.get("partitionKeys"))),
    ]
    for flag, value in options:
        if value is not None and value != "":
            words += [flag, shlex.quote(str(value))]
    append_to = task.get("append_row_to") or task.get("appendRowTo")
    if append_to:
        reference = str(append_to).strip().startswith("${{")  # ${{outputs.x}}: bound (and quoted) by the runner
        words += ["--append-row-to", str(append_to).strip() if reference else shlex.quote(str(append_to))]
    if model_dir:
        words += ["--model-dir", model_dir]
    program = (task.get("program_arguments") or task.get("programArguments") or "").strip()
    return " ".join(words + ["--", program] if program else words)


_NODE_ONLY = {"componentId", "type", "inputs", "outputs", "name", "_source", "computeId", "compute"}


def merge_component(component_spec: dict, node: dict | None = None) -> tuple[dict, str | None, str | None]:
    """(settings, code id, environment id) of a parallel node: the parallel component's componentSpec
    (REST shape) with the node's own settings over it (retry_settings, logging_level, mini_batch_size,
    max_concurrency_per_instance, error thresholds, input_data, task fields, environment_variables)."""
    merged = {k: v for k, v in component_spec.items() if k not in ("inputs", "outputs")}
    for key, value in (node or {}).items():
        if key in _NODE_ONLY or value is None:
            continue
        if key == "task" and isinstance(value, dict):
            merged["task"] = {**(merged.get("task") or {}), **value}
        else:
            merged[key] = value
    task = merged.get("task") or {}
    return merged, _asset_id(task.get("code")), _asset_id(task.get("environment"))


def _asset_id(reference) -> str | None:
    """`azureml:/subscriptions/...` -> the ARM id; a curated `azureml:AzureML-x:2` stays as written."""
    if not isinstance(reference, str) or not reference:
        return None
    return reference[len("azureml:"):] if reference.startswith("azureml:/subscriptions/") else reference


def _workers(node: dict) -> int | None:
    """Azure runs max_concurrency_per_instance workers on each of resources.instance_count nodes; locally
    all of them run on this machine."""
    per_node = node.get("max_concurrency_per_instance", node.get("maxConcurrencyPerInstance"))
    resources = node.get("resources") or {}
    nodes = resources.get("instance_count") or resources.get("instanceCount") or 1
    return int(per_node) * int(nodes) if per_node is not None else (int(nodes) if int(nodes) > 1 else None)


def _partition_keys(value) -> str | None:
    """partition_keys as the driver takes them: a JSON list (the wire carries it as a JSON string already)."""
    import json

    if value in (None, "", [], "[]"):
        return None
    return value if isinstance(value, str) else json.dumps(list(value))


def _output_action(value) -> str | None:
    if value is None:
        return None
    normal = str(value).replace("_", "").lower()
    return {"appendrow": "append_row", "summaryonly": "summary_only"}.get(normal) or str(value)


def command_job(node: dict, *, inputs: dict, outputs: dict, code_id: str | None, environment_id: str | None,
                model_input: str | None = None, display_name: str | None = None,
                experiment_name: str | None = None, extra_properties: dict | None = None) -> dict:
    """The CommandJob `properties` that run parallel `node` locally (see the module docstring).

    `model_input` names an input (a model) whose path becomes AZUREML_MODEL_DIR for the entry script.
    """
    model_dir = f"${{{{inputs.{model_input}}}}}" if model_input else None
    resources = dict(node.get("resources") or {})
    body = {
        "jobType": "Command",
        "command": driver_command(node, inputs, model_dir=model_dir),
        "codeId": code_id,
        "environmentId": environment_id,
        "inputs": inputs,
        "outputs": outputs,
        "environmentVariables": dict(node.get("environment_variables") or node.get("environmentVariables") or {}),
        "properties": {**(extra_properties or {}), PARALLEL_KEY: "true"},
    }
    if resources.get("instance_count") or resources.get("instanceCount"):
        body["resources"] = {"instanceCount": int(resources.get("instance_count") or resources.get("instanceCount"))}
    if display_name:
        body["displayName"] = display_name
    if experiment_name:
        body["experimentName"] = experiment_name
    return {k: v for k, v in body.items() if v not in (None, {})} | {"inputs": inputs, "outputs": outputs}
