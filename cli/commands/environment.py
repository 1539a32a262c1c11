"""`ml environment`: environments (image, conda file on an image, or docker build context)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.commands.asset_verbs import add_asset_verbs
from cli.commands.options import group_app
from cli.commands.validate_verb import add_validate
from cli.commands.workspace_options import (Datastore, Description, NoWait, OptionalFile, OptionalName, SetList,
                                            SetValues, Tags, VersionOption, on_workspace)

app = group_app()
add_validate(app, "environment")
add_asset_verbs(app, "environments", "environment")


@app.command("create", help="Create an environment version from -f, or from --image / --build-context with -n.")
@on_workspace
def create(application, client, file: Optional[Path] = OptionalFile, name: Optional[str] = OptionalName,
           version: Optional[str] = VersionOption,
           image: Optional[str] = typer.Option(None, "--image", "-i", help="Docker image.", show_default=False),
           conda_file: Optional[str] = typer.Option(None, "--conda-file", "-c", help="Conda file (needs --image).", show_default=False),
           build_context: Optional[str] = typer.Option(None, "--build-context", "-b", help="Docker build context folder.", show_default=False),
           dockerfile_path: Optional[str] = typer.Option(None, "--dockerfile-path", "-d", help="Dockerfile inside the context (default Dockerfile).", show_default=False),
           os_type: Optional[str] = typer.Option(None, "--os-type", help="linux or windows.", show_default=False),
           description: Optional[str] = Description, datastore: Optional[str] = Datastore,
           set_: SetValues = SetList, no_wait: bool = NoWait,
           tags: SetValues = Tags) -> None:
    from cli.operations import environment, specs

    flags = {"name": name, "version": version, "tags": tags, "description": description,
             **environment.spec_from_flags(image, conda_file, build_context, dockerfile_path, os_type,
                                              with_file=file is not None)}
    spec = specs.from_file_and_flags("environment", file, set_ or (), flags, warn=application.warn_line)
    application.emit(environment.create(client, spec, datastore))
