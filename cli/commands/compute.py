"""`ml compute`: compute targets; locally a named pool whose max_instances bounds concurrent jobs."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cli.commands.options import group_app
from cli.commands.validate_verb import add_validate
from cli.commands.workspace_options import (Description, MaxResults, NameOption, NoWait, OptionalFile, OptionalName,
                                            SetList, SetValues, Yes, confirm, on_workspace)

app = group_app()
add_validate(app, "compute")

TypeOption = typer.Option(None, "--type", "-t", help="AmlCompute, ComputeInstance, Kubernetes or VirtualMachine.", show_default=False)
MinInstances = typer.Option(None, "--min-instances", min=0, help="Fewest nodes (AmlCompute; default 0).", show_default=False)
MaxInstances = typer.Option(None, "--max-instances", min=1, help="Most nodes (AmlCompute; default 4); locally, jobs at once.", show_default=False)
IdleTime = typer.Option(None, "--idle-time-before-scale-down", help="Seconds before idle nodes go (AmlCompute).", show_default=False)
Tags = typer.Option(None, "--tags", help="key=value (repeatable).", show_default=False)


@app.command("create", help="Create a compute from -f, or from -n and --type.")
@on_workspace
def create(application, client, file: Optional[Path] = OptionalFile, name: Optional[str] = OptionalName, type_: Optional[str] = TypeOption,
           size: Optional[str] = typer.Option(None, "--size", help="VM size.", show_default=False),
           min_instances: Optional[int] = MinInstances, max_instances: Optional[int] = MaxInstances,
           idle_time_before_scale_down: Optional[int] = IdleTime,
           tier: Optional[str] = typer.Option(None, "--tier", help="dedicated or low_priority.", show_default=False),
           location: Optional[str] = typer.Option(None, "--location", "-l", show_default=False),
           description: Optional[str] = Description, set_: SetValues = SetList, no_wait: bool = NoWait) -> None:
    from cli.operations import compute, specs

    flags = {"name": name, "type": compute.normalize_type(type_), "size": size, "min_instances": min_instances,
             "max_instances": max_instances, "idle_time_before_scale_down": idle_time_before_scale_down,
             "tier": tier, "location": location, "description": description}
    result = compute.create(client, specs.from_file_and_flags("compute", file, set_ or (), flags, warn=application.warn_line), wait=not no_wait)
    if result is not None:
        application.emit(result)


@app.command("show", help="Show a compute.")
@on_workspace
def show(application, client, name: str = NameOption) -> None:
    from cli.operations import compute

    application.emit(compute.show(client, name))


@app.command("list", help="List computes.")
@on_workspace
def list_(application, client, type_: Optional[str] = TypeOption, max_results: Optional[int] = MaxResults) -> None:
    from cli.operations import compute

    application.emit(compute.list_computes(client, compute.normalize_type(type_), max_results))


@app.command("update", help="Update a compute's instance counts, idle time, description or tags.")
@on_workspace
def update(application, client, name: str = NameOption, min_instances: Optional[int] = MinInstances,
           max_instances: Optional[int] = MaxInstances, idle_time_before_scale_down: Optional[int] = IdleTime,
           description: Optional[str] = Description, tags: Optional[List[str]] = Tags, no_wait: bool = NoWait) -> None:
    from cli.operations import compute

    result = compute.update(client, name, min_instances=min_instances, max_instances=max_instances,
                            idle_seconds=idle_time_before_scale_down, description=description, tags=tags,
                            wait=not no_wait)
    if result is not None:
        application.emit(result)


@app.command("delete", help="Delete a compute (asks first; --yes to skip).")
@on_workspace
def delete(client, name: str = NameOption, yes: bool = Yes, no_wait: bool = NoWait) -> None:
    from cli.operations import compute

    confirm(f"Are you sure you want to delete compute '{name}'?", yes)
    compute.delete(client, name, wait=not no_wait)


def _add_power_verb(action: str) -> None:
    @app.command(action, help=f"{action.capitalize()} a compute instance.")
    @on_workspace
    def power(client, name: str = NameOption, no_wait: bool = NoWait) -> None:
        from cli.operations import compute

        compute.power(client, name, action, wait=not no_wait)


for _action in ("start", "stop", "restart"):
    _add_power_verb(_action)
