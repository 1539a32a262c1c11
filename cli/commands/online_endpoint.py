"""`ml online-endpoint`: online endpoints (locally: a router on 127.0.0.1 with keys or tokens, traffic split)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.commands.options import group_app
from cli.commands.validate_verb import add_validate
from cli.commands.workspace_options import (Description, NameOption, NoWait, OptionalFile, OptionalName, SetList,
                                            SetValues, Tags, Yes, confirm, on_workspace)

app = group_app()
add_validate(app, "online-endpoint")

AuthMode = typer.Option(None, "--auth-mode", help="key or aml_token.", show_default=False)
Traffic = typer.Option(None, "--traffic", help="Traffic split: \"blue=90 green=10\".", show_default=False)
MirrorTraffic = typer.Option(None, "--mirror-traffic", help="Mirror share: \"green=10\".", show_default=False)


@app.command("create", help="Create an online endpoint from -f, or from -n.")
@on_workspace
def create(application, client, file: Optional[Path] = OptionalFile, name: Optional[str] = OptionalName,
           auth_mode: Optional[str] = AuthMode, set_: SetValues = SetList, no_wait: bool = NoWait) -> None:
    from cli.operations import online_endpoint, specs

    spec = specs.from_file_and_flags("online-endpoint", file, set_ or (), {"name": name, "auth_mode": auth_mode},
                                     warn=application.warn_line)
    result = online_endpoint.create(client, spec, wait=not no_wait)
    if result is not None:
        application.emit(result)


@app.command("show", help="Show an online endpoint.")
@on_workspace
def show(application, client, name: str = NameOption) -> None:
    from cli.operations import online_endpoint

    application.emit(online_endpoint.show(client, name))


@app.command("list", help="List online endpoints.")
@on_workspace
def list_(application, client) -> None:
    from cli.operations import online_endpoint

    application.emit(online_endpoint.list_endpoints(client))


@app.command("update", help="Update an endpoint's traffic, mirror traffic, description or tags (-f, --set, --traffic).")
@on_workspace
def update(application, client, file: Optional[Path] = OptionalFile, name: Optional[str] = OptionalName,
           traffic: Optional[str] = Traffic, mirror_traffic: Optional[str] = MirrorTraffic,
           set_: SetValues = SetList, no_wait: bool = NoWait) -> None:
    from cli.operations import online_endpoint, specs

    spec = specs.load("online-endpoint", file, (), warn=application.warn_line).data if file else None
    name = name or (spec or {}).get("name")
    if not name:
        from cli.errors import UsageError

        raise UsageError("give --name/-n or a spec file with a name")
    result = online_endpoint.update(client, name, spec, set_ or (), traffic, mirror_traffic, wait=not no_wait)
    if result is not None:
        application.emit(result)


@app.command("delete", help="Delete an online endpoint and its deployments (asks first; --yes to skip).")
@on_workspace
def delete(client, name: str = NameOption, yes: bool = Yes, no_wait: bool = NoWait) -> None:
    from cli.operations import online_endpoint

    confirm(f"Are you sure you want to delete online endpoint '{name}' and all its deployments?", yes)
    online_endpoint.delete(client, name, wait=not no_wait)


@app.command("invoke", help="Send --request-file to the endpoint's scoring URI.")
@on_workspace
def invoke(application, client, name: str = NameOption,
           request_file: Path = typer.Option(..., "--request-file", "-r", help="JSON request body.", show_default=False),
           deployment_name: Optional[str] = typer.Option(None, "--deployment-name", "--deployment", "-d", help="Score with this deployment.",
                                                         show_default=False)) -> None:
    from cli.operations import online_endpoint

    application.emit(online_endpoint.invoke(client, name, request_file, deployment_name))


@app.command("get-credentials", help="The endpoint's keys (auth_mode key) or a fresh token (aml_token).")
@on_workspace
def get_credentials(application, client, name: str = NameOption) -> None:
    from cli.operations import online_endpoint

    application.emit(online_endpoint.get_credentials(client, name))


@app.command("regenerate-keys", help="Regenerate the primary or secondary key.")
@on_workspace
def regenerate_keys(client, name: str = NameOption,
                    key_type: str = typer.Option("primary", "--key-type", help="primary or secondary."),
                    key_value: Optional[str] = typer.Option(None, "--key-value", help="Use this value.", show_default=False),
                    no_wait: bool = NoWait) -> None:
    from cli.operations import online_endpoint

    online_endpoint.regenerate_keys(client, name, key_type, key_value, wait=not no_wait)
