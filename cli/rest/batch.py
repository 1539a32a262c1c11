"""Batch endpoints and deployments: spec <-> BatchEndpoint / BatchDeployment bodies, as the SDK sends them.

Three deployment shapes, as `az ml batch-deployment create` loads them by `type`:
- `type: model`: the run settings sit under `settings:` (ModelBatchDeployment);
- no type (the older BatchDeployment schema): the same settings at the top level;
- `type: pipeline`: a pipeline component (`component:`) with pipeline `settings:`, carried as
  `deploymentConfiguration` with the SDK's fixed run defaults beside it.
Only what the spec gives is sent (the service fills the rest), except where the SDK always writes a
member: `properties: {}`, `resources.properties: {}`, and `environmentVariables: {}` of the older shape.
"""

from __future__ import annotations

from cli.rest.common import (asset_reference, compact, creation_context, duration_seconds, iso_duration,
                             string_values)

_SETTINGS = ("max_concurrency_per_instance", "mini_batch_size", "output_action", "output_file_name",
             "retry_settings", "error_threshold", "logging_level", "environment_variables")
_ACTIONS = {"append_row": "AppendRow", "summary_only": "SummaryOnly"}
_AUTH = {"aad_token": "AADToken", "key": "Key", "aml_token": "AMLToken"}
# the SDK's PipelineComponentBatchDeployment sends these whatever the spec says
_PIPELINE_RUN_DEFAULTS = {"errorThreshold": -1, "maxConcurrencyPerInstance": 1, "miniBatchSize": 10,
                          "outputFileName": "predictions.csv"}


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


def endpoint_to_rest(spec: dict, location: str | None) -> dict:
    defaults = spec.get("defaults") or {}
    props = compact({
        "authMode": _camel(spec.get("auth_mode") or "aad_token"),
        "description": spec.get("description"),
        "properties": string_values(spec.get("properties")),
        "defaults": compact({"deploymentName": defaults.get("deployment_name")}) or None,
    })
    return compact({"location": location, "properties": props, "tags": string_values(spec.get("tags"))})


def endpoint_from_rest(body: dict) -> dict:
    props = body.get("properties") or {}
    auth = str(props.get("authMode") or "AADToken")
    return compact({
        "name": body.get("name"), "id": body.get("id"), "location": body.get("location"),
        "description": props.get("description"), "tags": body.get("tags") or {},
        "properties": props.get("properties") or {},
        "auth_mode": next((ours for ours, theirs in _AUTH.items() if theirs.lower() == auth.lower()), auth),
        "defaults": {"deployment_name": (props.get("defaults") or {}).get("deploymentName")},
        "scoring_uri": props.get("scoringUri"), "openapi_uri": props.get("swaggerUri"),
        "provisioning_state": props.get("provisioningState"),
        "creation_context": creation_context(body.get("systemData")),
    })


def _settings(spec: dict) -> dict:
    """The run settings, from `settings:` (type model) or the top level (the older schema)."""
    if spec.get("type") == "model":
        return dict(spec.get("settings") or {})
    return {key: spec[key] for key in _SETTINGS if key in spec}


def _retry(retry: dict | None) -> dict | None:
    if not retry:
        return None
    timeout = retry.get("timeout")
    return compact({"maxRetries": retry.get("max_retries"),
                    "timeout": iso_duration(timeout) if isinstance(timeout, (int, float)) else timeout})


def deployment_to_rest(spec: dict, refs, location: str | None) -> dict:
    """The BatchDeployment body; model, code, environment and component already resolved to references
    `refs` turns into ids (uploads and inline assets are done by the operation first)."""
    if spec.get("type") == "pipeline":
        return _pipeline_deployment(spec, refs, location)
    settings = _settings(spec)
    code = spec.get("code_configuration") or {}
    action = settings.get("output_action")
    props = compact({
        "compute": refs.compute_id(spec.get("compute")),
        "description": spec.get("description"),
        "resources": _resources(spec.get("resources")),
        "codeConfiguration": compact({"codeId": refs.code_id(code["code"]) if code.get("code") else None,
                                      "scoringScript": code.get("scoring_script")}) or None,
        "environmentId": refs.asset_id(spec["environment"], "environments") if spec.get("environment") else None,
        "model": {"assetId": refs.asset_id(spec["model"], "models"), "referenceType": "Id"} if spec.get("model") else None,
        "outputFileName": settings.get("output_file_name"),
        "outputAction": _ACTIONS.get(action, action) if action else None,
        "errorThreshold": settings.get("error_threshold"),
        "retrySettings": _retry(settings.get("retry_settings")),
        "loggingLevel": settings.get("logging_level"),
        "miniBatchSize": settings.get("mini_batch_size"),
        "maxConcurrencyPerInstance": settings.get("max_concurrency_per_instance"),
        "environmentVariables": (settings.get("environment_variables") or {}) if spec.get("type") != "model"
        else settings.get("environment_variables"),
        "properties": string_values(spec.get("properties")),
    })
    return compact({"location": location, "properties": props, "tags": spec.get("tags") or {}})


def _resources(resources: dict | None) -> dict | None:
    if not resources:
        return None
    return compact({"instanceCount": resources.get("instance_count"), "instanceType": resources.get("instance_type"),
                    "properties": resources.get("properties") or {}})


def _setting_text(value):
    """A pipeline deployment's setting as the contract types it (a string): the SDK sends
    `continue_on_step_failure: false` as the JSON false, which Azure reads as the text False; ml sends
    that text, so the body is the contract's."""
    return str(value) if isinstance(value, (bool, int, float)) else value


def _pipeline_deployment(spec: dict, refs, location: str | None) -> dict:
    component = spec.get("component")
    if not isinstance(component, str):
        from cli.errors import UsageError

        raise UsageError("a pipeline batch deployment needs `component:` naming a registered pipeline component")
    config = {"componentId": {"assetId": refs.asset_id(component, "components"), "referenceType": "Id"},
              "deploymentConfigurationType": "PipelineComponent",
              "settings": {k: _setting_text(v) for k, v in (spec.get("settings") or {}).items()}}
    props = compact({"deploymentConfiguration": config, "description": spec.get("description"),
                     **_PIPELINE_RUN_DEFAULTS})
    return compact({"location": location, "properties": props, "tags": spec.get("tags") or {}})


def deployment_from_rest(body: dict) -> dict:
    props = body.get("properties") or {}
    parts = (body.get("id") or "").split("/")
    endpoint = parts[parts.index("batchEndpoints") + 1] if "batchEndpoints" in parts else None
    code = props.get("codeConfiguration") or {}
    retry = props.get("retrySettings") or {}
    config = props.get("deploymentConfiguration") or {}
    action = props.get("outputAction")
    shown = {
        "name": body.get("name"), "endpoint_name": endpoint, "id": body.get("id"),
        "type": "pipeline" if config else "model",
        "description": props.get("description"), "tags": body.get("tags") or {},
        "properties": props.get("properties") or {},
        "model": asset_reference((props.get("model") or {}).get("assetId")),
        "component": asset_reference((config.get("componentId") or {}).get("assetId")),
        "settings": config.get("settings") if config else None,
        "code_configuration": compact({"code": asset_reference(code.get("codeId")),
                                       "scoring_script": code.get("scoringScript")}) or None,
        "environment": asset_reference(props.get("environmentId")),
        "compute": (props.get("compute") or "").rsplit("/", 1)[-1] or None,
        "resources": compact({"instance_count": (props.get("resources") or {}).get("instanceCount")}) or None,
        "mini_batch_size": props.get("miniBatchSize"),
        "max_concurrency_per_instance": props.get("maxConcurrencyPerInstance"),
        "error_threshold": props.get("errorThreshold"),
        "output_action": next((ours for ours, theirs in _ACTIONS.items() if theirs == action), action),
        "output_file_name": props.get("outputFileName"),
        "retry_settings": compact({"max_retries": retry.get("maxRetries"),
                                   "timeout": duration_seconds(retry.get("timeout"))}) or None,
        "logging_level": props.get("loggingLevel"),
        "environment_variables": props.get("environmentVariables"),
        "provisioning_state": props.get("provisioningState"),
        "creation_context": creation_context(body.get("systemData")),
    }
    return compact(shown)
