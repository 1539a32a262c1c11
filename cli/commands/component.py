"""`ml component`: command, parallel and pipeline components."""

from __future__ import annotations

from typing import Optional

from cli.commands.asset_verbs import add_asset_verbs
from cli.commands.options import FileOption, SpecFile, group_app
from cli.commands.validate_verb import add_validate
from cli.commands.workspace_options import OptionalName, SetList, SetValues, VersionOption, on_workspace

app = group_app()
add_validate(app, "component")
add_asset_verbs(app, "components", "component")


@app.command("create", help="Create a component version from -f (a pipeline's step components too).")
@on_workspace
def create(application, client, file: SpecFile = FileOption, name: Optional[str] = OptionalName,
           version: Optional[str] = VersionOption, set_: SetValues = SetList) -> None:
    from cli.operations import component, specs

    spec = specs.load("component", file, set_ or (), warn=application.warn_line)
    spec.data.update({k: v for k, v in (("name", name), ("version", version)) if v is not None})
    application.emit(component.create(client, spec))
