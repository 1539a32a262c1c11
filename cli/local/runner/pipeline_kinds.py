"""The child job of a parallel or a sweep step, from the step's node (as the PipelineJob body carries it),
its component and the inputs and outputs already bound (pipeline_steps.child_body makes those).

- parallel: a command job running the parallel driver over the step's input_data (cli/local/runner/
  parallel), the step's settings over its component's.
- sweep: a sweep job whose trial is the step's command component. The search space's names are inputs
  of that component, so each trial gets its sampled values as those inputs (its command's
  `${{inputs.<name>}}` become `${{search_space.<name>}}`); the sweep ends with the best trial's outputs
  as its own (kind_sweep), which is what downstream steps read, as on Azure.
"""

from __future__ import annotations

import re

from cli.local.runner.errors import JobError


def _strip(value: str | None) -> str | None:
    if not value:
        return None
    return value[len("azureml:"):] if value.startswith("azureml:/subscriptions/") else value


def parallel_body(step, common: dict) -> dict:
    from cli.local.runner.parallel import command_job, merge_component

    node, code_id, environment_id = merge_component(step.component, step.node)
    if str(node.get("mini_batch_size")) == "0":
        node.pop("mini_batch_size")  # the SDK's "not set": Azure's default applies
    body = command_job(node, inputs=common["inputs"], outputs=common["outputs"], code_id=_strip(code_id),
                       environment_id=_strip(environment_id), display_name=common["displayName"],
                       experiment_name=common["experimentName"], extra_properties=common["properties"])
    return {**body, "computeId": common["computeId"], "tags": {}}


_SNAKE_WORD = re.compile(r"_([a-z])")


def _camel(mapping: dict | None) -> dict | None:
    if not isinstance(mapping, dict):
        return None
    return {_SNAKE_WORD.sub(lambda m: m[1].upper(), key): value for key, value in mapping.items()}


def sweep_body(step, common: dict) -> dict:
    from cli.rest.sweep import limits_to_rest, sampling_algorithm_to_rest, search_distribution_to_rest

    node, component = step.node, step.component
    space = node.get("search_space") or {}
    if not space:
        raise JobError(f"step '{step.name}': the sweep step has no search_space")
    if str(component.get("type") or "command").lower() != "command" or not component.get("command"):
        raise JobError(f"step '{step.name}': a sweep step's trial must be a command component")
    undeclared = sorted(set(space) - set(component.get("inputs") or {}))
    if undeclared:
        raise JobError(f"step '{step.name}': the search space names {', '.join(undeclared)}, which the trial"
                       " component has no input for")
    command = component["command"]
    for name in space:
        command = re.sub(r"\$\{\{\s*inputs\." + re.escape(name) + r"\s*\}\}", "${{search_space.%s}}" % name, command)
    objective = node.get("objective") or {}
    resources = _camel(node.get("resources")) or _camel(component.get("resources"))
    env_vars = {**(component.get("environment_variables") or {}), **(node.get("environment_variables") or {})}
    return {
        "jobType": "Sweep",
        "displayName": common["displayName"], "experimentName": common["experimentName"],
        "computeId": common["computeId"], "properties": common["properties"], "tags": {},
        "inputs": {k: v for k, v in common["inputs"].items() if k not in space},
        "outputs": common["outputs"],
        "searchSpace": {name: search_distribution_to_rest(value) for name, value in space.items()},
        "samplingAlgorithm": sampling_algorithm_to_rest(node.get("sampling_algorithm")),
        "limits": limits_to_rest(node.get("limits")),
        "earlyTermination": _camel(node.get("early_termination")),
        "objective": {"goal": str(objective.get("goal") or "maximize").lower(),
                      "primaryMetric": objective.get("primary_metric") or objective.get("primaryMetric")},
        "trial": {k: v for k, v in {
            "command": command, "codeId": _strip(component.get("code")),
            "environmentId": _strip(component.get("environment")),
            "environmentVariables": {k: str(v) for k, v in env_vars.items()} or None,
            "resources": {**resources, "properties": resources.get("properties") or {}} if resources else None,
        }.items() if v is not None},
    }


BODIES = {"parallel": parallel_body, "sweep": sweep_body}
