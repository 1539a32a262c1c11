"""Compute targets. On the local workspace a compute is a named pool: max_instances bounds how many
jobs run on it at once."""

from __future__ import annotations

from typing import Iterable, Optional

from cli.errors import UsageError

TYPES = {"amlcompute": "amlcompute", "computeinstance": "computeinstance", "kubernetes": "kubernetes",
         "virtualmachine": "virtualmachine", "synapsespark": "synapsespark"}


def normalize_type(value: Optional[str]) -> Optional[str]:
    """az spells types AmlCompute/ComputeInstance; specs spell them amlcompute/computeinstance."""
    if value is None:
        return None
    kind = TYPES.get(value.lower())
    if kind is None:
        raise UsageError(f"--type {value}: expected one of AmlCompute, ComputeInstance, Kubernetes, VirtualMachine, SynapseSpark")
    return kind


def create(client, spec: dict, *, wait: bool = True) -> Optional[dict]:
    from cli.rest import compute

    if not spec.get("type"):
        raise UsageError(f"compute '{spec['name']}' needs a type (--type/-t AmlCompute or ComputeInstance)")
    if spec["type"] != "amlcompute" or not spec.get("location"):
        # As the SDK does: only an amlcompute may name its own location; the rest take the workspace's.
        spec = {**spec, "location": (client.get(client.workspace.arm_id) or {}).get("location")}
    body = compute.to_rest(spec, None)
    result = client.put(client.workspace.compute(spec["name"]), body, wait=wait)
    return compute.from_rest(result) if result else None


def show(client, name: str) -> dict:
    from cli.rest import compute

    return compute.from_rest(client.get(client.workspace.compute(name)))


def list_computes(client, kind: Optional[str] = None, max_results: Optional[int] = None) -> list:
    from cli.rest import compute

    shown = (compute.from_rest(item) for item in client.list(client.workspace.compute()))
    result = [item for item in shown if kind is None or item.get("type") == kind]
    return result[:max_results] if max_results else result


def delete(client, name: str, *, wait: bool = True) -> None:
    client.get(client.workspace.compute(name))  # a missing compute is an error (exit 3), as az has it
    client.delete(client.workspace.compute(name), wait=wait, params={"underlyingResourceAction": "Delete"})


def power(client, name: str, action: str, *, wait: bool = True) -> None:
    """start, stop or restart a compute instance."""
    client.post(f"{client.workspace.compute(name)}/{action}", wait=wait)


def update(client, name: str, *, min_instances: Optional[int] = None, max_instances: Optional[int] = None,
           idle_seconds: Optional[int] = None, description: Optional[str] = None,
           tags: Optional[Iterable[str]] = None, wait: bool = True) -> Optional[dict]:
    """Change the scale settings, description or tags of a compute; the rest stays as it is."""
    from cli.rest import compute
    from cli.rest.common import iso_duration

    body = client.get(client.workspace.compute(name))
    props = body.get("properties") or {}
    inner = dict(props.get("properties") or {})
    scale = dict(inner.get("scaleSettings") or {})
    if min_instances is not None or max_instances is not None or idle_seconds is not None:
        if props.get("computeType") != "AmlCompute":
            raise UsageError(f"compute '{name}' is a {props.get('computeType')}; only AmlCompute has instance counts")
        scale.update({k: v for k, v in (("minNodeCount", min_instances), ("maxNodeCount", max_instances),
                                         ("nodeIdleTimeBeforeScaleDown", iso_duration(idle_seconds))) if v is not None})
        if scale.get("minNodeCount", 0) > scale.get("maxNodeCount", scale.get("minNodeCount", 0)):
            raise UsageError(f"min instances ({scale['minNodeCount']}) exceed max instances ({scale['maxNodeCount']})")
        inner["scaleSettings"] = scale
    writable = {k: v for k, v in props.items() if k not in ("provisioningState", "createdOn", "modifiedOn",
                                                            "provisioningErrors", "isAttachedCompute")}
    writable["properties"] = inner
    if description is not None:
        writable["description"] = description
    new = {k: body[k] for k in ("location", "tags", "identity", "sku") if body.get(k) is not None}
    if tags:
        new["tags"] = {**(body.get("tags") or {}), **_tags(tags)}
    result = client.put(client.workspace.compute(name), {**new, "properties": writable}, wait=wait)
    return compute.from_rest(result) if result else None


def _tags(pairs: Iterable[str]) -> dict:
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--tags {pair}: expected key=value")
        tags[key] = value
    return tags
