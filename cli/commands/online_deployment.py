"""`ml online-deployment`: online-deployment verbs."""

from cli.commands.options import group_app
from cli.commands.validate_verb import add_validate

app = group_app()
add_validate(app, "online-deployment")
