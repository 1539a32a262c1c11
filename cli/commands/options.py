"""Options shared by many verbs, spelled as az ml spells them."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

FileOption = typer.Option(..., "--file", "-f", help="Local path to the YAML spec.", show_default=False)
SetOption = typer.Option(None, "--set", help="Override a spec value: --set key.path=value (repeatable).", show_default=False)

SetValues = Optional[List[str]]
SpecFile = Path


def group_app() -> typer.Typer:
    """A command group's Typer app: help when called bare, no shell-completion options, plain help
    text (rich-formatted help would import rich on every `--help`)."""
    return typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)
