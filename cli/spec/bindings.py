"""Checks JSON Schema cannot express: `${{...}}` bindings, optional segments, the pipeline graph."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cli.spec.diagnostics import did_you_mean

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
OPTIONAL_SEGMENT = re.compile(r"\$\[\[(.*?)\]\]", re.DOTALL)


@dataclass(frozen=True)
class Finding:
    """A problem at `path` inside the spec data (positions are added by the loader)."""

    path: tuple
    message: str
    severity: str = "error"  # "warning" where the official tools accept the spec as it is


def _ports(section) -> dict:
    return section if isinstance(section, dict) else {}


def _is_optional(port) -> bool:
    return isinstance(port, dict) and port.get("optional") is True


def check_command(text, path: tuple, inputs, outputs, search_space=None, *, check_optional: bool = True) -> list[Finding]:
    """Every ${{inputs.x}}/${{outputs.y}}/${{search_space.p}} in a command names a declared port."""
    if not isinstance(text, str):
        return []
    inputs, outputs = _ports(inputs), _ports(outputs)
    inside_optional = {m.start(): m.end() for m in OPTIONAL_SEGMENT.finditer(text)}
    findings = []
    for match in EXPRESSION.finditer(text):
        parts = match.group(1).split(".")
        root, name = parts[0], parts[1] if len(parts) > 1 else ""
        guarded = any(start <= match.start() < end for start, end in inside_optional.items())
        if root == "inputs":
            name = _declared_name(parts[1:], inputs) or name
            if name not in inputs:
                findings.append(Finding(path, f"'${{{{{match.group(1)}}}}}' names no declared input{did_you_mean(name, inputs)}"))
            elif check_optional and _is_optional(inputs[name]) and not guarded:
                findings.append(Finding(path, f"optional input '{name}' is used outside $[[ ... ]]; the command breaks when it is not given", "warning"))
        elif root == "outputs" and name not in outputs:
            findings.append(Finding(path, f"'${{{{{match.group(1)}}}}}' names no declared output{did_you_mean(name, outputs)}"))
        elif root == "search_space" and search_space is not None and name not in _ports(search_space):
            findings.append(Finding(path, f"'${{{{{match.group(1)}}}}}' names no search_space key{did_you_mean(name, _ports(search_space))}"))
    return findings


def _declared_name(parts: list, declared: dict) -> str | None:
    """The declared port a dotted reference names: 'group.sub.x' may be a parameter group's member."""
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in declared:
            return candidate
    return None


def _strings(value, path: tuple, skip=("component", "trial")):
    """Yield (path, text) for every string under `value`, not descending into inline components."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in skip and isinstance(item, dict):
                continue
            yield from _strings(item, path + (key,), skip)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, path + (index,), skip)


def check_pipeline(spec: dict, component_ports) -> list[Finding]:
    """Bindings between a pipeline and its steps name real ports, and the step graph is acyclic.

    `component_ports(node)` returns (inputs, outputs) of a step's component when known, else None.
    """
    jobs = spec.get("jobs")
    if not isinstance(jobs, dict):
        return []
    inputs, outputs = _ports(spec.get("inputs")), _ports(spec.get("outputs"))
    findings: list[Finding] = []
    edges: dict[str, set] = {name: set() for name in jobs}
    for step, node in jobs.items():
        if not isinstance(node, dict):
            continue
        for path, text in _strings(node, ("jobs", step)):
            # Outside its input/output bindings, a step's ${{inputs.x}} names its own port (command,
            # args, task.program_arguments, input_data); only parent.* reaches the pipeline there.
            own_scope = len(path) > 2 and path[2] not in ("inputs", "outputs")
            for match in EXPRESSION.finditer(text):
                if own_scope and not match.group(1).startswith(("parent.", "jobs.")):
                    continue
                findings += _check_binding(match.group(1), path, step, jobs, inputs, outputs, edges, component_ports)
        ports = component_ports(node)
        if ports is not None:
            findings += _check_node_ports(step, node, *ports)
    cycle = _find_cycle(edges)
    if cycle:
        findings.append(Finding(("jobs", cycle[0]), "pipeline steps form a cycle: " + " -> ".join(cycle)))
    return findings


def _check_binding(expr: str, path, step, jobs, inputs, outputs, edges, component_ports) -> list[Finding]:
    parts = expr.split(".")
    if parts[0] == "parent":
        parts = parts[1:]
    elif parts[0] not in ("inputs", "outputs", "jobs"):
        return []
    if not parts:
        return [Finding(path, f"'${{{{{expr}}}}}' is incomplete")]
    where = f"'${{{{{expr}}}}}'"
    if parts[0] in ("inputs", "outputs"):
        declared = inputs if parts[0] == "inputs" else outputs
        name = parts[1] if len(parts) > 1 else ""
        if name not in declared:
            return [Finding(path, f"{where} names no pipeline {parts[0][:-1]}{did_you_mean(name, declared)}")]
        return []
    if parts[0] == "jobs":
        source = parts[1] if len(parts) > 1 else ""
        if source not in jobs:
            return [Finding(path, f"{where} names no step of this pipeline{did_you_mean(source, jobs)}")]
        edges[step].add(source)
        if len(parts) > 3 and parts[2] == "outputs":
            ports = component_ports(jobs[source]) if isinstance(jobs[source], dict) else None
            known = set(_ports(ports[1])) | set(_ports(jobs[source].get("outputs"))) if ports else None
            if known is not None and parts[3] not in known:
                return [Finding(path, f"{where}: step '{source}' has no output '{parts[3]}'{did_you_mean(parts[3], known)}")]
    return []


def _check_node_ports(step: str, node: dict, inputs, outputs) -> list[Finding]:
    findings = []
    for section, declared in (("inputs", inputs), ("outputs", outputs)):
        given = node.get(section)
        if not isinstance(given, dict) or not isinstance(declared, dict):
            continue
        for name in given:
            if name not in declared:
                findings.append(Finding(("jobs", step, section, name), f"the step's component declares no {section[:-1]} '{name}'{did_you_mean(name, declared)}; it will be ignored", "warning"))
    return findings


def _find_cycle(edges: dict) -> list | None:
    """A cycle in the step graph as [a, b, ..., a], or None."""
    state: dict = {}
    for start in edges:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(edges[start])))]
        trail = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                trail.pop()
            elif state.get(child) == 1:
                return trail[trail.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                trail.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return None
