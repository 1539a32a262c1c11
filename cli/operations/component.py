"""Components (command, parallel, pipeline): code uploaded, step components created, then the version.

A pipeline component's steps that name a local component file or hold one inline are created first,
as the SDK creates them: anonymous components named azureml_anonymous whose version is derived from
their content, so creating the same pipeline again reuses them instead of piling up versions.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import uuid
from pathlib import Path

from cli.operations import assets

ANONYMOUS_NAME = "azureml_anonymous"  # the SDK's name for the step components of a pipeline
ANONYMOUS_SPEC_VERSION = "1"  # what the SDK writes in an anonymous component's componentSpec
STEP_SOURCE = "YAML.COMPONENT"  # a step whose component came from YAML, not from the workspace
INLINE_STEP_SOURCE = "YAML.JOB"  # a command step written inline: the SDK makes it a component too
# what of an inline command step becomes its anonymous component; the rest stays on the step
_INLINE_COMPONENT_KEYS = ("command", "environment", "code", "distribution")


def create(client, spec) -> dict:
    """Create the component of a loaded Spec, with `spec.data` as amended by the verb's flags."""
    from cli.operations.environment_files import inline_file_environments

    inline_file_environments(spec)  # `environment: file:...`, here and in step components
    return assets.translator("components").from_rest(_create(client, spec))


def _included(spec) -> dict:
    """Step name -> Spec of each step component loaded from its own file."""
    return {path[1]: included for path, included in spec.included.items()
            if len(path) == 3 and path[0] == "jobs" and path[2] == "component"}


def _create(client, spec, *, data: dict | None = None, anonymous: bool = False, environment_first: bool = False) -> dict:
    """PUT one component (its steps first); the version's REST body. `data` stands in for spec.data
    (a step component written inline in its pipeline's file); an anonymous one is a pipeline step's."""
    included = _included(spec) if data is None else {}
    data = copy.deepcopy(spec.data if data is None else data)
    if data.get("type") == "pipeline":
        for step, node in (data.get("jobs") or {}).items():
            if step in included:
                node["component"] = _reference(_create(client, included[step], anonymous=True))
                node["_source"] = STEP_SOURCE
            elif isinstance(node, dict) and isinstance(node.get("component"), dict):
                # a component written inline in the step counts, for the SDK, as written in the job
                inline = {"_source": INLINE_STEP_SOURCE, **node["component"]}
                node["component"] = _reference(_create(client, spec, data=inline, anonymous=True))
                node["_source"] = INLINE_STEP_SOURCE
            elif isinstance(node, dict) and "component" not in node and "command" in node:
                inline = _inline_command(node)
                node["component"] = _reference(_create(client, spec, data=inline, anonymous=True))
                node["_source"] = INLINE_STEP_SOURCE
    if environment_first:  # the SDK's order for a pipeline job's steps; `component create` uploads code first
        _register_environments(client, data)
    uploads = _upload_code(client, data, Path(spec.file).parent)
    if not environment_first:
        _register_environments(client, data)
    rest = assets.translator("components")

    def body(component: dict) -> dict:
        return assets.translate(client, lambda refs: rest.to_rest(component, refs), uploads, _job_references())

    if anonymous:
        # the SDK's anonymous step: its spec says azureml_anonymous version 1, its URL a content version
        data.update(name=ANONYMOUS_NAME, version=ANONYMOUS_SPEC_VERSION, is_anonymous=True)
        path = client.workspace.version("components", ANONYMOUS_NAME, _content_version(data, uploads))
        return client.put(path, body(data))
    name = data["name"]
    if data.get("version") is not None:
        version = str(data["version"])
        return client.put(client.workspace.version("components", name, version), body({**data, "version": version}))
    # the version goes in the URL only: the SDK's componentSpec of an auto-versioned component has none
    return assets.create_next_version(client, "components", name, lambda version: body(data))


def _inline_command(node: dict) -> dict:
    """The anonymous component the SDK makes of a command step written inline in a pipeline; the
    keys it takes leave the step, whose output bindings stay."""
    component = {"type": "command", "_source": INLINE_STEP_SOURCE}
    node.setdefault("type", "command")
    for key in _INLINE_COMPONENT_KEYS:
        if key in node:
            component[key] = node.pop(key)
    # an output declared without a binding is a port of the component (uri_folder unless typed)
    outputs = {name: port or {"type": "uri_folder"} for name, port in (node.get("outputs") or {}).items()
               if port is None or isinstance(port, dict)}
    if outputs:
        component["outputs"] = outputs
    return component


def _upload_code(client, data: dict, folder: Path) -> dict:
    """Upload local code (merged with the component's additional_includes, as the SDK does)."""
    from cli.client.uploads import upload_code
    from cli.spec.paths import is_local_path

    uploads = {}
    includes = [str(path) for path in data.get("additional_includes") or ()]
    if includes:
        # the body names the includes as the spec wrote them, relative to its folder, not local paths
        data["additional_includes"] = [os.path.relpath(Path(path).resolve(), folder.resolve()) for path in includes]
        if data.get("code") is None:
            data["code"] = str(folder)  # includes alone: the SDK's merged folder holds just them
            uploads[data["code"]] = upload_code(client, None, includes=includes)
    for holder in (data, data.get("task") if isinstance(data.get("task"), dict) else {}):
        code = holder.get("code")
        if is_local_path(code) and code not in uploads:
            uploads[code] = upload_code(client, code, includes=includes if holder is data else ())
    return uploads


def _register_environments(client, data: dict) -> None:
    """Inline environments (of the component and of a parallel task) become anonymous versions."""
    from cli.operations.environment import register_inline

    for holder in (data, data.get("task") if isinstance(data.get("task"), dict) else {}):
        if isinstance(holder.get("environment"), dict):
            holder["environment"] = "azureml:" + register_inline(client, holder["environment"])


def _job_references():
    """Curated environments pass through as written, as the SDK sends them (job.JobReferences)."""
    from cli.operations.job import JobReferences

    return JobReferences


def _content_version(data: dict, uploads: dict) -> str:
    # Uploaded code is named by its content hash, so the code's content counts too.
    described = {"spec": {k: v for k, v in data.items() if k != "version"}, "uploads": uploads}
    canonical = json.dumps(described, sort_keys=True, default=str)
    return str(uuid.UUID(hex=hashlib.sha256(canonical.encode()).hexdigest()[:32]))  # UUID-shaped, as the SDK's


def _reference(body: dict) -> str:
    parts = body["id"].rstrip("/").split("/")
    return f"azureml:{parts[-3]}:{parts[-1]}"


# What pipeline jobs share with pipeline components (operations/pipeline_job.py): their steps'
# components are made the same way.
included_steps = _included
inline_command = _inline_command
create_version = _create
reference = _reference
