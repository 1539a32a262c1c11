"""Batch deployments: local code, inline models and environments created first (as the SDK's
orchestrator does), then the deployment PUT; --set-default points the endpoint's default at it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from cli.errors import UsageError
from cli.spec.paths import is_local_path


def _location(client) -> Optional[str]:
    return (client.get(client.workspace.arm_id) or {}).get("location")


def _inline_assets(client, spec: dict) -> dict:
    """Create what the deployment holds inline (code, environment, model: the SDK's order); returns the
    uploads map for the translation."""
    from cli.client.uploads import upload_code
    from cli.operations import environment, model

    uploads = {}
    code = (spec.get("code_configuration") or {}).get("code")
    if isinstance(code, str) and is_local_path(code):
        uploads[code] = upload_code(client, code)
    if isinstance(spec.get("environment"), dict):
        inline = dict(spec["environment"])
        if inline.get("name"):  # the SDK registers a named inline environment as itself, version 1 unless given
            inline["version"] = str(inline.get("version") or "1")
            spec["environment"] = "azureml:" + _reference(environment.create(client, inline))
        else:
            spec["environment"] = "azureml:" + environment.register_inline(client, inline)
    if isinstance(spec.get("model"), dict):
        inline = dict(spec["model"])
        if not inline.get("name"):
            raise UsageError("an inline model of a deployment needs a name")
        spec["model"] = "azureml:" + _reference(model.create(client, inline))
    return uploads


def _reference(shown: dict) -> str:
    return f"{shown['name']}:{shown['version']}"


def _component_file(client, spec: dict, base: Optional[Path], warn) -> None:
    """A pipeline deployment's `component:` naming a local YAML file (relative to the deployment's file):
    the component is created first as an anonymous component (azureml_anonymous, a version from its
    content), as the SDK's orchestrator does, and the deployment names that version."""
    from cli.operations import component, specs

    written = spec.get("component")
    if spec.get("type") != "pipeline" or not isinstance(written, str) or not is_local_path(written):
        return
    path = (base or Path.cwd()) / Path(written.removeprefix("file:")).expanduser()
    if not path.is_file():
        raise UsageError(f"component: {written}: no such file")
    from cli.operations.environment_files import inline_file_environments

    # it is created as azureml_anonymous, so the file's own name is not one the workspace keeps (nor checks:
    # the public examples name theirs uci-heart-train-pipeline, which a named component could not be)
    loaded = specs.load("component", path, [f"name={component.ANONYMOUS_NAME}"], warn=warn or (lambda line: None))
    inline_file_environments(loaded)
    made = component.create_version(client, loaded, anonymous=True)  # the SDK's: azureml_anonymous
    spec["component"] = "azureml:" + made["id"]


def create(client, spec: dict, *, wait: bool = True, set_default: bool = False, base: Optional[Path] = None,
           warn=None) -> Optional[dict]:
    from cli.operations.assets import translate
    from cli.operations.job import JobReferences
    from cli.rest import batch

    spec = dict(spec)
    endpoint, name = spec.get("endpoint_name"), spec.get("name")
    if not endpoint:
        raise UsageError("the deployment names no endpoint: give --endpoint-name/-e or endpoint_name in the spec")
    client.get(client.workspace.batch_endpoint(endpoint))  # a missing endpoint is an error (exit 3), as in az
    _component_file(client, spec, base, warn)
    uploads = _inline_assets(client, spec)
    location = _location(client)
    body = translate(client, lambda refs: batch.deployment_to_rest(spec, refs, location), uploads, JobReferences)
    result = client.put(client.workspace.batch_deployment(endpoint, name), body, wait=wait)
    if set_default:
        set_endpoint_default(client, endpoint, name, wait=wait)
    return batch.deployment_from_rest(result) if result else None


def set_endpoint_default(client, endpoint: str, deployment: str, *, wait: bool = True) -> None:
    body = client.get(client.workspace.batch_endpoint(endpoint)) or {}
    props = {k: v for k, v in (body.get("properties") or {}).items()
             if k not in ("provisioningState", "scoringUri", "swaggerUri")}
    props["defaults"] = {"deploymentName": deployment}
    writable = {k: body[k] for k in ("location", "tags", "identity", "kind", "sku") if body.get(k) is not None}
    client.put(client.workspace.batch_endpoint(endpoint), {**writable, "properties": props}, wait=wait)


def show(client, endpoint: str, name: str) -> dict:
    from cli.rest import batch

    return batch.deployment_from_rest(client.get(client.workspace.batch_deployment(endpoint, name)))


def list_deployments(client, endpoint: str) -> list:
    from cli.rest import batch

    return [batch.deployment_from_rest(item) for item in client.list(client.workspace.batch_deployment(endpoint))]


def delete(client, endpoint: str, name: str, *, wait: bool = True) -> None:
    client.get(client.workspace.batch_deployment(endpoint, name))  # missing: exit 3, as az has it
    client.delete(client.workspace.batch_deployment(endpoint, name), wait=wait)
