"""`ml online-deployment`: deployments of an online endpoint (locally: scoring workers in the environment's venv)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.commands.options import group_app
from cli.commands.validate_verb import add_validate
from cli.commands.workspace_options import (NameOption, NoWait, OptionalFile, OptionalName, SetList, SetValues, Yes,
                                            confirm, on_workspace)

app = group_app()
add_validate(app, "online-deployment")

EndpointOption = typer.Option(..., "--endpoint-name", "--endpoint", "-e", help="The online endpoint.", show_default=False)
OptionalEndpoint = typer.Option(None, "--endpoint-name", "--endpoint", "-e", help="The online endpoint (overrides the spec's).",
                                show_default=False)


@app.command("create", help="Create a deployment of an online endpoint from -f.")
@on_workspace
def create(application, client, file: Optional[Path] = OptionalFile, name: Optional[str] = OptionalName,
           endpoint_name: Optional[str] = OptionalEndpoint,
           all_traffic: bool = typer.Option(False, "--all-traffic", help="Send all the endpoint's traffic here."),
           skip_script_validation: bool = typer.Option(False, "--skip-script-validation", help="Accepted for az compatibility."),
           local: bool = typer.Option(False, "--local", help="Accepted for az compatibility: ml's endpoints are local by default."),
           set_: SetValues = SetList, no_wait: bool = NoWait) -> None:
    from cli.operations import online_deployment, specs

    spec = specs.from_file_and_flags("online-deployment", file, set_ or (), {"name": name}, warn=application.warn_line)
    result = online_deployment.create(client, spec, endpoint_name, all_traffic=all_traffic, wait=not no_wait)
    if result is not None:
        application.emit(result)


@app.command("show", help="Show a deployment.")
@on_workspace
def show(application, client, name: str = NameOption, endpoint_name: str = EndpointOption) -> None:
    from cli.operations import online_deployment

    application.emit(online_deployment.show(client, endpoint_name, name))


@app.command("list", help="List the deployments of an endpoint.")
@on_workspace
def list_(application, client, endpoint_name: str = EndpointOption) -> None:
    from cli.operations import online_deployment

    application.emit(online_deployment.list_deployments(client, endpoint_name))


@app.command("update", help="Update a deployment (-f and/or --set); workers are replaced without dropping requests.")
@on_workspace
def update(application, client, file: Optional[Path] = OptionalFile, name: Optional[str] = OptionalName,
           endpoint_name: Optional[str] = OptionalEndpoint, set_: SetValues = SetList, no_wait: bool = NoWait) -> None:
    from cli.operations import online_deployment, specs

    spec = specs.load("online-deployment", file, (), warn=application.warn_line).data if file else None
    result = online_deployment.update(client, endpoint_name, name, spec, set_ or (), wait=not no_wait)
    if result is not None:
        application.emit(result)


@app.command("delete", help="Delete a deployment (asks first; --yes to skip).")
@on_workspace
def delete(client, name: str = NameOption, endpoint_name: str = EndpointOption, yes: bool = Yes,
           no_wait: bool = NoWait) -> None:
    from cli.operations import online_deployment

    confirm(f"Are you sure you want to delete online deployment '{name}' of endpoint '{endpoint_name}'?", yes)
    online_deployment.delete(client, endpoint_name, name, wait=not no_wait)


@app.command("get-logs", help="The scoring workers' logs.")
@on_workspace
def get_logs(application, client, name: str = NameOption, endpoint_name: str = EndpointOption,
             lines: Optional[int] = typer.Option(None, "--lines", "-l", min=1, help="Last N lines.", show_default=False),
             container: Optional[str] = typer.Option(None, "--container", "-c", help="inference-server (the scoring workers) or"
                                                     " storage-initializer (environment, model, code, restarts); locally none gives both.",
                                                     show_default=False)) -> None:
    from cli.operations import online_deployment

    kinds = {"inference-server": "InferenceServer", "storage-initializer": "StorageInitializer", None: None}
    application.write_text(online_deployment.get_logs(client, endpoint_name, name, lines, kinds.get(container, container)))
