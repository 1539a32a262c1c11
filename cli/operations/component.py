"""Components (command, parallel, pipeline): code uploaded, step components created, then the version.

A pipeline component's steps that name a local component file or hold one inline are created first
and referenced as azureml:<name>:<version>. Such a step component without a version gets one derived
from its content, so creating the same pipeline again reuses it instead of piling up versions.
"""

from __future__ import annotations

import copy
import hashlib
import json

from cli.operations import assets

ANONYMOUS_NAME = "azureml_anonymous"  # the SDK's name for components defined inline in a pipeline


def create(client, spec) -> dict:
    """Create the component of a loaded Spec, with `spec.data` as amended by the verb's flags."""
    return assets.translator("components").from_rest(_create(client, spec.data, _included(spec), top=True))


def _included(spec) -> dict:
    """Step name -> Spec of each step component loaded from its own file."""
    return {path[1]: included for path, included in spec.included.items()
            if len(path) == 3 and path[0] == "jobs" and path[2] == "component"}


def _create(client, data: dict, included: dict, *, top: bool = False) -> dict:
    """PUT one component (its steps first); the version's REST body."""
    data = copy.deepcopy(data)
    if data.get("type") == "pipeline":
        for step, node in (data.get("jobs") or {}).items():
            if step in included:
                child = included[step]
                node["component"] = _reference(_create(client, child.data, _included(child)))
            elif isinstance(node, dict) and isinstance(node.get("component"), dict):
                inline = {"name": ANONYMOUS_NAME, **node["component"]}
                node["component"] = _reference(_create(client, inline, {}))
    uploads = _upload_code(client, data)
    _register_environments(client, data)
    rest, refs = assets.translator("components"), _references(client, uploads)
    name = data["name"]
    if data.get("version") is None and not top:
        data["version"] = _content_version(data, uploads)
    if data.get("version") is not None:
        version = str(data["version"])
        return client.put(client.workspace.version("components", name, version), rest.to_rest({**data, "version": version}, refs))
    return assets.create_next_version(client, "components", name, lambda v: rest.to_rest({**data, "version": v}, refs))


def _upload_code(client, data: dict) -> dict:
    from cli.client.uploads import upload_code
    from cli.spec.paths import is_local_path

    uploads = {}
    for holder in (data, data.get("task") if isinstance(data.get("task"), dict) else {}):
        code = holder.get("code")
        if is_local_path(code) and code not in uploads:
            uploads[code] = upload_code(client, code)
    return uploads


def _register_environments(client, data: dict) -> None:
    """Inline environments (of the component and of a parallel task) become anonymous versions."""
    from cli.operations.environment import register_inline

    for holder in (data, data.get("task") if isinstance(data.get("task"), dict) else {}):
        if isinstance(holder.get("environment"), dict):
            holder["environment"] = "azureml:" + register_inline(client, holder["environment"])


def _references(client, uploads: dict):
    """Curated environments pass through as written, as the SDK sends them (job.JobReferences)."""
    from cli.operations.assets import latest_version
    from cli.operations.job import JobReferences

    return JobReferences(client.workspace.arm_id, lambda kind, n: latest_version(client, kind, n), uploads)


def _content_version(data: dict, uploads: dict) -> str:
    # Uploaded code is named by its content hash, so the code's content counts too.
    described = {"spec": {k: v for k, v in data.items() if k != "version"}, "uploads": uploads}
    canonical = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _reference(body: dict) -> str:
    parts = body["id"].rstrip("/").split("/")
    return f"azureml:{parts[-3]}:{parts[-1]}"
