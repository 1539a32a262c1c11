"""Family rules the official SDK enforces before it sends anything, beyond what a schema says."""

from __future__ import annotations

from pathlib import Path

from cli.spec.bindings import Finding
from cli.spec.paths import display_name, is_local_path

_FILE_INPUTS = ("uri_file", "uri_folder")
# Families whose `code:` the SDK refuses as a git URL before sending anything.
_GIT_REFUSED = ("commandJob", "commandComponent", "sparkJob", "sparkComponent")


def check(family: str, data: dict) -> list[Finding]:
    findings = _git_code(data, ()) if family in _GIT_REFUSED else []
    findings += _additional_includes(data)
    if family in ("sparkJob", "sparkComponent"):
        findings += _spark(data, ())
    if family == "data":
        findings += _data_path_kind(data)
    if family == "model":
        findings += _empty_model_folder(data)
    if family == "schedule":
        findings += _schedule_job_kind(data.get("create_job"))
    jobs = data.get("jobs") if family in ("pipelineJob", "pipelineComponent") else None
    if isinstance(jobs, dict):
        for step, node in jobs.items():
            if not isinstance(node, dict):
                continue
            kind = str(node.get("type", "")).lower()
            component = node.get("component")
            if kind == "spark":
                findings += _spark(node, ("jobs", step)) + _git_code(node, ("jobs", step))
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


def _local(value) -> Path | None:
    """The existing local file or folder a (resolved) path value names, else None."""
    if not is_local_path(value):
        return None
    target = Path(value)
    return target if target.exists() else None


def _data_path_kind(data: dict) -> list[Finding]:
    """A uri_file asset is one file and a uri_folder asset a folder, as the SDK checks before uploading."""
    kind, target = str(data.get("type", "uri_folder")).lower(), _local(data.get("path"))
    if target is None:
        return []
    shown = display_name(target)
    if kind == "uri_file" and target.is_dir():
        return [Finding(("path",), f"'{shown}' is a folder, but a uri_file data asset is one file (use type: uri_folder, or name a file)")]
    if kind == "uri_folder" and not target.is_dir():
        return [Finding(("path",), f"'{shown}' is a file, but a uri_folder data asset is a folder (use type: uri_file, or name a folder)")]
    return []


def _empty_model_folder(data: dict) -> list[Finding]:
    target = _local(data.get("path"))
    if target is None or not target.is_dir() or any(entry.is_file() for entry in target.rglob("*")):
        return []
    return [Finding(("path",), f"the folder '{display_name(target)}' holds no files; a model needs at least one")]


def _schedule_job_kind(create_job) -> list[Finding]:
    """Azure schedules create pipeline jobs only (the SDK refuses others: "Unsupported job type")."""
    kind = create_job.get("type") if isinstance(create_job, dict) else None
    if not isinstance(kind, str) or kind.lower() == "pipeline":
        return []
    return [Finding(("create_job", "type"), f"a schedule can only create pipeline jobs, not {kind} jobs (Azure refuses them)")]
