"""Components: command, parallel, pipeline -> ComponentVersion whose componentSpec is the spec, resolved.

componentSpec is what the SDK sends: the spec's own keys (snake_case) with code/environment as
`azureml:<ARM id>`, input defaults as strings, and its bookkeeping `_source`/`is_deterministic`.
"""

from __future__ import annotations

import copy
import json
import re

from cli.rest.common import asset_reference, asset_show, compact, string_values
from cli.rest.job_io import INPUT_MODES, OUTPUT_MODES

_SIZE = re.compile(r"^(\d+)\s*(kb|mb|gb)$", re.IGNORECASE)
_UNITS = {"kb": 1024, "mb": 1024**2, "gb": 1024**3}


def _default_text(value, kind: str):
    """A default/min/max as the SDK sends it: str() of the value its schema loaded, so a number is
    a float (0 -> "0.0") and a boolean is Python's spelling ("True")."""
    if kind == "number" and not isinstance(value, bool):
        try:
            value = float(value)  # YAML leaves 1e-3 a string; the SDK's number field reads it
        except (TypeError, ValueError):
            pass
    return str(value)


def _inputs(inputs: dict | None) -> dict | None:
    if inputs is None:
        return None
    result = {}
    for name, port in inputs.items():
        port = dict(port)
        for key in ("default", "min", "max"):
            if key in port and port[key] is not None and port.get("type") in ("number", "integer", "boolean", "string"):
                port[key] = _default_text(port[key], port["type"])
        result[name] = port
    return result


def _resolve_runtime(holder: dict, refs) -> None:
    if isinstance(holder.get("code"), str):
        holder["code"] = "azureml:" + refs.code_id(holder["code"])
    if isinstance(holder.get("environment"), str):
        environment = refs.asset_id(holder["environment"], "environments")
        # ARM ids get the azureml: prefix; registry ids and curated names (azureml:AzureML-...) have it
        holder["environment"] = environment if environment.startswith("azureml:") else "azureml:" + environment


def _step_input(value, refs) -> dict:
    """A step input: a literal or binding, or a data/model asset (job_input_type and uri)."""
    if not isinstance(value, dict):
        return {"job_input_type": "literal", "value": value if isinstance(value, str) else str(value)}
    kind = value.get("type", "uri_folder")
    path = value.get("path")
    rest = {"job_input_type": kind}
    if isinstance(path, str) and "${{" not in path:
        rest["uri"] = refs.input_uri(path, kind)
    elif path is not None:
        rest["value"] = path
    if value.get("mode"):
        rest["mode"] = INPUT_MODES.get(value["mode"].lower(), value["mode"])
    return rest


def _step_output(value) -> dict:
    """A step output bound to its pipeline's output, with its mode."""
    if isinstance(value, str):
        return {"type": "literal", "value": value}
    if not value.get("path"):  # an output of the step's own, not bound to the pipeline's
        rest = {"job_output_type": value.get("type", "uri_folder")}
    else:
        rest = {"type": "literal", "value": value["path"]}
    if value.get("mode"):
        rest["mode"] = OUTPUT_MODES.get(value["mode"].lower(), value["mode"])
    return rest


def _node(name: str, node: dict, refs) -> dict:
    """A pipeline step as the SDK serializes it inside componentSpec.jobs."""
    rest = {key: value for key, value in node.items() if key not in ("component", "inputs", "outputs", "compute")}
    if node.get("compute"):
        compute = node["compute"]
        rest["computeId"] = compute if "${{" in compute else refs.compute_id(compute)
    component = node.get("component")
    if isinstance(component, str):
        rest["_source"] = node.get("_source", "REMOTE.WORKSPACE.COMPONENT")
        rest["componentId"] = refs.asset_id(component, "components")
    rest["name"] = name
    inputs = {key: _step_input(value, refs) for key, value in (node.get("inputs") or {}).items()}
    outputs = {key: _step_output(value) for key, value in (node.get("outputs") or {}).items()
               if isinstance(value, str) or (isinstance(value, dict) and value)}
    # the SDK sends a step's inputs and outputs only when it has some
    rest.update(compact({"inputs": inputs or None, "outputs": outputs or None}))
    return rest


def component_spec(spec: dict, refs) -> dict:
    """The spec as the SDK sends it in componentSpec."""
    body = copy.deepcopy(spec)
    kind = body.get("type", "command")
    body.setdefault("_source", "YAML.COMPONENT")  # YAML.JOB: made of a pipeline's inline command step
    body.pop("is_anonymous", None)  # said by the version's isAnonymous, not by the spec
    body.setdefault("type", "command")
    for key in ("tags", "environment_variables"):
        if body.get(key) == {}:
            del body[key]  # the SDK's schema dumps no empty mapping
    if "inputs" in body:
        body["inputs"] = _inputs(body["inputs"])
    for port in (body.get("outputs") or {}).values():
        if isinstance(port, dict):
            port.pop("is_control", None)  # the SDK does not send it
    distribution = body.get("distribution")
    if isinstance(distribution, dict) and str(distribution.get("type", "")).lower() == "tensorflow":
        distribution.setdefault("parameter_server_count", 0)  # the SDK's TensorFlowDistribution default
    if kind == "pipeline":
        body["jobs"] = {name: _node(name, node, refs) for name, node in (body.get("jobs") or {}).items()}
        body["sourceJobId"] = None
        return body
    body.setdefault("is_deterministic", True)
    _resolve_runtime(body, refs)
    if isinstance(body.get("task"), dict):
        _resolve_runtime(body["task"], refs)
    if "mini_batch_size" in body:
        body["mini_batch_size"] = mini_batch_bytes(body["mini_batch_size"])
    if isinstance(body.get("partition_keys"), list):
        body["partition_keys"] = json.dumps(body["partition_keys"])  # the SDK's spelling: a JSON string
    return body


def mini_batch_bytes(value) -> str:
    """A parallel mini_batch_size as the SDK sends it: "10kb" -> "10240", 5 -> "5"."""
    size = _SIZE.match(str(value))
    return str(int(size[1]) * _UNITS[size[2].lower()]) if size else str(value)


def to_rest(spec: dict, refs) -> dict:
    return {"properties": compact({
        "componentSpec": component_spec(spec, refs),
        "description": spec.get("description"),
        "tags": string_values(spec.get("tags")),
        "properties": string_values(spec.get("properties")),
        "isAnonymous": bool(spec.get("is_anonymous")),
        "isArchived": None if spec.get("type") == "pipeline" else False,
    })}


def _node_from_rest(node: dict) -> dict:
    shown = {key: value for key, value in node.items()
             if not key.startswith("_") and key not in ("name", "componentId", "inputs", "outputs")}
    if node.get("componentId"):
        shown["component"] = asset_reference(node["componentId"])
    shown["inputs"] = {key: value.get("value") for key, value in (node.get("inputs") or {}).items()}
    shown["outputs"] = {key: value.get("value") for key, value in (node.get("outputs") or {}).items()}
    return compact(shown)


def from_rest(body: dict) -> dict:
    props = body.get("properties") or {}
    shown = {key: value for key, value in (props.get("componentSpec") or {}).items()
             if not key.startswith("_") and key not in ("sourceJobId", "$schema")}
    if isinstance(shown.get("jobs"), dict):
        shown["jobs"] = {name: _node_from_rest(node) for name, node in shown["jobs"].items()}
    return {**shown, **asset_show(body)}
