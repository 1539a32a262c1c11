"""`ml model`: model assets (custom_model, mlflow_model, triton_model)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.commands.asset_verbs import add_asset_verbs
from cli.commands.options import group_app
from cli.commands.validate_verb import add_validate
from cli.commands.workspace_options import (Datastore, Description, LabelOption, NameOption, NoWait, OptionalFile,
                                            OptionalName, Overwrite, SetList, SetValues, Tags, VersionOption,
                                            on_workspace)

app = group_app()
add_validate(app, "model")
add_asset_verbs(app, "models", "model")


@app.command("create", help="Create a model version from -f, or from --path with -n (version: -v, else the next).")
@on_workspace
def create(application, client, file: Optional[Path] = OptionalFile, name: Optional[str] = OptionalName,
           version: Optional[str] = VersionOption,
           path: Optional[str] = typer.Option(None, "--path", "-p", help="Local file/folder or URI.", show_default=False),
           type_: Optional[str] = typer.Option(None, "--type", "-t", help="custom_model (default), mlflow_model or triton_model.", show_default=False),
           stage: Optional[str] = typer.Option(None, "--stage", "-s", show_default=False),
           description: Optional[str] = Description, datastore: Optional[str] = Datastore,
           set_: SetValues = SetList, no_wait: bool = NoWait,
           tags: SetValues = Tags) -> None:
    from cli.operations import model, specs

    flags = {"name": name, "version": version, "tags": tags, "path": path, "type": type_, "stage": stage, "description": description}
    spec = specs.from_file_and_flags("model", file, set_ or (), flags, required=("name", "path"), warn=application.warn_line)
    application.emit(model.create(client, spec, datastore))


@app.command("download", help="Download a model version's files to <download-path>/<name>/.")
@on_workspace
def download(application, client, name: str = NameOption, version: Optional[str] = VersionOption,
             label: Optional[str] = LabelOption,
             download_path: Path = typer.Option(Path("."), "--download-path", "-p", help="Folder to write into."),
             overwrite: bool = Overwrite) -> None:
    from cli.operations import model

    written = model.download(client, name, version, label, download_path, overwrite)
    application.info(f"downloaded {len(written)} file{'s' if len(written) != 1 else ''} to {download_path / name}")
