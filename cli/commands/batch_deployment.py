"""`ml batch-deployment`: batch-deployment verbs."""

import typer

from cli.commands.validate_verb import add_validate

app = typer.Typer(no_args_is_help=True)
add_validate(app, "batch-deployment")
