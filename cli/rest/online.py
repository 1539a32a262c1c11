"""Online endpoints and deployments: spec <-> OnlineEndpoint / OnlineDeployment bodies, as the SDK sends them."""

from __future__ import annotations

from cli.rest.common import arm_name, asset_reference, compact, duration_seconds, iso_duration, resource_fields, \
    string_values

AUTH_MODES = {"key": "Key", "aml_token": "AMLToken", "aad_token": "AADToken"}
_IDENTITY = {"system_assigned": "SystemAssigned", "user_assigned": "UserAssigned",
             "system_assigned,user_assigned": "SystemAssigned,UserAssigned", "none": "None"}


def endpoint_to_rest(spec: dict, location: str | None) -> dict:
    """OnlineEndpoint body; the SDK gives every managed endpoint a system-assigned identity by default."""
    identity = spec.get("identity") or {"type": "system_assigned"}
    users = identity.get("user_assigned_identities") or []
    return compact({
        "location": location,
        "properties": compact({
            "description": spec.get("description"),
            "authMode": AUTH_MODES.get(str(spec.get("auth_mode") or "key").lower(), spec.get("auth_mode")),
            "properties": string_values(spec.get("properties")),
            "traffic": {k: int(v) for k, v in (spec.get("traffic") or {}).items()},
            "mirrorTraffic": {k: int(v) for k, v in (spec.get("mirror_traffic") or {}).items()},
            "publicNetworkAccess": spec.get("public_network_access"),  # as written (the SDK sends it so)
        }),
        "identity": compact({"type": _IDENTITY.get(identity.get("type"), identity.get("type")),
                             "userAssignedIdentities": {u["resource_id"]: {} for u in users} or None}),
        "tags": string_values(spec.get("tags")),
    })


def endpoint_from_rest(body: dict) -> dict:
    props = body.get("properties") or {}
    modes = {v.lower(): k for k, v in AUTH_MODES.items()}
    identity = body.get("identity") or {}
    return compact({
        "name": body.get("name"), **resource_fields(body), "kind": body.get("kind") or "Managed",
        "location": body.get("location"), "description": props.get("description"),
        "auth_mode": modes.get(str(props.get("authMode", "")).lower(), props.get("authMode")),
        "provisioning_state": props.get("provisioningState"), "scoring_uri": props.get("scoringUri"),
        "openapi_uri": props.get("swaggerUri"), "traffic": props.get("traffic") or {},
        "mirror_traffic": props.get("mirrorTraffic") or {}, "properties": props.get("properties") or {},
        "tags": body.get("tags") or {},
        "public_network_access": (props.get("publicNetworkAccess") or "Enabled").lower(),
        "identity": {"type": {v: k for k, v in _IDENTITY.items()}.get(identity.get("type"), identity.get("type"))}
        if identity else None,
    })


def _probe(probe: dict | None) -> dict | None:
    if not probe:
        return None
    return compact({"failureThreshold": probe.get("failure_threshold"),
                    "successThreshold": probe.get("success_threshold"),
                    "timeout": iso_duration(probe.get("timeout")), "period": iso_duration(probe.get("period")),
                    "initialDelay": iso_duration(probe.get("initial_delay"))})


def _request_settings(settings: dict | None) -> dict | None:
    if not settings:
        return None
    timeout_ms, wait_ms = settings.get("request_timeout_ms"), settings.get("max_queue_wait_ms")
    return compact({"maxQueueWait": _ms(wait_ms),
                    "maxConcurrentRequestsPerInstance": settings.get("max_concurrent_requests_per_instance"),
                    "requestTimeout": _ms(timeout_ms)})


def _ms(value) -> str | None:
    if value is None:
        return None
    if int(value) % 1000 == 0:
        return iso_duration(int(value) // 1000) or "PT0S"
    return f"PT{int(value) / 1000:g}S"


def _ms_back(value: str | None) -> int | None:
    import re

    match = re.fullmatch(r"PT([\d.]+)S", value or "")
    if match:
        return int(float(match[1]) * 1000)
    seconds = duration_seconds(value)
    return None if seconds is None else seconds * 1000


def deployment_to_rest(spec: dict, refs, location: str | None) -> dict:
    """OnlineDeployment body; `refs` resolves the (already registered) code, model and environment ids."""
    code = spec.get("code_configuration") or {}
    scale = spec.get("scale_settings")
    return compact({
        "location": location,
        "properties": compact({
            "codeConfiguration": compact({"codeId": refs.code_id(code["code"]),
                                          "scoringScript": code.get("scoring_script")}) if code.get("code") else None,
            "environmentId": refs.asset_id(spec["environment"], "environments") if spec.get("environment") else None,
            "model": refs.asset_id(spec["model"], "models") if spec.get("model") else None,
            "modelMountPath": spec.get("model_mount_path"),
            "scaleSettings": compact({"scaleType": str(scale.get("type", "default")).capitalize(),
                                      **{k2: scale.get(k1) for k1, k2 in (("min_instances", "minInstances"),
                                                                          ("max_instances", "maxInstances"))}})
            if scale else None,
            "properties": string_values(spec.get("properties")),
            "description": spec.get("description"),
            "environmentVariables": string_values(spec.get("environment_variables")),
            "appInsightsEnabled": bool(spec.get("app_insights_enabled", False)),
            "requestSettings": _request_settings(spec.get("request_settings")),
            "livenessProbe": _probe(spec.get("liveness_probe")),
            "instanceType": spec.get("instance_type"),
            "readinessProbe": _probe(spec.get("readiness_probe")),
            "endpointComputeType": "Kubernetes" if spec.get("type") == "kubernetes" else "Managed",
            "egressPublicNetworkAccess": str(spec["egress_public_network_access"]).lower()
            if spec.get("egress_public_network_access") else None,
        }),
        "tags": string_values(spec.get("tags")),
        # as the SDK: a capacity only when the spec gives instance_count (the service's default is 1)
        "sku": compact({"name": "Default", "capacity": int(spec["instance_count"]) if spec.get("instance_count")
                        is not None else None}),
    })


def _probe_back(probe: dict | None) -> dict | None:
    if not probe:
        return None
    return compact({"failure_threshold": probe.get("failureThreshold"),
                    "success_threshold": probe.get("successThreshold"),
                    "timeout": duration_seconds(probe.get("timeout")), "period": duration_seconds(probe.get("period")),
                    "initial_delay": duration_seconds(probe.get("initialDelay"))})


def deployment_from_rest(body: dict) -> dict:
    props = body.get("properties") or {}
    code = props.get("codeConfiguration") or {}
    settings = props.get("requestSettings") or {}
    parts = (body.get("id") or "").split("/")
    endpoint = parts[parts.index("onlineEndpoints") + 1] if "onlineEndpoints" in parts else None
    return compact({
        "name": body.get("name") or arm_name(body.get("id")), "endpoint_name": endpoint, **resource_fields(body),
        "type": "kubernetes" if props.get("endpointComputeType") == "Kubernetes" else "managed",
        "description": props.get("description"),
        "model": asset_reference(props.get("model")),
        "code_configuration": compact({"code": asset_reference(code.get("codeId")),
                                       "scoring_script": code.get("scoringScript")}) if code else None,
        "environment": asset_reference(props.get("environmentId")),
        "environment_variables": props.get("environmentVariables") or {},
        "instance_type": props.get("instanceType"),
        "instance_count": (body.get("sku") or {}).get("capacity", 1),
        "request_settings": compact({
            "request_timeout_ms": _ms_back(settings.get("requestTimeout")) or 5000,
            "max_concurrent_requests_per_instance": settings.get("maxConcurrentRequestsPerInstance", 1),
            "max_queue_wait_ms": _ms_back(settings.get("maxQueueWait")) or 500}),
        "liveness_probe": _probe_back(props.get("livenessProbe")),
        "readiness_probe": _probe_back(props.get("readinessProbe")),
        "app_insights_enabled": props.get("appInsightsEnabled", False),
        "egress_public_network_access": (props.get("egressPublicNetworkAccess") or "Enabled").lower(),
        "provisioning_state": props.get("provisioningState"),
        "properties": props.get("properties") or {}, "tags": body.get("tags") or {},
    })
