"""Online deployments: register what the spec has inline (code, model, environment) as the SDK does, then PUT."""

from __future__ import annotations

from typing import Iterable, Optional

from cli.errors import UsageError
from cli.operations.online_endpoint import wait_for
from cli.spec.paths import is_local_path

MUTABLE = ("description", "tags", "instance_count", "environment_variables", "request_settings", "model",
           "code_configuration", "environment", "liveness_probe", "readiness_probe", "properties", "instance_type",
           "scale_settings", "app_insights_enabled")


def _register_inline(client, spec: dict) -> dict:
    """As the SDK does, in its order: local code uploaded, an inline environment registered anonymously, an
    inline model registered (anonymous when it has no name: named by its files' hash, version 1)."""
    from cli.client.uploads import upload_code
    from cli.operations.environment import register_inline

    spec = dict(spec)
    code = dict(spec.get("code_configuration") or {})
    if isinstance(code.get("code"), str) and is_local_path(code["code"]):
        code["code"] = upload_code(client, code["code"])
        spec["code_configuration"] = code
    environment = spec.get("environment")
    if isinstance(environment, dict) and environment.get("name") and environment.get("version") is not None:
        from cli.operations import environment as environments  # named inline: registered under its name

        created = environments.create(client, {**environment, "version": str(environment["version"])})
        spec["environment"] = f"azureml:{created['name']}:{created['version']}"
    elif isinstance(environment, dict):
        spec["environment"] = "azureml:" + register_inline(client, environment)
    if isinstance(spec.get("model"), dict):
        spec["model"] = _register_model(client, spec["model"])
    return spec


def _register_model(client, model: dict) -> str:
    import hashlib

    from cli.client.snapshot import object_hash
    from cli.operations import model as models
    from cli.operations.assets import translate
    from cli.operations.uploading import upload_local_path
    from cli.rest import model as rest

    if model.get("name"):
        created = models.create(client, model)
        return f"azureml:{created['name']}:{created['version']}"
    if not is_local_path(model.get("path")):
        raise UsageError("an inline model without a name needs a local path")
    # the SDK's anonymous model: sha256 of its files' object hash, version 1
    spec = {"type": "custom_model", **model, "version": "1",
            "name": hashlib.sha256(object_hash(model["path"]).encode()).hexdigest()}
    uploads = upload_local_path(client, spec, "models", spec["path"])
    body = translate(client, lambda refs: rest.to_rest(spec, refs), uploads)
    body["properties"]["isAnonymous"] = True
    client.put(client.workspace.version("models", spec["name"], "1"), body)
    return f"azureml:{spec['name']}:1"


def create(client, spec: dict, endpoint: Optional[str], *, all_traffic: bool = False, wait: bool = True,
           skip_script_validation: bool = False) -> Optional[dict]:
    from cli.operations import online_endpoint
    from cli.operations.assets import translate
    from cli.rest import online

    endpoint = endpoint or spec.get("endpoint_name")
    if not endpoint:
        raise UsageError("give the endpoint with --endpoint-name/-e or endpoint_name in the spec")
    client.get(client.workspace.online_endpoint(endpoint))  # a missing endpoint: not found, before any upload
    spec = _register_inline(client, {**spec, "endpoint_name": endpoint})
    location = (client.get(client.workspace.arm_id) or {}).get("location")
    body = translate(client, lambda refs: online.deployment_to_rest(spec, refs, location))
    path = client.workspace.online_deployment(endpoint, spec["name"])
    client.put(path, body, wait=wait)
    result = wait_for(client, path, wait)
    if all_traffic:
        online_endpoint.update(client, endpoint, None, (), f"{spec['name']}=100", None, wait=wait)
    return online.deployment_from_rest(result) if result else None


def show(client, endpoint: str, name: str) -> dict:
    from cli.rest import online

    return online.deployment_from_rest(client.get(client.workspace.online_deployment(endpoint, name)))


def list_deployments(client, endpoint: str) -> list:
    from cli.rest import online

    return [online.deployment_from_rest(item) for item in client.list(client.workspace.online_deployment(endpoint))]


def update(client, endpoint: Optional[str], name: Optional[str], spec: Optional[dict], overrides: Iterable[str],
           *, wait: bool = True) -> Optional[dict]:
    """A new model, code, environment or instance count for a deployment (-f and/or --set); its workers are
    replaced without dropping a request."""
    from cli.spec.overrides import updated

    endpoint = endpoint or (spec or {}).get("endpoint_name")
    name = name or (spec or {}).get("name")
    if not endpoint or not name:
        raise UsageError("give --name/-n and --endpoint-name/-e (or a spec with name and endpoint_name)")
    current = show(client, endpoint, name)
    after = {**current, **(spec or {})}
    after, changed = updated(after, overrides, MUTABLE)
    changed = [k for k in changed if k not in ("provisioning_state",)]
    if changed:
        raise UsageError(f"online deployment '{name}': {', '.join(changed)} cannot change")
    keep = ("name", "description", "tags", "properties", "type", *MUTABLE)
    return create(client, {k: v for k, v in after.items() if k in keep}, endpoint, wait=wait)


def delete(client, endpoint: str, name: str, *, wait: bool = True) -> None:
    path = client.workspace.online_deployment(endpoint, name)
    client.get(path)
    client.delete(path, wait=wait)


def get_logs(client, endpoint: str, name: str, lines: Optional[int] = None, container: Optional[str] = None) -> str:
    body = {"tail": lines, **({"containerType": container} if container else {})}
    result = client.post(f"{client.workspace.online_deployment(endpoint, name)}/getLogs",
                         {k: v for k, v in body.items() if v is not None}) or {}
    return result.get("content", "")
