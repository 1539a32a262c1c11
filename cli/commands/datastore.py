"""`ml datastore`: datastores."""

from __future__ import annotations

from typing import Optional


from cli.commands.options import FileOption, SpecFile, group_app
from cli.commands.validate_verb import add_validate
from cli.commands.workspace_options import MaxResults, NameOption, OptionalName, SetList, SetValues, Yes, confirm, on_workspace

app = group_app()
add_validate(app, "datastore")


@app.command("create", help="Create or update a datastore from -f (-n overrides its name).")
@on_workspace
def create(application, client, file: SpecFile = FileOption, name: Optional[str] = OptionalName, set_: SetValues = SetList) -> None:
    from cli.operations import datastore, specs

    application.emit(datastore.create(client, specs.from_file_and_flags("datastore", file, set_ or (), {"name": name}, warn=application.warn_line)))


@app.command("show", help="Show a datastore (secrets are never shown).")
@on_workspace
def show(application, client, name: str = NameOption) -> None:
    from cli.operations import datastore

    application.emit(datastore.show(client, name))


@app.command("list", help="List datastores.")
@on_workspace
def list_(application, client, max_results: Optional[int] = MaxResults) -> None:
    from cli.operations import datastore

    application.emit(datastore.list_datastores(client, max_results))


@app.command("delete", help="Delete a datastore (its data stays; asks first, --yes to skip).")
@on_workspace
def delete(client, name: str = NameOption, yes: bool = Yes) -> None:
    from cli.operations import datastore

    confirm(f"Are you sure you want to delete datastore '{name}'?", yes)
    datastore.delete(client, name)
