"""The `validate` verb, the same for every group: check a spec offline and print it resolved."""

from __future__ import annotations

import typer

from cli.commands.options import FileOption, SetOption, SetValues, SpecFile


def add_validate(group: typer.Typer, group_name: str) -> None:
    @group.command("validate", help=f"Validate a {group_name} spec offline; print it resolved (after --set, paths absolute).")
    def validate(ctx: typer.Context, file: SpecFile = FileOption, set_: SetValues = SetOption) -> None:
        from cli.spec.loader import load_spec

        app = ctx.obj
        spec = load_spec(file, group=group_name, overrides=set_ or ())
        for warning in spec.warnings:
            app.warn_line(warning.format())
        app.emit(spec.resolved())
