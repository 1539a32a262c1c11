"""`ml batch-deployment`: create, show, list, update, delete; validate specs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.commands.options import group_app
from cli.commands.validate_verb import add_validate
from cli.commands.workspace_options import (NameOption, NoWait, OptionalFile, OptionalName, SetList, SetValues, Yes,
                                            confirm, on_workspace)

app = group_app()
add_validate(app, "batch-deployment")
EndpointName = typer.Option(..., "--endpoint-name", "--endpoint", "-e", help="Name of the batch endpoint.", show_default=False)
OptionalEndpoint = typer.Option(None, "--endpoint-name", "--endpoint", "-e", help="Name of the batch endpoint (overrides the spec's).", show_default=False)
SetDefault = typer.Option(False, "--set-default", help="Make this the endpoint's default deployment.")


def _write(application, client, file, name, endpoint_name, set_, no_wait, set_default) -> None:
    from cli.operations import batch_deployment, specs

    spec = specs.from_file_and_flags("batch-deployment", file, set_ or (),
                                     {"name": name, "endpoint_name": endpoint_name}, warn=application.warn_line)
    result = batch_deployment.create(client, spec, wait=not no_wait, set_default=set_default,
                                     base=file.resolve().parent if file else None, warn=application.warn_line)
    if result is not None:
        application.emit(result)


@app.command("create", help="Create a batch deployment from -f; --set-default makes it the endpoint's default.")
@on_workspace
def create(application, client, file: Path = typer.Option(..., "--file", "-f", help="Local path to the YAML spec.", show_default=False),
           name: Optional[str] = OptionalName, endpoint_name: Optional[str] = OptionalEndpoint,
           set_: SetValues = SetList, set_default: bool = SetDefault, no_wait: bool = NoWait) -> None:
    _write(application, client, file, name, endpoint_name, set_, no_wait, set_default)


@app.command("update", help="Update a batch deployment from -f and --set.")
@on_workspace
def update(application, client, file: Path = typer.Option(..., "--file", "-f", help="Local path to the YAML spec.", show_default=False),
           name: Optional[str] = OptionalName, endpoint_name: Optional[str] = OptionalEndpoint,
           set_: SetValues = SetList, set_default: bool = SetDefault, no_wait: bool = NoWait) -> None:
    _write(application, client, file, name, endpoint_name, set_, no_wait, set_default)


@app.command("show", help="Show a batch deployment.")
@on_workspace
def show(application, client, name: str = NameOption, endpoint_name: str = EndpointName) -> None:
    from cli.operations import batch_deployment

    application.emit(batch_deployment.show(client, endpoint_name, name))


@app.command("list", help="List the deployments of a batch endpoint.")
@on_workspace
def list_(application, client, endpoint_name: str = EndpointName) -> None:
    from cli.operations import batch_deployment

    application.emit(batch_deployment.list_deployments(client, endpoint_name),
                     table=("name", "endpoint_name", "type", "provisioning_state"))


@app.command("delete", help="Delete a batch deployment (asks first; --yes to skip).")
@on_workspace
def delete(client, name: str = NameOption, endpoint_name: str = EndpointName, yes: bool = Yes,
           no_wait: bool = NoWait) -> None:
    from cli.operations import batch_deployment

    confirm(f"Are you sure you want to delete batch deployment '{name}' of endpoint '{endpoint_name}'?", yes)
    batch_deployment.delete(client, endpoint_name, name, wait=not no_wait)
