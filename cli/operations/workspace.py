"""Workspaces. Local workspaces are folders under ML_HOME/workspaces, created on first use; Azure
workspaces are shown and listed here, and created or deleted with az.

`show` adds `workspace_source`: {"target": "local"|"azure", "reason": why this workspace was chosen}.
"""

from __future__ import annotations

import shutil
from typing import Optional

from cli.errors import ResourceNotFoundError, UsageError

_AZURE_ONLY_READS = "create and delete Azure workspaces with `az ml workspace create/delete`"


def show(client, target) -> dict:
    """The workspace in use, and why it was chosen."""
    from cli.rest import workspace

    shown = workspace.from_rest(client.get(client.workspace.arm_id))
    return {**shown, "workspace_source": {"target": target.kind, "reason": target.reason}}


def create(target) -> dict:
    """Create a local workspace (opening it creates its store and default datastore); show it."""
    from cli.client.context import make_client

    if target.kind != "local":
        raise UsageError("ml creates only local workspaces", hint=_AZURE_ONLY_READS)
    with make_client(target) as client:
        return show(client, target)


def list_workspaces(target, max_results: Optional[int] = None) -> list:
    """The local workspaces under ML_HOME, or the Azure workspaces of the resource group."""
    from dataclasses import replace

    from cli.client.context import make_client
    from cli.rest import workspace

    if target.kind == "azure":
        ws = target.workspace
        path = f"/subscriptions/{ws.subscription}/resourceGroups/{ws.resource_group}/providers/Microsoft.MachineLearningServices/workspaces"
        with make_client(target) as client:
            return [workspace.from_rest(item) for item in client.list(path, max_results=max_results)]
    root = target.home / "workspaces"
    names = sorted(p.name for p in root.iterdir() if (p / "workspace.db").is_file()) if root.is_dir() else []
    result = []
    for name in names[:max_results] if max_results else names:
        other = replace(target, workspace=replace(target.workspace, workspace=name))
        with make_client(other) as client:
            result.append(workspace.from_rest(client.get(client.workspace.arm_id)))
    return result


def delete(target) -> None:
    """Delete a local workspace and everything in it."""
    if target.kind != "local":
        raise UsageError("ml deletes only local workspaces", hint=_AZURE_ONLY_READS)
    folder = target.home / "workspaces" / target.workspace.workspace
    if not (folder / "workspace.db").is_file():
        raise ResourceNotFoundError(f"local workspace '{target.workspace.workspace}' does not exist under {target.home}")
    shutil.rmtree(folder)
