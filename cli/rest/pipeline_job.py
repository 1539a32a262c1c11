"""Pipeline jobs: a pipeline job spec (its steps' components already created) <-> the JobBase body whose
properties are a PipelineJob, as the SDK sends it.

The SDK's wire shape, read from its requests: `jobs` holds each step as its node dict (snake_case
keys, `componentId` an ARM id, inputs `{job_input_type, value|uri, mode}`, outputs bound to the
pipeline's as `{type: literal, value: ${{parent.outputs.y}}}`), `settings` keeps the spec's keys with
`default_compute` as an ARM id and `default_datastore` spelled `default_datestore` (the SDK's own
spelling, which the service reads) and `_source: YAML.JOB`; pipeline inputs and outputs are JobInput
and JobOutput objects as for command jobs.
"""

from __future__ import annotations

import json
import re

from cli.rest.common import compact, iso_duration, string_values
from cli.rest.component import _node
from cli.rest.job import distribution_to_rest, identity_to_rest, services_to_rest
from cli.rest.sweep import early_termination_to_rest
from cli.rest.job_io import INPUT_MODES, OUTPUT_MODES, input_to_rest, output_to_rest

_SETTINGS_WIRE: dict = {}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(mapping: dict) -> dict:
    """A wire object in the SDK's snake_case spelling for nodes (distributionType -> distribution_type)."""
    return {_CAMEL.sub("_", key).lower(): value for key, value in mapping.items()}


def _step(name: str, node: dict, refs) -> dict:
    """One step as the SDK puts it in `jobs` (the pipeline component's node, with services and limits
    in the SDK's snake_case wire spelling)."""
    node = dict(node)
    services = node.pop("services", None)
    limits = node.pop("limits", None)
    distribution = node.pop("distribution", None)
    identity = node.pop("identity", None)
    trial = node.pop("trial", None) if str(node.get("type")).lower() == "sweep" else None
    early_termination = node.pop("early_termination", None) if trial is not None else None
    rest = _node(name, node, refs)
    if isinstance(trial, str):  # the SDK's sweep node: its component is the trial's
        rest["_source"] = node.get("_source", "REMOTE.WORKSPACE.COMPONENT")
        rest["trial"] = {"componentId": refs.asset_id(trial, "components")}
    if isinstance(early_termination, dict):
        rest["early_termination"] = _snake(early_termination_to_rest(early_termination))
    if isinstance(distribution, dict):
        rest["distribution"] = _snake(distribution_to_rest(distribution))
    if isinstance(identity, dict):
        rest["identity"] = _snake(identity_to_rest(identity))
    if isinstance(rest.get("componentId"), str) and rest["componentId"].startswith("azureml://registries/"):
        rest["_source"] = "REMOTE.REGISTRY"
    for port, value in (node.get("inputs") or {}).items():
        path = value.get("path") if isinstance(value, dict) else None
        if isinstance(path, str) and "${{" in path:  # a typed input bound to another: a binding
            rest["inputs"][port] = compact({"job_input_type": "literal", "value": path,
                                            "mode": INPUT_MODES.get(str(value.get("mode")).lower())})
    for port, value in (node.get("outputs") or {}).items():
        path = value.get("path") if isinstance(value, dict) else None
        if isinstance(path, str) and not path.strip().startswith("${{parent."):  # an output at a URI of its own
            rest["outputs"][port] = compact({"job_output_type": value.get("type", "uri_folder"), "uri": path,
                                             "mode": OUTPUT_MODES.get(str(value.get("mode")).lower())})
        if isinstance(value, dict) and str(value.get("mode")).lower() == "mount" and port in (rest.get("outputs") or {}):
            rest["outputs"][port]["mode"] = "ReadWriteMount"  # the SDK's reading of an output's `mount`
        if isinstance(value, dict) and value.get("name") and port in (rest.get("outputs") or {}):
            rest["outputs"][port]["name"] = value["name"]
    if str(node.get("type")).lower() == "parallel":
        _parallel_settings(rest, node)
    if services:
        rest["services"] = {key: {("job_service_type" if k == "jobServiceType" else k): v for k, v in value.items()}
                            for key, value in services_to_rest(services).items()}
    if isinstance(limits, dict) and node.get("type", "command") == "command":
        rest["limits"] = compact({"job_limits_type": "Command", "timeout": iso_duration(limits.get("timeout"))})
    elif limits is not None:
        rest["limits"] = limits
    return rest


def _parallel_settings(rest: dict, node: dict) -> None:
    """A parallel step's mini_batch_size as the SDK's node sends it (a number of items or bytes: "10kb" ->
    10240) and its partition_keys as a JSON string."""
    from cli.rest.component import mini_batch_bytes

    size = node.get("mini_batch_size")
    if size is not None:
        rest["mini_batch_size"] = int(mini_batch_bytes(size)) if "${{" not in str(size) else size
    if isinstance(node.get("partition_keys"), list):
        rest["partition_keys"] = json.dumps(node["partition_keys"])


def _settings(settings: dict | None, refs) -> dict:
    result = {"_source": "YAML.JOB"}
    for key, value in (settings or {}).items():
        if key == "default_compute" and isinstance(value, str):
            value = refs.compute_id(value)
        elif key == "default_datastore" and isinstance(value, str):
            value = value if value.startswith("/subscriptions/") else f"{refs.workspace_id}/datastores/{value.removeprefix('azureml:')}"
        result[_SETTINGS_WIRE.get(key, key)] = value
    return result


def to_rest(spec: dict, refs) -> dict:
    """A pipeline job's PUT body; each step's `component` names a component already in the workspace."""
    return {"properties": compact({
        "jobType": "Pipeline",
        "displayName": spec.get("display_name"),
        "description": spec.get("description"),
        "experimentName": spec.get("experiment_name"),
        "computeId": refs.compute_id(spec.get("compute")),
        "tags": string_values(spec.get("tags")),
        "properties": string_values(spec.get("properties")),
        "inputs": {name: input_to_rest(value, refs) for name, value in (spec.get("inputs") or {}).items()},
        "outputs": {name: output_to_rest(value) for name, value in (spec.get("outputs") or {}).items()},
        "jobs": {name: _step(name, node, refs) for name, node in (spec.get("jobs") or {}).items()},
        "settings": _settings(spec.get("settings"), refs),
        "isArchived": False,
    })}


def from_rest(props: dict) -> dict:
    """The pipeline-specific keys of `ml job show`: settings and steps, spec-shaped."""
    settings = {({v: k for k, v in _SETTINGS_WIRE.items()}).get(k, k): v
                for k, v in (props.get("settings") or {}).items() if not k.startswith("_")}
    jobs = {}
    for name, node in (props.get("jobs") or {}).items():
        shown = {k: v for k, v in node.items() if not k.startswith("_") and k not in ("name", "componentId", "inputs",
                                                                                       "outputs", "computeId")}
        if node.get("componentId"):
            shown["component"] = "azureml:" + node["componentId"]
        if isinstance(node.get("trial"), dict) and node["trial"].get("componentId"):  # a sweep step's
            shown["trial"] = "azureml:" + node["trial"]["componentId"]
        if node.get("computeId"):
            shown["compute"] = "azureml:" + node["computeId"].rsplit("/", 1)[-1]
        shown["inputs"] = {k: (v.get("value") if "value" in v else compact({"type": v.get("job_input_type"),
                                                                             "path": v.get("uri"), "mode": v.get("mode")}))
                           for k, v in (node.get("inputs") or {}).items()}
        shown["outputs"] = {k: (v.get("value") if "value" in v else {"type": v.get("job_output_type")})
                            for k, v in (node.get("outputs") or {}).items()}
        jobs[name] = compact(shown)
    return compact({"settings": settings or None, "jobs": jobs})
