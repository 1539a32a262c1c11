"""`ml online-endpoint`: online-endpoint verbs."""

import typer

from cli.commands.validate_verb import add_validate

app = typer.Typer(no_args_is_help=True)
add_validate(app, "online-endpoint")
