"""A pipeline step as a child job: the step's node (as the PipelineJob body carries it) and its component
version become the body of a CommandJob (or, for a pipeline component, of a nested PipelineJob).

Bindings are resolved here: `${{parent.inputs.x}}` to the pipeline's input (a literal's value, or the
data input itself), `${{parent.jobs.s.outputs.o}}` to `azureml://jobs/<s's child job>/outputs/o` (the
upstream output by reference: nothing is copied, the runner of the step reads it where it was
written), `${{parent.outputs.y}}` to the pipeline output's URI (with `${{name}}` the step's job name)
and asset name. What a step does not set comes from its component: input defaults, resources,
distribution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cli.local import ids
from cli.local.runner.errors import JobError

BINDING = re.compile(r"\$\{\{\s*parent\.(inputs|outputs|jobs)\.([A-Za-z0-9_.\-]+?)\s*\}\}")
STEP_OUTPUT = re.compile(r"^\$\{\{\s*parent\.jobs\.([A-Za-z0-9_\-]+)\.outputs\.([A-Za-z0-9_\-]+)\s*\}\}$")
PARENT_INPUT = re.compile(r"^\$\{\{\s*parent\.inputs\.([A-Za-z0-9_\-]+)\s*\}\}$")
PARENT_OUTPUT = re.compile(r"^\$\{\{\s*parent\.outputs\.([A-Za-z0-9_\-]+)\s*\}\}$")
NO_COMPUTE = ("serverless", "local")  # the default local pool
_CAMEL = {"instance_count": "instanceCount", "instance_type": "instanceType", "shm_size": "shmSize",
          "docker_args": "dockerArgs", "process_count_per_instance": "processCountPerInstance",
          "worker_count": "workerCount", "parameter_server_count": "parameterServerCount",
          "distribution_type": "distributionType", "job_limits_type": "jobLimitsType"}
_DISTRIBUTIONS = {"pytorch": "PyTorch", "mpi": "Mpi", "tensorflow": "TensorFlow", "ray": "Ray"}
RUNNABLE_KINDS = ("command", "parallel", "sweep", "pipeline")
_INPUT_TYPES = {"literal", "uri_file", "uri_folder", "mltable", "mlflow_model", "custom_model", "triton_model"}


@dataclass
class Step:
    """One step of a pipeline: its node, its component's spec and the steps it waits for."""

    name: str
    node: dict
    component: dict
    needs: set = field(default_factory=set)

    @property
    def kind(self) -> str:
        if str(self.node.get("type")).lower() == "sweep":
            return "sweep"  # its component is the trial's (a command component)
        return str(self.component.get("type") or self.node.get("type") or "command").lower()

    @property
    def deterministic(self) -> bool:
        return str(self.component.get("is_deterministic", True)).lower() != "false"


def upstream_steps(node: dict) -> set:
    """The steps whose outputs `node`'s inputs name."""
    found = set()
    for value in (node.get("inputs") or {}).values():
        text = value.get("value") if isinstance(value, dict) else value
        for kind, path in BINDING.findall(text if isinstance(text, str) else ""):
            if kind == "jobs":
                found.add(path.split(".", 1)[0])
    return found


def load_steps(store, props: dict) -> dict[str, Step]:
    """Every step of the pipeline with its component spec; JobError names a step that cannot run."""
    steps = {}
    for name, node in (props.get("jobs") or {}).items():
        component_id = node.get("componentId") or (node.get("trial") or {}).get("componentId")  # a sweep's trial
        if not component_id:
            raise JobError(f"step '{name}' names no component")
        if component_id.startswith("azureml://registries/"):
            raise JobError(f"step '{name}': registry components ({component_id}) cannot be read by the local"
                           " workspace (no network); register the component in the workspace first")
        record = store.get(component_id)
        if record is None:
            raise JobError(f"step '{name}': component {component_id.rsplit('/components/', 1)[-1]} does not exist"
                           " in this workspace")
        step = Step(name, node, record.body["properties"].get("componentSpec") or {}, upstream_steps(node))
        if step.kind not in RUNNABLE_KINDS:
            raise JobError(f"step '{name}' is a {step.kind} step; local pipelines run command, parallel and"
                           " sweep steps and pipeline components")
        unknown = step.needs - set(props.get("jobs") or {})
        if unknown:
            raise JobError(f"step '{name}' binds to the outputs of {', '.join(sorted(unknown))}, which is not"
                           " a step of this pipeline")
        steps[name] = step
    _check_acyclic(steps)
    return steps


def _check_acyclic(steps: dict[str, Step]) -> None:
    done, visiting = set(), []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise JobError(f"the steps {' -> '.join(visiting[visiting.index(name):] + [name])} form a cycle")
        visiting.append(name)
        for upstream in steps[name].needs:
            visit(upstream)
        visiting.pop()
        done.add(name)

    for name in steps:
        visit(name)


def _strip(value: str | None) -> str | None:
    """A component's `azureml:<ARM id>` as the id a job body carries (registry ids and curated names as written)."""
    if not value:
        return None
    return value[len("azureml:"):] if value.startswith("azureml:/subscriptions/") else value


def _camel(mapping: dict | None) -> dict | None:
    if not isinstance(mapping, dict):
        return None
    return {_CAMEL.get(key, key): value for key, value in mapping.items()}


def _distribution(node: dict, component: dict) -> dict | None:
    wire = node.get("distribution")
    if isinstance(wire, dict) and wire.get("distribution_type"):
        return _camel(wire)
    spec = wire if isinstance(wire, dict) else component.get("distribution")
    if not isinstance(spec, dict) or not spec.get("type"):
        return None
    rest = {"distributionType": _DISTRIBUTIONS.get(str(spec["type"]).lower(), spec["type"])}
    rest.update({_CAMEL[k]: v for k, v in spec.items() if k in _CAMEL})
    return rest


def _pipeline_input(name: str, value: dict) -> dict:
    return {k: v for k, v in value.items() if k in ("jobInputType", "uri", "mode", "value", "description")}


class Bindings:
    """What a step's `${{parent...}}` expressions stand for in one run of a pipeline."""

    def __init__(self, pipeline: dict, child_names: dict[str, str], template_name):
        self.inputs = pipeline.get("inputs") or {}
        self.outputs = pipeline.get("outputs") or {}
        self.child_names = child_names  # step -> its child job (or the job it reuses)
        self.template_name = template_name
        # settings.default_datastore (an ARM id on the wire): where outputs without a place of their own go
        chosen = str((pipeline.get("settings") or {}).get("default_datastore") or "")
        self.datastore = chosen.rstrip("/").rsplit("/", 1)[-1].removeprefix("azureml:") or None

    def input(self, step: str, port: str, value: dict | None, declared: dict) -> dict | None:
        """The child's input `port` (a JobInput) from the node's value and the component's port."""
        kind = (declared or {}).get("type", "string")
        if value is None:
            default = (declared or {}).get("default")
            if default is None:
                return None
            return {"jobInputType": "literal", "value": str(default)}
        wire_type = value.get("job_input_type") or value.get("jobInputType") or "literal"
        mode = value.get("mode")
        if wire_type != "literal":
            return _compact({"jobInputType": wire_type, "uri": value.get("uri"), "mode": mode})
        text = value.get("value")
        if not isinstance(text, str):
            return {"jobInputType": "literal", "value": "" if text is None else str(text)}
        if match := STEP_OUTPUT.match(text):
            upstream, output = match.groups()
            uri = f"azureml://jobs/{self.child_names[upstream]}/outputs/{output}"
            data_kind = kind if kind in _INPUT_TYPES and kind != "literal" else "uri_folder"
            return _compact({"jobInputType": data_kind, "uri": uri, "mode": mode})
        if match := PARENT_INPUT.match(text):
            given = self.inputs.get(match[1])
            if given is None:
                return self.input(step, port, None, declared)  # an unset optional pipeline input
            given = _pipeline_input(match[1], given)
            if given.get("jobInputType") != "literal" and mode:
                given["mode"] = mode
            return given
        # a literal, perhaps with pipeline inputs inside a longer string
        return {"jobInputType": "literal", "value": BINDING.sub(lambda m: self._inline(m, step), text)}

    def _inline(self, match, step: str) -> str:
        kind, path = match.groups()
        if kind == "inputs" and path in self.inputs:
            given = self.inputs[path]
            return str(given.get("value") if given.get("jobInputType") == "literal" else given.get("uri"))
        raise JobError(f"step '{step}': ${{{{parent.{kind}.{path}}}}} cannot be used inside a value")

    def output(self, step: str, child: str, port: str, value: dict | None, declared: dict) -> dict:
        """The child's output `port` (a JobOutput)."""
        kind = (declared or {}).get("type") or "uri_folder"
        rest = {"jobOutputType": kind}
        value = value or {}
        mode = value.get("mode") or (declared or {}).get("mode")
        text = value.get("value")
        if isinstance(text, str) and (match := PARENT_OUTPUT.match(text)):
            bound = self.outputs.get(match[1]) or {}
            rest.update({k: v for k, v in bound.items() if k in ("uri", "mode", "assetName", "assetVersion")})
            rest["jobOutputType"] = kind if declared else bound.get("jobOutputType", kind)
        elif value.get("uri"):
            rest["uri"] = value["uri"]
        if mode and "mode" not in rest:
            rest["mode"] = _OUTPUT_MODES.get(str(mode).lower(), mode)
        if value.get("name"):
            rest["assetName"] = value["name"]
        if not rest.get("uri") and self.datastore:
            folder = f"azureml://datastores/{self.datastore}/paths/azureml/{child}/{port}/"
            rest["uri"] = folder + port if rest["jobOutputType"] == "uri_file" else folder
        if rest.get("uri"):
            uri = rest["uri"].replace("${{default_datastore}}", self.datastore or ids.DEFAULT_DATASTORE)
            rest["uri"] = self.template_name(uri, child, port)
        return rest


_OUTPUT_MODES = {"rw_mount": "ReadWriteMount", "upload": "Upload", "direct": "Direct", "mount": "ReadWriteMount"}


def _compact(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if v is not None}


def child_body(step: Step, child: str, pipeline: dict, bindings: Bindings, compute_id: str | None) -> dict:
    """The JobBase `properties` of the child job that runs `step`."""
    node, component = step.node, step.component
    declared_in = component.get("inputs") or {}
    inputs = {}
    for port in set(declared_in) | set(node.get("inputs") or {}):
        value = (node.get("inputs") or {}).get(port)
        bound = bindings.input(step.name, port, value, declared_in.get(port) or {})
        if bound is not None:
            inputs[port] = bound
    declared_out = component.get("outputs") or {}
    outputs = {port: bindings.output(step.name, child, port, (node.get("outputs") or {}).get(port),
                                     declared_out.get(port) or {})
               for port in set(declared_out) | set(node.get("outputs") or {})}
    common = {
        "displayName": step.name,
        "experimentName": pipeline.get("experimentName") or "Default",
        "computeId": compute_id,
        "inputs": inputs, "outputs": outputs,
        "properties": {"azureml.nodeid": step.name},
        "tags": {},
    }
    if step.kind == "pipeline":
        return _compact({**common, "jobType": "Pipeline", "jobs": component.get("jobs") or {},
                         "settings": {**(pipeline.get("settings") or {}), "_source": "YAML.JOB"},
                         "computeId": None})
    if step.kind in ("parallel", "sweep"):
        from cli.local.runner import pipeline_kinds

        return _compact(pipeline_kinds.BODIES[step.kind](step, common))
    if not component.get("command"):
        raise JobError(f"step '{step.name}': its component has no command")
    resources = _camel(node.get("resources")) or _camel(component.get("resources"))
    limits = _camel(node.get("limits"))
    env_vars = {**(component.get("environment_variables") or {}), **(node.get("environment_variables") or {})}
    return _compact({
        **common, "jobType": "Command", "command": component["command"],
        "codeId": _strip(component.get("code")),
        "environmentId": _strip(component.get("environment")),
        "environmentVariables": {k: str(v) for k, v in env_vars.items()} or None,
        "resources": {**resources, "properties": resources.get("properties") or {}} if resources else None,
        "distribution": _distribution(node, component),
        "limits": {"jobLimitsType": "Command", "timeout": limits["timeout"]} if limits and limits.get("timeout") else None,
    })


def compute_of(step: Step, pipeline: dict) -> str | None:
    """The step's compute (its own, else the pipeline's default); None for the default local pool."""
    compute = step.node.get("computeId") or (pipeline.get("settings") or {}).get("default_compute") \
        or pipeline.get("computeId")
    if isinstance(compute, str) and (match := PARENT_INPUT.match(compute)):
        # a compute promoted to a pipeline input: the input's value (a nested pipeline gets it as a literal)
        given = (pipeline.get("inputs") or {}).get(match[1]) or {}
        compute = given.get("value") if given.get("jobInputType") == "literal" else None
    if not isinstance(compute, str) or not compute or "${{" in compute:
        return None
    compute = compute.removeprefix("azureml:")
    if compute.rsplit("/", 1)[-1].lower() in NO_COMPUTE:
        return None
    return compute
