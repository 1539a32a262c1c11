"""`ml validate PATH...`: many files or folders at once, for pre-commit hooks and CI."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def register(root: typer.Typer) -> None:
    @root.command("validate", short_help="Validate many spec files and folders at once.",
                  help="Validate spec files and folders (family inferred per file); exit non-zero if any is invalid.")
    def validate(
        ctx: typer.Context,
        paths: List[Path] = typer.Argument(..., help="Spec files or folders (searched for *.yml, *.yaml).", show_default=False),
        set_: Optional[List[str]] = typer.Option(None, "--set", help="Override a value in every spec: --set key.path=value.", show_default=False),
    ) -> None:
        from cli.errors import SpecInvalidError
        from cli.validation_run import validate_paths

        app = ctx.obj
        report = validate_paths(paths, set_ or ())
        for line in report.lines(warnings=not app.only_show_errors):
            app.error(line)
        if app.output_given:
            app.emit(report.as_data())
        if report.invalid:  # each file's diagnostics are printed above; the summary ends the run (exit 4)
            raise SpecInvalidError([], message=report.summary())
        app.error(report.summary())
