"""Options every workspace verb shares (-w/-g/--subscription, --yes), and the decorator that adds them.

`@on_workspace` appends -w/-g/--subscription to a verb's flags, resolves the target workspace, and
passes the verb whichever of `application` (the Application of this run: global options, stdout and
stderr; Click's ctx.obj), `client` (a WorkspaceClient, closed afterwards) and `target` (the
WorkspaceTarget with its `reason`) it names in its signature.
"""

from __future__ import annotations

import functools
import inspect
import sys
from typing import Optional

import typer

from cli.commands.options import SetOption as SetList  # noqa: F401 (the verbs import it from here)
from cli.commands.options import SetValues  # noqa: F401
from cli.errors import MLError, UsageError

_WORKSPACE_PARAMS = [
    inspect.Parameter("workspace_name", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                      default=typer.Option(None, "--workspace-name", "-w", show_default=False,
                                           help="Workspace; without -g/--subscription, a local workspace.")),
    inspect.Parameter("resource_group", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                      default=typer.Option(None, "--resource-group", "-g", show_default=False,
                                           help="Azure resource group of the workspace.")),
    inspect.Parameter("subscription", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                      default=typer.Option(None, "--subscription", show_default=False,
                                           help="Azure subscription id of the workspace.")),
]
_INJECTED = ("application", "client", "target")

# Flags several groups spell the same way.
NameOption = typer.Option(..., "--name", "-n", help="Name of the resource.", show_default=False)
OptionalName = typer.Option(None, "--name", "-n", help="Name (overrides the spec's).", show_default=False)
VersionOption = typer.Option(None, "--version", "-v", help="Version.", show_default=False)
LabelOption = typer.Option(None, "--label", "-l", help="Label instead of a version: latest.", show_default=False)
OptionalFile = typer.Option(None, "--file", "-f", help="Local path to the YAML spec.", show_default=False)
MaxResults = typer.Option(None, "--max-results", "-r", min=1, help="Return at most this many.", show_default=False)
IncludeArchived = typer.Option(False, "--include-archived", help="List archived resources too.")
ArchivedOnly = typer.Option(False, "--archived-only", help="List only archived resources.")
Overwrite = typer.Option(False, "--overwrite", help="Replace files that already exist in the download folder.")
NoWait = typer.Option(False, "--no-wait", help="Do not wait for the long-running operation to finish.")
Yes = typer.Option(False, "--yes", "-y", help="Do not prompt for confirmation.")
Description = typer.Option(None, "--description", help="Description.", show_default=False)
Datastore = typer.Option(None, "--datastore", help="Datastore to upload local files to.", show_default=False)
Tags = typer.Option(None, "--tags", help="Tags: --tags key=value [key=value ...] (repeatable).", show_default=False)


def on_workspace(verb):
    """Add -w/-g/--subscription to `verb` and hand it a `client` and/or `target`."""
    signature = inspect.signature(verb)
    wanted = [name for name in _INJECTED if name in signature.parameters]
    kept = [p for p in signature.parameters.values() if p.name not in _INJECTED]

    @functools.wraps(verb)
    def wrapper(*args, workspace_name=None, resource_group=None, subscription=None, **kwargs):
        import click

        from cli.client.context import resolve_target
        from cli.targets import make_client

        application = click.get_current_context().obj
        if "application" in wanted:
            kwargs["application"] = application
        target = resolve_target(workspace_name=workspace_name, resource_group=resource_group,
                                subscription=subscription)
        if "target" in wanted:
            kwargs["target"] = target
        if "client" not in wanted:
            return verb(*args, **kwargs)
        with make_client(target, progress=application.progress) as client:
            return verb(*args, client=client, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=kept + _WORKSPACE_PARAMS)
    # Typer reads type hints too: drop the injected names, add the workspace flags.
    wrapper.__annotations__ = {**{k: v for k, v in verb.__annotations__.items() if k not in _INJECTED},
                               **{p.name: p.annotation for p in _WORKSPACE_PARAMS}}
    return wrapper


def confirm(question: str, yes: bool) -> None:
    """Go on with --yes or a 'y' typed at a terminal; without a terminal, refuse as az does."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question} Pass --yes (-y) to confirm: there is no terminal to ask at.")
    answer = input(f"{question} (y/n): ").strip().lower()
    if answer not in ("y", "yes"):
        raise MLError("operation cancelled")
