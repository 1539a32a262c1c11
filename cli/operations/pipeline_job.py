"""Pipeline jobs: each step's component is created first (as the SDK does: anonymous components for
steps from a file or written inline, named azureml_anonymous with a content version), local data of
the pipeline and its steps is uploaded, then the PipelineJob is PUT.
"""

from __future__ import annotations

import copy
import re

from cli.operations import component as components


def prepare_steps(client, data: dict, source) -> dict:
    """`data` (the pipeline spec's data, flags applied) with each step's component named by an id in
    the workspace, step components created; `source` is the loaded Spec (its file and included files).

    The SDK's order: every step's inline environment is registered first, then each step's code and
    component in turn; steps with the same content share one anonymous component."""
    from cli.operations.environment import register_inline

    data = copy.deepcopy(data)
    steps = components.included_steps(source)
    # a sweep step's `trial` is its component: made like any step's, then named back under `trial`
    sweeps = [name for name, node in (data.get("jobs") or {}).items()
              if isinstance(node, dict) and str(node.get("type")).lower() == "sweep" and "trial" in node]
    for name in sweeps:
        data["jobs"][name]["component"] = data["jobs"][name].pop("trial")
    steps.update({path[1]: included for path, included in source.included.items()
                  if len(path) == 3 and path[0] == "jobs" and path[2] == "trial" and path[1] in sweeps})
    output_types = _declared_output_types(data, steps)
    for spec in steps.values():
        if isinstance(spec.data.get("environment"), dict):
            spec.data["environment"] = "azureml:" + register_inline(client, spec.data["environment"])
    inline_steps = {}
    for name, node in (data.get("jobs") or {}).items():
        if not isinstance(node, dict):
            continue
        if "component" not in node and "command" in node:
            outputs = copy.deepcopy(node.get("outputs") or {})
            distribution = node.get("distribution")
            inline = components.inline_command(node)
            if distribution is not None:
                node["distribution"] = distribution  # the SDK keeps it on the step as well
            inline.pop("outputs", None)
            inline.update(_inline_extras(node, outputs, data.get("inputs") or {}, output_types,
                                         data.get("outputs") or {}))
            inline_steps[name] = inline
        elif isinstance(node.get("component"), dict):
            inline_steps[name] = {"_source": components.INLINE_STEP_SOURCE, **node["component"]}
        elif "component" not in node and str(node.get("type")).lower() == "parallel" and isinstance(node.get("task"), dict):
            _resolve_task(client, node["task"])
            inline_steps[name] = _inline_parallel(node, data.get("inputs") or {}, output_types, data.get("outputs") or {})
        else:
            continue
        if isinstance(inline_steps[name].get("environment"), dict):
            environment = inline_steps[name]["environment"]
            inline_steps[name]["environment"] = "azureml:" + register_inline(client, environment)
    created = {}  # PUT path -> reference: identical steps share one component, sent once
    for name, node in (data.get("jobs") or {}).items():
        if name in steps:
            written = node["component"]
            included = steps[name]
            if isinstance(written, str) and written.startswith("file:") and included.data.get("type") != "pipeline":
                # `file:x.yml` counts, for the SDK, as written in the job
                made = components.create_version(client, included, data={"_source": components.INLINE_STEP_SOURCE,
                                                                   **included.data}, anonymous=True,
                                          environment_first=True)
                node["_source"] = components.INLINE_STEP_SOURCE
            else:
                made = components.create_version(client, included, anonymous=True, environment_first=True)
                node["_source"] = components.STEP_SOURCE
            node["component"] = components.reference(made)
        elif name in inline_steps:
            key = repr(sorted(inline_steps[name].items(), key=lambda item: item[0]))
            if key not in created:
                made = components.create_version(client, source, data=inline_steps[name], anonymous=True,
                                          environment_first=True)
                created[key] = components.reference(made)
            node["component"] = created[key]
            node["_source"] = components.INLINE_STEP_SOURCE
    for name in sweeps:
        data["jobs"][name]["trial"] = data["jobs"][name].pop("component")
    return data


# what of an inline parallel step its anonymous component carries too (the step keeps them as well)
_PARALLEL_SETTINGS = ("error_threshold", "input_data", "logging_level", "max_concurrency_per_instance",
                      "mini_batch_error_threshold", "mini_batch_size", "partition_keys", "resources",
                      "retry_settings", "task")


def _resolve_task(client, task: dict) -> None:
    """A parallel step's task code uploaded, then its inline environment registered (the SDK's order);
    the step and its component both name them by id."""
    from cli.client.uploads import upload_code
    from cli.operations.environment import register_inline
    from cli.spec.paths import is_local_path

    if is_local_path(task.get("code")):
        task["code"] = "azureml:" + upload_code(client, task["code"])
    if isinstance(task.get("environment"), dict):
        task["environment"] = "azureml:" + register_inline(client, task["environment"])


def _inline_parallel(node: dict, pipeline_inputs: dict, output_types: dict, pipeline_outputs: dict) -> dict:
    """The anonymous parallel component the SDK makes of a parallel step written inline: a port per
    step input and output (as for an inline command step) and the step's parallel settings."""
    component = {"type": "parallel", "_source": components.INLINE_STEP_SOURCE}
    extras = _inline_extras(node, copy.deepcopy(node.get("outputs") or {}), pipeline_inputs, output_types,
                            pipeline_outputs)
    component.update({k: v for k, v in extras.items() if k in ("inputs", "outputs", "description")})
    for key in _PARALLEL_SETTINGS:
        if node.get(key) is not None:
            component[key] = copy.deepcopy(node[key])
    component.setdefault("mini_batch_size", 0)  # the SDK's ParallelComponent default, which its node repeats
    node.setdefault("mini_batch_size", 0)
    return component


def _declared_output_types(data: dict, steps: dict) -> dict:
    """{(step, output): type} of the outputs each step declares (inline or in its component file)."""
    types = {}
    for name, node in (data.get("jobs") or {}).items():
        if not isinstance(node, dict):
            continue
        declared = dict(steps[name].data.get("outputs") or {}) if name in steps else {}
        if isinstance(node.get("component"), dict):
            declared.update(node["component"].get("outputs") or {})
        declared.update({k: v for k, v in (node.get("outputs") or {}).items() if isinstance(v, dict) or v is None})
        for output, port in declared.items():
            types[(name, output)] = (port or {}).get("type") or "uri_folder"
    return types


_PARENT_INPUT = re.compile(r"\$\{\{\s*parent\.inputs\.([A-Za-z0-9_]+)\s*\}\}")
_PARENT_OUTPUT = re.compile(r"\$\{\{\s*parent\.outputs\.([A-Za-z0-9_]+)\s*\}\}")
_STEP_OUTPUT = re.compile(r"\$\{\{\s*parent\.jobs\.([A-Za-z0-9_]+)\.outputs\.([A-Za-z0-9_]+)\s*\}\}")


def _port_type(value) -> str:
    """The input type the SDK infers for a value: a data input's type, else the literal's."""
    if isinstance(value, dict):
        return value.get("type") or "uri_folder"
    if isinstance(value, bool):
        return "boolean"
    return {int: "integer", float: "number"}.get(type(value), "string")


def _inline_extras(node: dict, outputs: dict, pipeline_inputs: dict, output_types: dict,
                   pipeline_outputs: dict) -> dict:
    """What the SDK puts in the component of an inline command step: an input port per step input,
    typed from what it is bound to (a literal also gives its default), an output port per output
    (its type and mode), and the step's description and resources."""
    extras = {}
    out_ports = {}
    for name, value in outputs.items():
        bound = _PARENT_OUTPUT.fullmatch(value) if isinstance(value, str) else None
        if bound:  # the port takes the type and mode of the pipeline output it is bound to
            value = pipeline_outputs.get(bound[1]) or {}
        port = {"type": (value or {}).get("type") or "uri_folder"} if not isinstance(value, str) else {"type": "uri_folder"}
        if isinstance(value, dict) and value.get("mode"):
            port["mode"] = value["mode"]
        out_ports[name] = port
    if out_ports:
        extras["outputs"] = out_ports
    ports = {}
    for name, value in (node.get("inputs") or {}).items():
        bound = _PARENT_INPUT.fullmatch(value) if isinstance(value, str) else None
        if bound:
            port = {"type": _port_type(pipeline_inputs.get(bound[1]))}
        elif isinstance(value, str) and _STEP_OUTPUT.fullmatch(value):
            upstream = _STEP_OUTPUT.fullmatch(value)
            port = {"type": output_types.get((upstream[1], upstream[2]), "uri_folder")}
        else:
            port = {"type": _port_type(value)}
            if isinstance(value, dict) and value.get("mode"):
                port["mode"] = value["mode"]
            if not isinstance(value, dict):
                port["default"] = str(value)
        ports[name] = port
    if ports:
        extras["inputs"] = ports
    for key in ("description", "resources"):
        if node.get(key):
            extras[key] = node[key]
    return extras


# ---- reads: a pipeline's steps as its child jobs


def _seconds(start: str | None, end: str | None) -> float | None:
    from datetime import datetime, timezone

    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    if not start:
        return None
    finish = parse(end) if end else datetime.now(timezone.utc)
    return round((finish - parse(start)).total_seconds(), 1)


def step_runs(client, name: str) -> list[dict]:
    """The pipeline's child jobs from run history (`runs/{name}/children`; one page of up to 1000)."""
    from cli.operations.job_stream import history_base

    url = f"{history_base(client)}/runs/{name}/children"
    return (client.get(url, params={"$top": "1000"}, api_version="v1.0") or {}).get("value") or []


def steps_shown(client, name: str, body: dict) -> dict:
    """{step: {job, status, duration_seconds, reused_from?}} in the pipeline's step order; a step not
    started yet shows NotStarted."""
    runs = {}
    for run in step_runs(client, name):
        step = (run.get("properties") or {}).get("azureml.nodeid") or run.get("displayName")
        runs[step] = run
    shown = {}
    declared = list((body.get("properties") or {}).get("jobs") or {})
    # steps in the order they started (run history lists children oldest first), then the others
    for step in [s for s in runs if s in declared] + [s for s in declared if s not in runs]:
        run = runs.get(step)
        if run is None:
            shown[step] = {"status": "NotStarted"}
            continue
        extra = run.get("properties") or {}
        entry = {"job": run.get("runId"), "status": run.get("status"),
                 "duration_seconds": _seconds(run.get("startTimeUtc"), run.get("endTimeUtc"))}
        if extra.get("azureml.reusedrunid"):
            entry["reused_from"] = extra["azureml.reusedrunid"]
        shown[step] = entry
    return shown


def tree_rows(shown: dict) -> list[dict]:
    """`ml job show -o table` of a pipeline: the pipeline, then each step under it."""
    props = shown.get("properties") or {}
    rows = [{"name": shown.get("name"), "status": shown.get("status"),
             "duration_seconds": _seconds(props.get("StartTimeUtc"), props.get("EndTimeUtc")), "job": "", "reused_from": ""}]
    steps = list((shown.get("steps") or {}).items())
    for index, (step, entry) in enumerate(steps):
        branch = "└─ " if index == len(steps) - 1 else "├─ "
        rows.append({"name": branch + step, "status": entry.get("status"),
                     "duration_seconds": entry.get("duration_seconds"), "job": entry.get("job", ""),
                     "reused_from": entry.get("reused_from", "")})
    return rows
