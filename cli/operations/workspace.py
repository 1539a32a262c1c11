"""Workspaces, as ARM serves them: show, and create, list and delete in a resource group.

The same REST calls reach Azure and the local workspaces (the local transport answers the
resource-group level for ML_HOME). `show` adds `workspace_source`: {"target": "local"|"azure",
"reason": why this workspace was chosen}.
"""

from __future__ import annotations

from typing import Optional

from cli.errors import ResourceNotFoundError


def show(client, target) -> dict:
    """The workspace in use, and why it was chosen."""
    from cli.rest import workspace

    shown = workspace.from_rest(client.get(client.workspace.arm_id))
    return {**shown, "workspace_source": {"target": target.kind, "reason": target.reason}}


def create(client, target) -> dict:
    """Create the client's workspace (an existing one is left as it is); show it."""
    from cli.rest import workspace

    created = client.put(client.workspace.arm_id, {"properties": {"friendlyName": client.workspace.workspace}})
    shown = workspace.from_rest(created or client.get(client.workspace.arm_id))
    return {**shown, "workspace_source": {"target": target.kind, "reason": target.reason}}


def list_workspaces(client, max_results: Optional[int] = None) -> list:
    """The workspaces of the client's resource group."""
    from cli.rest import workspace

    return [workspace.from_rest(item) for item in client.list(client.workspace.workspaces, max_results=max_results)]


def delete(client) -> None:
    """Delete the client's workspace and everything in it; it must exist."""
    ws = client.workspace
    names = {item.get("name") for item in client.list(ws.workspaces)}
    if ws.workspace not in names:
        raise ResourceNotFoundError(f"workspace '{ws.workspace}' does not exist in resource group '{ws.resource_group}'",
                                    hint="ml workspace list shows the workspaces there are")
    client.delete(ws.arm_id)
