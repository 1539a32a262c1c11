"""The verbs every versioned asset group shares: show, list, update, archive, restore."""

from __future__ import annotations

from typing import Optional

import typer

from cli.commands.workspace_options import (ArchivedOnly, IncludeArchived, LabelOption, MaxResults, NameOption,
                                            SetList, SetValues, VersionOption, on_workspace)


def add_asset_verbs(app: typer.Typer, kind: str, noun: str) -> None:
    """Register show/list/update/archive/restore for the REST kind `kind` (data, models, ...)."""

    @app.command("show", help=f"Show a {noun} version: -n with -v or -l latest.")
    @on_workspace
    def show(application, client, name: str = NameOption, version: Optional[str] = VersionOption,
             label: Optional[str] = LabelOption) -> None:
        from cli.operations import assets

        application.emit(assets.show(client, kind, name, version, label))

    @app.command("list", help=f"List {noun}s, or with -n the versions of one (newest first).")
    @on_workspace
    def list_(application, client, name: Optional[str] = typer.Option(None, "--name", "-n", help="List this one's versions.", show_default=False),
              max_results: Optional[int] = MaxResults, include_archived: bool = IncludeArchived,
              archived_only: bool = ArchivedOnly) -> None:
        from cli.operations import assets

        items = assets.list_assets(client, kind, name, include_archived=include_archived,
                                   archived_only=archived_only, max_results=max_results)
        # Without -n the rows are the assets themselves: their newest version is what a Version column means.
        version = "version" if name else "latest_version"
        application.emit(items, table=("name", version, "type", "description", "creation_context.created_at"))

    @app.command("update", help=f"Update a {noun} version's description or tags: --set description=... tags.k=v.")
    @on_workspace
    def update(application, client, name: str = NameOption, version: Optional[str] = VersionOption,
               label: Optional[str] = LabelOption, set_: SetValues = SetList) -> None:
        from cli.operations import assets

        application.emit(assets.update(client, kind, name, version, label, set_ or ()))

    for verb, archived in (("archive", True), ("restore", False)):
        _add_archive_verb(app, kind, noun, verb, archived)


def _add_archive_verb(app: typer.Typer, kind: str, noun: str, verb: str, archived: bool) -> None:
    what = "hidden from list and @latest" if archived else "listed again"

    @app.command(verb, help=f"{verb.capitalize()} a {noun} version (-v/-l), or without them every version: {what}.")
    @on_workspace
    def archive(client, name: str = NameOption, version: Optional[str] = VersionOption,
                label: Optional[str] = LabelOption) -> None:
        from cli.operations import assets

        assets.set_archived(client, kind, name, version, label, archived)
