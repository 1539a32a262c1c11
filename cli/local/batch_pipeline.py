"""A pipeline component deployment's invoke on the local workspace: the pipeline job it starts.

As on Azure, invoking a `type: pipeline` batch deployment runs the deployment's pipeline component as a
pipeline job: the component's steps are the job's steps (each a child job), the invoke's inputs and
outputs are the job's, bound by name to the component's ports (`${{parent.inputs.x}}` in the steps), and
the deployment's `settings` (default_compute, continue_on_step_failure, ...) are the job's settings.
Inputs the invoke leaves out take the component's defaults; a required one missing is a 400 naming it.
The job is stored through the jobs PUT any client sends, so it runs, lists, streams and shows as any
pipeline job does, with the endpoint and deployment in its properties for `list-jobs`.
"""

from __future__ import annotations

from cli.local.http import ApiError

# the BatchJob wire's JobInput/JobOutput types (the SDK sends "UriFolder", "Literal", ...) as job bodies carry them
_TYPES = {"urifolder": "uri_folder", "urifile": "uri_file", "literal": "literal", "mltable": "mltable",
          "custommodel": "custom_model", "mlflowmodel": "mlflow_model", "tritonmodel": "triton_model"}
_OUTPUT_MODES = {"upload": "Upload", "readwritemount": "ReadWriteMount", "rw_mount": "ReadWriteMount",
                 "mount": "ReadWriteMount", "direct": "Direct"}


def _wire_type(value) -> str | None:
    return _TYPES.get(str(value or "").replace("_", "").lower())


def _component(service, deployment: dict) -> tuple[str, dict]:
    config = deployment["properties"].get("deploymentConfiguration") or {}
    asset = (config.get("componentId") or {}).get("assetId")
    record = service.store.get(asset) if asset else None
    if record is None:
        shown = (asset or "").split("/components/")[-1] or "(none)"
        raise ApiError(400, "UserError", f"The deployment's pipeline component '{shown}' no longer exists.")
    spec = record.body["properties"].get("componentSpec") or {}
    if str(spec.get("type") or "").lower() != "pipeline" or not spec.get("jobs"):
        raise ApiError(400, "UserError", f"'{record.name}' is not a pipeline component with steps.")
    return asset, spec


def _given(invoke: dict, field: str, declared: dict, noun: str) -> dict:
    """The invoke's `field` (inputData, outputData): an object naming only ports the component declares."""
    given, target = invoke.get(field) or {}, f"properties.{field}"
    if not isinstance(given, dict):
        raise ApiError(400, "UserError", f"'{target}' must be an object of {noun}s by name.", target=target)
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ApiError(400, "UserError", f"The pipeline component has no {noun} {', '.join(unknown)}; its {noun}s:"
                       f" {', '.join(sorted(declared)) or 'none'}.", target=target)
    return given


def _inputs(invoke: dict, declared: dict) -> dict:
    given = _given(invoke, "inputData", declared, "input")
    inputs = {}
    for name, port in declared.items():
        value = given.get(name)
        if value is None:
            if port.get("default") is not None:
                inputs[name] = {"jobInputType": "literal", "value": str(port["default"])}
            elif str(port.get("optional", False)).lower() != "true":
                raise ApiError(400, "UserError", f"The pipeline component's input '{name}' is required; give it"
                               " in the invoke's inputs.", target=f"properties.inputData.{name}")
            continue
        kind = _wire_type(value.get("jobInputType")) if isinstance(value, dict) else None
        if kind is None:
            raise ApiError(400, "UserError", f"Input '{name}': unknown type '{(value or {}).get('jobInputType')}'.",
                           target=f"properties.inputData.{name}")
        if kind == "literal":
            inputs[name] = {"jobInputType": "literal", "value": str(value.get("value", ""))}
        elif not value.get("uri"):
            raise ApiError(400, "UserError", f"Input '{name}' has no uri.", target=f"properties.inputData.{name}")
        else:
            inputs[name] = {"jobInputType": kind, "uri": value["uri"]}
    return inputs


def _outputs(invoke: dict, declared: dict) -> dict:
    given = _given(invoke, "outputData", declared, "output")
    outputs = {}
    for name, port in declared.items():
        value = given.get(name) or {}
        if not isinstance(value, dict):
            raise ApiError(400, "UserError", f"Output '{name}' must be an object (jobOutputType, uri, mode).",
                           target=f"properties.outputData.{name}")
        rest = {"jobOutputType": _wire_type(value.get("jobOutputType")) or port.get("type") or "uri_folder"}
        mode = value.get("mode") or port.get("mode")
        if mode:
            rest["mode"] = _OUTPUT_MODES.get(str(mode).replace("_", "").lower(), mode)
        if value.get("uri"):
            rest["uri"] = value["uri"]
        outputs[name] = rest
    return outputs


def _settings(service, settings: dict) -> dict:
    """The deployment's settings as a pipeline job's (default_compute an ARM id of a compute that exists)."""
    result = {k: v for k, v in (settings or {}).items() if v is not None}
    compute = result.get("default_compute")
    if isinstance(compute, str) and compute:
        name = compute.removeprefix("azureml:").rstrip("/").rsplit("/", 1)[-1]
        if name.lower() not in ("serverless", "local"):
            compute_id = service.arm_id("computes", name)
            if service.store.get(compute_id) is None:
                raise ApiError(400, "UserError", f"The deployment's default_compute '{name}' was not found; create"
                               f" it with `ml compute create --name {name} --type amlcompute`.")
            result["default_compute"] = compute_id
    datastore = result.get("default_datastore")
    if isinstance(datastore, str) and datastore and not datastore.startswith("/subscriptions/"):
        result["default_datastore"] = service.arm_id("datastores", datastore.removeprefix("azureml:"))
    return result


def job_body(service, deployment: dict, invoke: dict, *, name: str, experiment: str, extra: dict) -> dict:
    """The PipelineJob `properties` that runs the deployment's component for `invoke` (a BatchJob's)."""
    component_id, spec = _component(service, deployment)
    config = deployment["properties"]["deploymentConfiguration"]
    body = {
        "jobType": "Pipeline",
        "displayName": name,
        "experimentName": experiment,
        "description": spec.get("description"),
        "inputs": _inputs(invoke, spec.get("inputs") or {}),
        "outputs": _outputs(invoke, spec.get("outputs") or {}),
        "jobs": spec["jobs"],
        "settings": _settings(service, config.get("settings") or {}),
        "properties": {**extra, "azureml.pipelineComponent": component_id},
        "tags": {},
        "isArchived": False,
    }
    return {k: v for k, v in body.items() if v is not None}
