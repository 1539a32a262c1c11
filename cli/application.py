"""The application object: owns the global options, stdout (data) and stderr (messages)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from cli import output


@dataclass
class Application:
    output: str = "json"
    query: str | None = None
    debug: bool = False
    verbose: bool = False
    only_show_errors: bool = False
    output_given: bool = False  # -o was passed explicitly

    @property
    def progress(self) -> bool:
        """Progress bars are welcome: not with --only-show-errors, nor with -o tsv (read by scripts)."""
        return not (self.only_show_errors or self.output == "tsv")

    def emit(self, data, *, table: tuple = ()) -> None:
        """Print a command's result on stdout in the chosen format (`table`: the columns of -o table)."""
        try:
            text = output.render(data, self.output, self.query, table)
        except Exception as exc:  # jmespath raises its own tree; a bad --query is a usage error
            from cli.errors import UsageError

            if type(exc).__module__.startswith("jmespath"):
                raise UsageError(f"--query: {str(exc).splitlines()[0]}") from None
            raise
        output.write(text)

    def write_text(self, text: str) -> None:
        """Plain text on stdout whatever -o says (logs, as az prints them)."""
        output.write(text + "\n" if text and not text.endswith("\n") else text)

    def info(self, message: str) -> None:
        """A progress or status message on stderr; silent with --only-show-errors."""
        if not self.only_show_errors:
            print(message, file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        if not self.only_show_errors:
            print(f"warning: {message}", file=sys.stderr, flush=True)

    def warn_line(self, line: str) -> None:
        """A preformatted warning (e.g. a diagnostic); silent with --only-show-errors."""
        if not self.only_show_errors:
            print(line, file=sys.stderr, flush=True)

    def error(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

