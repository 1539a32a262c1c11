"""Online endpoints: create/show/list/update/delete, keys and tokens, invoke (the scoring URI, with its credential)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterable, Optional

from cli.errors import ServiceError, UsageError

TERMINAL = ("Succeeded", "Failed", "Canceled")
MUTABLE = ("description", "tags", "traffic", "mirror_traffic", "properties")
KEY_TYPES = {"primary": "Primary", "secondary": "Secondary"}


def _location(client) -> Optional[str]:
    return (client.get(client.workspace.arm_id) or {}).get("location")


def wait_for(client, path: str, wait: bool, timeout: float = 1800.0) -> Optional[dict]:
    """GET `path` until its provisioningState is terminal (Azure's endpoints report it); Failed is an error."""
    body = client.get(path)
    deadline = time.monotonic() + timeout
    while wait and ((body or {}).get("properties") or {}).get("provisioningState") not in TERMINAL:
        if time.monotonic() > deadline:
            raise ServiceError(f"{path.rsplit('/', 1)[-1]} did not finish provisioning in {timeout:.0f} s")
        time.sleep(0.2)
        body = client.get(path)
    state = ((body or {}).get("properties") or {}).get("provisioningState")
    if wait and state == "Failed":
        reason = ((body.get("properties") or {}).get("properties") or {}).get("FailureReason", "")
        raise ServiceError(f"{body.get('name')} failed to provision{': ' + reason if reason else ''}")
    return body


def create(client, spec: dict, *, wait: bool = True) -> Optional[dict]:
    from cli.rest import online

    path = client.workspace.online_endpoint(spec["name"])
    client.put(path, online.endpoint_to_rest(spec, _location(client)), wait=wait)
    body = wait_for(client, path, wait)
    return online.endpoint_from_rest(body) if body else None


def show(client, name: str) -> dict:
    from cli.rest import online

    return online.endpoint_from_rest(client.get(client.workspace.online_endpoint(name)))


def list_endpoints(client) -> list:
    from cli.rest import online

    return [online.endpoint_from_rest(item) for item in client.list(client.workspace.online_endpoint())]


def update(client, name: str, spec: Optional[dict], overrides: Iterable[str], traffic: Optional[str],
           mirror_traffic: Optional[str], *, wait: bool = True) -> Optional[dict]:
    """Change traffic, mirror traffic, description, tags of an endpoint (from -f, --set or --traffic)."""
    from cli.rest import online
    from cli.spec.overrides import updated

    current = online.endpoint_from_rest(client.get(client.workspace.online_endpoint(name)))
    after = dict(current)
    if spec:
        after.update({k: v for k, v in spec.items() if k in MUTABLE or k == "auth_mode"})
    after, changed = updated(after, overrides, MUTABLE + ("auth_mode",))
    if traffic is not None:
        after["traffic"] = _pairs(traffic, "--traffic")
    if mirror_traffic is not None:
        after["mirror_traffic"] = _pairs(mirror_traffic, "--mirror-traffic")
    changed = [k for k in changed if k not in ("provisioning_state", "scoring_uri", "openapi_uri")]
    if changed:
        raise UsageError(f"online endpoint '{name}': {', '.join(changed)} cannot change")
    return create(client, {**after, "name": name}, wait=wait)


def _pairs(text: str, flag: str) -> dict:
    """'blue=90 green=10' (az's --traffic) -> {'blue': 90, 'green': 10}."""
    result = {}
    for pair in text.replace(",", " ").split():
        key, sep, value = pair.partition("=")
        if not sep or not value.strip().isdigit():
            raise UsageError(f"{flag} {pair}: expected deployment=percent")
        result[key] = int(value)
    return result


def delete(client, name: str, *, wait: bool = True) -> None:
    client.get(client.workspace.online_endpoint(name))
    client.delete(client.workspace.online_endpoint(name), wait=wait)


def get_credentials(client, name: str) -> dict:
    """Keys (auth_mode key: primaryKey, secondaryKey) or a token (aml_token: accessToken, expiryTimeUtc...)."""
    endpoint = client.get(client.workspace.online_endpoint(name)) or {}
    mode = str((endpoint.get("properties") or {}).get("authMode", "Key")).lower()
    path = client.workspace.online_endpoint(name)
    if mode == "key":
        return client.post(f"{path}/listKeys") or {}
    return client.post(f"{path}/token") or {}


def regenerate_keys(client, name: str, key_type: str, key_value: Optional[str] = None, *, wait: bool = True) -> None:
    kind = KEY_TYPES.get(key_type.lower())
    if kind is None:
        raise UsageError(f"--key-type {key_type}: expected primary or secondary")
    body = {"keyType": kind, **({"keyValue": key_value} if key_value else {})}
    client.post(f"{client.workspace.online_endpoint(name)}/regenerateKeys", body, wait=wait)


def invoke(client, name: str, request_file: Path, deployment: Optional[str] = None) -> object:
    """POST the request file to the scoring URI with the endpoint's credential; the answer, JSON when it is."""
    try:
        content = Path(request_file).read_bytes()
    except OSError as exc:
        raise UsageError(f"--request-file {request_file}: {exc.strerror}") from None
    endpoint = client.get(client.workspace.online_endpoint(name)) or {}
    props = endpoint.get("properties") or {}
    if not props.get("scoringUri"):
        raise ServiceError(f"online endpoint '{name}' has no scoring URI yet (provisioning: {props.get('provisioningState')})")
    credentials = get_credentials(client, name)
    secret = credentials.get("primaryKey") or credentials.get("accessToken")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {secret}"}
    if deployment:
        headers["azureml-model-deployment"] = deployment
    text = client.score(props["scoringUri"], content, headers)
    try:
        return json.loads(text)
    except ValueError:
        return text
