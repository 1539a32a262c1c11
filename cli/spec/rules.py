"""Family rules the official SDK enforces before it sends anything, beyond what a schema says."""

from __future__ import annotations

from pathlib import Path

from cli.spec.bindings import Finding

_FILE_INPUTS = ("uri_file", "uri_folder")


def check(family: str, data: dict) -> list[Finding]:
    findings = _git_code(data, ()) if family in ("commandJob", "commandComponent") else []
    findings += _additional_includes(data)
    if family in ("sparkJob", "sparkComponent"):
        findings += _spark(data, ())
    jobs = data.get("jobs") if family in ("pipelineJob", "pipelineComponent") else None
    if isinstance(jobs, dict):
        for step, node in jobs.items():
            if not isinstance(node, dict):
                continue
            kind = str(node.get("type", "")).lower()
            component = node.get("component")
            if kind == "spark":
                findings += _spark(node, ("jobs", step))
            elif kind == "command":
                findings += _git_code(node, ("jobs", step))
                if component is None and "command" in node and "environment" not in node:
                    findings.append(Finding(("jobs", step), "missing required key 'environment' (a command step without a component needs one)"))
            if isinstance(component, dict) and str(component.get("type", "command")).lower() == "command":
                findings += _git_code(component, ("jobs", step, "component"))
                if "environment" not in component:
                    findings.append(Finding(("jobs", step, "component"), "missing required key 'environment' (an inline command component needs one)"))
    return findings


def _git_code(data: dict, path: tuple) -> list[Finding]:
    code = data.get("code")
    if isinstance(code, str) and code.startswith("git+"):
        return [Finding(path + ("code",), "git paths are not supported for code; clone the repository and point code at the folder")]
    return []


def _additional_includes(data: dict) -> list[Finding]:
    includes = data.get("additional_includes")
    if not isinstance(includes, list):
        return []
    return [
        Finding(("additional_includes", index), "the root folder cannot be an additional include")
        for index, item in enumerate(includes)
        if isinstance(item, str) and Path(item).anchor and Path(item) == Path(Path(item).anchor)
    ]


def _spark(data: dict, path: tuple) -> list[Finding]:
    findings = []
    inputs = data.get("inputs")
    for name, value in (inputs.items() if isinstance(inputs, dict) else ()):
        if isinstance(value, dict) and value.get("type") in _FILE_INPUTS and value.get("mode") != "direct":
            findings.append(Finding(path + ("inputs", name, "mode"), f"input '{name}' uses mode '{value.get('mode')}'; Spark jobs read inputs in 'direct' mode only"))
    conf = data.get("conf")
    if isinstance(conf, dict):
        enabled = conf.get("spark.dynamicAllocation.enabled")
        bounds = [k for k in ("spark.dynamicAllocation.minExecutors", "spark.dynamicAllocation.maxExecutors") if k in conf]
        if bounds and str(enabled).lower() != "true":
            findings.append(Finding(path + ("conf", bounds[0]), "min/max executors need spark.dynamicAllocation.enabled: true"))
    return findings
