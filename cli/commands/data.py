"""`ml data`: data assets (uri_file, uri_folder, mltable)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.commands.asset_verbs import add_asset_verbs
from cli.commands.options import group_app
from cli.commands.validate_verb import add_validate
from cli.commands.workspace_options import (Datastore, NoWait, OptionalFile, OptionalName, SetList, SetValues,
                                            Tags, VersionOption, on_workspace)

app = group_app()
add_validate(app, "data")
add_asset_verbs(app, "data", "data asset")


@app.command("create", help="Create a data asset version from -f, or from --path with -n (version: -v, else the next).")
@on_workspace
def create(application, client, file: Optional[Path] = OptionalFile, name: Optional[str] = OptionalName,
           version: Optional[str] = VersionOption,
           path: Optional[str] = typer.Option(None, "--path", "-p", help="Local file/folder or URI.", show_default=False),
           type_: Optional[str] = typer.Option(None, "--type", "-t", help="uri_file, uri_folder (default) or mltable.", show_default=False),
           description: Optional[str] = typer.Option(None, "--description", "-d", show_default=False),
           datastore: Optional[str] = Datastore, set_: SetValues = SetList, no_wait: bool = NoWait,
           tags: SetValues = Tags) -> None:
    from cli.operations import data, specs

    flags = {"name": name, "version": version, "tags": tags, "path": path, "type": type_, "description": description}
    spec = specs.from_file_and_flags("data", file, set_ or (), flags, required=("name", "path"), warn=application.warn_line)
    application.emit(data.create(client, spec, datastore))
