"""What a request names, checked against Azure's rules (cli.names) before anything is stored or touched.

The path parameters arrive decoded once (see service._dispatch); a name that fits its rule is one
path segment on disk too, so a job, blob or asset folder built from it stays inside its root."""

from __future__ import annotations

from cli import names
from cli.local.http import ApiError, Call


def _user_error(reason: str, target: str) -> ApiError:
    return ApiError(400, "UserError", reason[:1].upper() + reason[1:] + ".", target=target)


def name(call: Call, param: str, kind: str, label: str | None = None) -> str:
    """The path parameter `param`, or 400 UserError when it breaks Azure's rule for `kind` names."""
    value = call.params[param]
    reason = names.problem(kind, value, label)
    if reason:
        raise _user_error(reason, param)
    return value


def datastore_uri(value: object, target: str) -> None:
    """400 when an azureml:// datastore URI in a body has a path that could leave its datastore."""
    reason = names.datastore_uri_problem(value)
    if reason:
        raise _user_error(reason, target)


def value(text: object, kind: str, target: str) -> None:
    """400 when a name carried in a body (`target`) breaks Azure's rule for `kind` names."""
    reason = names.problem(kind, text)
    if reason:
        raise _user_error(reason, target)
