"""Workspaces: the ARM Workspace resource -> the spec-shaped dict `ml workspace show` prints."""

from __future__ import annotations

from cli.rest.common import compact, resource_fields


def from_rest(body: dict) -> dict:
    props = body.get("properties") or {}
    return compact({
        "name": body.get("name"), **resource_fields(body), "location": body.get("location"),
        "display_name": props.get("friendlyName"), "description": props.get("description"),
        "tags": body.get("tags") or {}, "kind": body.get("kind"),
        "workspace_id": props.get("workspaceId"), "discovery_url": props.get("discoveryUrl"),
        "mlflow_tracking_uri": props.get("mlFlowTrackingUri"), "storage_account": props.get("storageAccount"),
        "public_network_access": props.get("publicNetworkAccess"),
        "provisioning_state": props.get("provisioningState"),
    })
