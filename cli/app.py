"""The root of `ml`: global options, the command tree, and the one error funnel."""

from __future__ import annotations

import importlib
import re
import sys
from typing import List, Optional

from cli import __version__
from cli.application import Application
from cli.errors import Interrupted, MLError, SpecInvalidError, UsageError, exit_code
from cli.output import FORMATS

GLOBAL_HELP = (
    "Global options (accepted anywhere on the line): -o/--output json|yaml|table|tsv|none, "
    "--query JMESPATH, --debug, --verbose, --only-show-errors, -h/--help."
)


def split_global_options(argv: List[str]) -> tuple[Application, List[str]]:
    """Take az-style global options from anywhere in argv; return them and the rest."""
    app = Application()
    rest: List[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token == "--":
            rest.append(token)
            rest.extend(tokens)
            break
        name, eq, inline = token.partition("=")
        if name in ("-o", "--output", "--query"):
            value = inline if eq else next(tokens, None)
            if value is None:
                raise UsageError(f"{name} needs a value")
            if name == "--query":
                app.query = value
            else:
                if value not in FORMATS:
                    raise UsageError(f"{name}: '{value}' is not one of {', '.join(FORMATS)}")
                app.output, app.output_given = value, True
        elif token == "--debug":
            app.debug = True
        elif token == "--verbose":
            app.verbose = True
        elif token == "--only-show-errors":
            app.only_show_errors = True
        else:
            rest.append(token)
    return app, _expand_set_values(rest)


def _expand_set_values(argv: List[str]) -> List[str]:
    """az takes `--set a=1 b=2` and `--tags k=v k2=v2`; Click takes one value per flag, so repeat it."""
    result: List[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        result.append(token)
        if token in ("--set", "--tags") and index < len(argv):
            result.append(argv[index])
            index += 1
            while index < len(argv) and "=" in argv[index] and not argv[index].startswith("-"):
                result += [token, argv[index]]
                index += 1
    return result


def build_app():
    """The root Typer app; command groups are imported only when invoked (or listed in help)."""
    import typer
    from typer.core import TyperGroup

    from cli.commands import GROUPS

    class LazyRoot(TyperGroup):
        """Imports a group's module on first use, so `ml job validate` never loads the other groups."""

        def list_commands(self, ctx):
            return super().list_commands(ctx) + [name for name, _, _ in GROUPS]

        def get_command(self, ctx, name):
            for group_name, module, help_text in GROUPS:
                if group_name == name:
                    group = importlib.import_module(module).app
                    if group.registered_callback is None:
                        group.callback()(lambda: None)  # stay a group even with one verb
                    command = typer.main.get_command(group)
                    command.name, command.help, command.epilog = name, help_text, GLOBAL_HELP
                    return command
            return super().get_command(ctx, name)

    root = typer.Typer(
        cls=LazyRoot,
        name="ml",
        help="Azure ML CLI v2 specs, validated and run offline on a local workspace, or sent to Azure.",
        epilog=GLOBAL_HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        pretty_exceptions_show_locals=False,
        rich_markup_mode=None,  # plain help: rich would add ~60 ms to every --help
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    root.callback()(lambda: None)  # a group even though only `validate` is registered eagerly
    from cli.commands.validate_many import register as register_validate

    register_validate(root)
    return root


def main(argv: Optional[List[str]] = None) -> int:
    """Run `ml` with `argv`; the returned int is the process's exit code (see cli.errors)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    app = Application()
    try:
        if argv in (["--version"], ["-v"]):
            print(f"ml {__version__}")
            return 0
        app, argv = split_global_options(argv)
        if app.debug or app.verbose:
            import logging

            # --verbose: what ml itself does (requests, retries, skipped files); --debug: every library too.
            logging.basicConfig(level=logging.DEBUG if app.debug else logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
            logging.getLogger("ml").setLevel(logging.DEBUG)
        _run(app, argv)
        return 0
    except BaseException as exc:  # noqa: BLE001 - the one funnel: every ending becomes an exit code here
        if isinstance(exc, SystemExit):
            raise
        _report(app, exc)
        return exit_code(exc)


def _report(app: Application, exc: BaseException) -> None:
    """The lines that tell the user how the command ended (stderr)."""
    if isinstance(exc, SpecInvalidError):
        for diagnostic in exc.diagnostics:
            app.error(diagnostic.format())
        if not exc.diagnostics:
            app.error(f"ml: error: {exc.message}")
    elif isinstance(exc, Interrupted):
        app.error(f"ml: {exc.message}")
    elif isinstance(exc, MLError):
        app.error(f"ml: error: {exc.message}")
        if exc.hint:
            app.error(f"hint: {exc.hint}")
    elif isinstance(exc, KeyboardInterrupt):
        app.error("ml: interrupted")
    elif isinstance(exc, BrokenPipeError):
        pass
    elif isinstance(exc, Exception):
        _internal_error(app, exc)
    else:
        raise exc  # GeneratorExit and the like are not ours to swallow


def _run(app: Application, argv: List[str]) -> None:
    """Run the command tree; Click's own endings become exceptions of cli.errors."""
    import click
    import typer

    command = typer.main.get_command(build_app())
    try:
        command.main(args=argv, prog_name="ml", standalone_mode=False, obj=app)
    except click.exceptions.Exit as exc:  # --help, and Click's own exits: not raised by verbs
        if exc.exit_code:
            raise MLError(f"exit {exc.exit_code}") from None
    except click.exceptions.Abort:
        raise KeyboardInterrupt from None
    except click.exceptions.NoArgsIsHelpError as exc:
        print(exc.ctx.get_help())
    except click.exceptions.UsageError as exc:
        ctx = exc.ctx
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        message = re.sub(r"( Did you mean '[^']+'\?)\1", r"\1", exc.format_message())  # Typer repeats Click's hint
        raise UsageError(message + where) from None
    except click.exceptions.ClickException as exc:
        raise UsageError(exc.format_message()) from None


def _internal_error(app: Application, exc: Exception) -> None:
    import tempfile
    import traceback

    from cli.redact import redact

    text = redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))  # a log to share
    if app.debug:
        app.error(text.rstrip())
    try:
        with tempfile.NamedTemporaryFile("w", prefix="ml-error-", suffix=".log", delete=False) as log:
            log.write(text)
        where = f" (traceback in {log.name})"
    except OSError:
        where = ""
    app.error(redact(f"ml: internal error: {type(exc).__name__}: {exc}{where}"))
