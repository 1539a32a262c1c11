"""`ml workspace`: local workspaces (create/show/list/delete); Azure ones shown and listed.

`show` prints the workspace plus `workspace_source: {target: local|azure, reason: ...}`, saying which
workspace is in use and why (flag, environment variable, config.json, or the local default).
"""

from __future__ import annotations

from typing import Optional

import typer

from cli.commands.options import group_app
from cli.commands.validate_verb import add_validate
from cli.commands.workspace_options import MaxResults, Yes, confirm

app = group_app()
add_validate(app, "workspace")

WorkspaceName = typer.Option(None, "--name", "-n", "--workspace-name", "-w", help="Workspace name.", show_default=False)
ResourceGroup = typer.Option(None, "--resource-group", "-g", help="Azure resource group.", show_default=False)
Subscription = typer.Option(None, "--subscription", help="Azure subscription id.", show_default=False)


def _target(name, resource_group, subscription):
    from cli.client.context import resolve_target

    return resolve_target(workspace_name=name, resource_group=resource_group, subscription=subscription)


@app.command("show", help="Show the workspace in use (or -n), and why it was chosen (workspace_source).")
def show(ctx: typer.Context, name: Optional[str] = WorkspaceName, resource_group: Optional[str] = ResourceGroup,
         subscription: Optional[str] = Subscription) -> None:
    from cli.operations import workspace
    from cli.targets import make_client

    target = _target(name, resource_group, subscription)
    with make_client(target) as client:
        ctx.obj.emit(workspace.show(client, target))


@app.command("create", help="Create a local workspace named -n.")
def create(ctx: typer.Context, name: str = typer.Option(..., "--name", "-n", help="Workspace name.", show_default=False),
           resource_group: Optional[str] = ResourceGroup, subscription: Optional[str] = Subscription) -> None:
    from cli.operations import workspace
    from cli.targets import check_manageable, make_client

    target = check_manageable(_target(name, resource_group, subscription), "create")
    with make_client(target) as client:
        ctx.obj.emit(workspace.create(client, target))


@app.command("list", help="List the local workspaces (or, with -g, the Azure workspaces of a resource group).")
def list_(ctx: typer.Context, resource_group: Optional[str] = ResourceGroup, subscription: Optional[str] = Subscription,
          max_results: Optional[int] = MaxResults) -> None:
    from cli.operations import workspace
    from cli.targets import make_client

    with make_client(_target(None, resource_group, subscription)) as client:
        ctx.obj.emit(workspace.list_workspaces(client, max_results))


@app.command("delete", help="Delete a local workspace and everything in it (asks first; --yes to skip).")
def delete(name: str = typer.Option(..., "--name", "-n", help="Workspace name.", show_default=False),
           resource_group: Optional[str] = ResourceGroup, subscription: Optional[str] = Subscription,
           yes: bool = Yes) -> None:
    from cli.operations import workspace
    from cli.targets import check_manageable, make_client

    target = check_manageable(_target(name, resource_group, subscription), "delete")
    confirm(f"Are you sure you want to delete workspace '{name}' and all its assets, jobs and files?", yes)
    with make_client(target) as client:
        workspace.delete(client)
