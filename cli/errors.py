"""The one exception tree of `ml`, and the exit code each error maps to.

    MLError                      1  anything we can explain in one line
    ├── UsageError               2  bad flags or arguments
    ├── ResourceNotFoundError    3  a named resource does not exist (as az: exit 3)
    ├── SpecInvalidError         4  a spec failed validation; carries every diagnostic
    ├── ConflictError            5  the resource exists with other content (immutable versions)
    ├── AuthenticationError      6  no credential, or the service refused it
    ├── ServiceError             7  the workspace answered with an error we cannot map
    ├── JobFailedError           8  a streamed job ended Failed or Canceled
    ├── LocalWorkspaceError      9  the local workspace store is unreadable or of a newer schema
    ├── NotSupportedError       10  a valid spec asks for what ml does not do (yet): automl, spark ... jobs
    └── Interrupted            130  Ctrl-C: the message says what goes on (a job keeps running)
    KeyboardInterrupt          130  Ctrl-C

Verbs end only by returning (exit 0) or raising: never by returning an exit code or raising
typer.Exit. `exit_code` below and `cli.app.main` are the one place exceptions become exit codes
and messages. Foreign exceptions (OSError, httpx, sqlite3, yaml) are translated at one boundary
each; only `cli.app` prints tracebacks, and only with --debug.
"""

from __future__ import annotations

from typing import Sequence


class MLError(Exception):
    """An error with a message fit for the user, and an exit code."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(MLError):
    exit_code = 2


class ResourceNotFoundError(MLError):
    exit_code = 3


class SpecInvalidError(MLError):
    """A spec that failed validation; `diagnostics` holds every problem found, sorted."""

    exit_code = 4

    def __init__(self, diagnostics: Sequence["object"], *, message: str | None = None):
        count = len(diagnostics)
        super().__init__(message or f"{count} error{'s' if count != 1 else ''} found")
        self.diagnostics = list(diagnostics)


class ConflictError(MLError):
    exit_code = 5


class AuthenticationError(MLError):
    exit_code = 6


class ServiceError(MLError):
    """The workspace answered with an error; `request_id` correlates it with the service's logs."""

    exit_code = 7

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 request_id: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
        self.request_id = request_id


class JobFailedError(MLError):
    exit_code = 8


class LocalWorkspaceError(MLError):
    exit_code = 9


class NotSupportedError(MLError):
    """The spec is valid (az would take it) but ml cannot carry it out; not the user's mistake."""

    exit_code = 10


class Interrupted(MLError):
    """Ctrl-C that ml handled: `message` says what was left running, printed without 'error:'."""

    exit_code = 130


def exit_code(exc: BaseException) -> int:
    """The exit code of an exception that ended a command."""
    if isinstance(exc, MLError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return 130
    if isinstance(exc, BrokenPipeError):  # the reader went away (`ml ... | head`): not our failure
        return 0
    return 1


EXIT_CODES = {
    0: "success",
    1: "error (MLError)",
    2: "usage error: bad flags or arguments",
    3: "resource not found",
    4: "spec invalid",
    5: "conflict",
    6: "authentication",
    7: "service error",
    8: "job failed or canceled (--stream, job stream)",
    9: "local workspace store unreadable",
    10: "not supported by ml (a valid spec of a kind ml does not run, e.g. automl or spark jobs)",
    130: "interrupted (Ctrl-C)",
}
