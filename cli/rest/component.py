"""Components: command, parallel, pipeline -> ComponentVersion whose componentSpec is the spec, resolved.

componentSpec is what the SDK sends: the spec's own keys (snake_case) with code/environment as
`azureml:<ARM id>`, input defaults as strings, and its bookkeeping `_source`/`is_deterministic`.
"""

from __future__ import annotations

import copy
import re

from cli.rest.common import asset_reference, asset_show, compact, string_values

_SIZE = re.compile(r"^(\d+)\s*(kb|mb|gb)$", re.IGNORECASE)
_UNITS = {"kb": 1024, "mb": 1024**2, "gb": 1024**3}


def _default_text(value, kind: str):
    """A default/min/max as the SDK sends it: str() of the value its schema loaded, so a number is
    a float (0 -> "0.0") and a boolean is Python's spelling ("True")."""
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
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


def _node(name: str, node: dict, refs) -> dict:
    """A pipeline step as the SDK serializes it inside componentSpec.jobs."""
    rest = {key: value for key, value in node.items() if key not in ("component", "inputs", "outputs")}
    component = node.get("component")
    if isinstance(component, str):
        rest["_source"] = "REMOTE.WORKSPACE.COMPONENT"
        rest["componentId"] = refs.asset_id(component, "components")
    rest["name"] = name
    rest["inputs"] = {key: {"job_input_type": "literal", "value": value if isinstance(value, str) else str(value)}
                      for key, value in (node.get("inputs") or {}).items() if not isinstance(value, dict)}
    rest["outputs"] = {key: {"type": "literal", "value": value}
                       for key, value in (node.get("outputs") or {}).items() if isinstance(value, str)}
    return rest


def component_spec(spec: dict, refs) -> dict:
    """The spec as the SDK sends it in componentSpec."""
    body = copy.deepcopy(spec)
    kind = body.get("type", "command")
    body["_source"] = "YAML.COMPONENT"
    if "inputs" in body:
        body["inputs"] = _inputs(body["inputs"])
    if kind == "pipeline":
        body["jobs"] = {name: _node(name, node, refs) for name, node in (body.get("jobs") or {}).items()}
        body["sourceJobId"] = None
        return body
    body.setdefault("is_deterministic", True)
    _resolve_runtime(body, refs)
    if isinstance(body.get("task"), dict):
        _resolve_runtime(body["task"], refs)
    size = _SIZE.match(str(body.get("mini_batch_size", "")))
    if size:
        body["mini_batch_size"] = str(int(size[1]) * _UNITS[size[2].lower()])
    elif "mini_batch_size" in body:
        body["mini_batch_size"] = str(body["mini_batch_size"])
    return body


def to_rest(spec: dict, refs) -> dict:
    return {"properties": compact({
        "componentSpec": component_spec(spec, refs),
        "description": spec.get("description"),
        "tags": string_values(spec.get("tags")),
        "properties": string_values(spec.get("properties")),
        "isAnonymous": False,
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
