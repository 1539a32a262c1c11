"""Azure's rules for resource names, versions and datastore paths: one home for the client and the local service.

The client checks every name before it builds a request path (cli.client.resources), the local service
checks again what a request carries (cli.local.handlers), so a name can never become a path that
leaves its folder: `..`, `/`, `\\`, `%`, NUL and other controls fit no rule below.

Sources. The REST contract (azure-rest-api-specs, MachineLearning.Management routes, api 2025-12-01):
asset containers `^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$`, workspaces `^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$`.
Asset names also take '.', which the service accepts (curated environments such as
`AzureML-sklearn-1.0-ubuntu20.04-py38-cpu` are named so). azure-ai-ml's
`validate_endpoint_or_deployment_name`: endpoints and deployments 3-32 characters, a letter first,
letters, digits and '-', an alphanumeric last. Run history: experiment (and run) names are
letters, digits, '_' and '-', starting with a letter or digit. Datastores: alphanumerics, '-' and
'_', 1-255 (the provider's validation, as terraform-provider-azurerm repeats it). Computes: a letter
first, then letters, digits and '-', at most 24 (instances; clusters 16: the service says so).
Versions have no pattern in the contract; the service takes what asset names take.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional


class NameRule(NamedTuple):
    pattern: "re.Pattern[str]"
    says: str  # the rule in words, for the one-line error


_ALNUM_START = "start with a letter or digit"
RULES = {
    "asset": NameRule(re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}"),
                      f"letters, digits, '-', '_' and '.', {_ALNUM_START}, at most 255 characters"),
    "version": NameRule(re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}"),
                        f"letters, digits, '-', '_' and '.', {_ALNUM_START}, at most 255 characters"),
    "job": NameRule(re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}"),
                    f"letters, digits, '-' and '_', {_ALNUM_START}, at most 255 characters"),
    "experiment": NameRule(re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,255}"),
                           f"letters, digits, '-' and '_', {_ALNUM_START}, at most 256 characters"),
    "datastore": NameRule(re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}"),
                          f"letters, digits, '-' and '_', {_ALNUM_START}, at most 255 characters"),
    "compute": NameRule(re.compile(r"[A-Za-z][A-Za-z0-9-]{0,23}"),
                        "letters, digits and '-', starting with a letter, at most 24 characters"),
    "endpoint": NameRule(re.compile(r"[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]"),
                         "3 to 32 letters, digits and '-', starting with a letter and ending with a letter or digit"),
    "deployment": NameRule(re.compile(r"[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]"),
                           "3 to 32 letters, digits and '-', starting with a letter and ending with a letter or digit"),
    "schedule": NameRule(re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}"),
                         f"letters, digits, '-' and '_', {_ALNUM_START}, at most 255 characters"),
    "workspace": NameRule(re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,32}"),
                          f"3 to 33 letters, digits, '-' and '_', {_ALNUM_START}"),
    # A local workspace is a folder under $ML_HOME/workspaces; shorter names are fine there.
    "local workspace": NameRule(re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,32}"),
                                f"letters, digits, '-' and '_', {_ALNUM_START}, at most 33 characters"),
}
MAX_SEGMENT = 1024  # any other path segment (resource groups, connections...): Azure's URL limits are larger
MAX_PATH = 1024  # a blob name: Azure Storage's limit


class InvalidName(ValueError):
    """A name, version or path that breaks its rule; str() is the one-line reason."""


def _shown(value: str) -> str:
    text = value if len(value) <= 60 else value[:57] + "..."
    return repr(text)


def problem(kind: str, value: object, label: Optional[str] = None) -> Optional[str]:
    """Why `value` is not a valid `kind` name ('asset', 'version', 'job', ...), or None when it is.

    `label` names the thing in the message ('model' for an asset, say)."""
    rule, label = RULES[kind], label or kind
    if not isinstance(value, str) or not value:
        return f"a {label} name must be a non-empty string"
    if rule.pattern.fullmatch(value) is None:
        return f"{_shown(value)} is not a valid {label} name: use {rule.says}"
    return None


def check(kind: str, value: object) -> str:
    """`value` itself when it is a valid `kind` name; else InvalidName."""
    reason = problem(kind, value)
    if reason:
        raise InvalidName(reason)
    return value  # type: ignore[return-value]


def segment_problem(value: object) -> Optional[str]:
    """Why `value` cannot be one segment of a resource path (any kind), or None."""
    if not isinstance(value, str) or not value:
        return "a resource name must not be empty"
    if value in (".", "..") or any(c in value for c in "/\\") or _has_control(value):
        return f"{_shown(value)} cannot be a resource name: no '/', '\\', control characters, '.' or '..'"
    if len(value) > MAX_SEGMENT:
        return f"a resource name must be at most {MAX_SEGMENT} characters"
    return None


def _has_control(value: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


def relative_path_problem(path: str, *, what: str = "path", decoded_too: bool = False) -> Optional[str]:
    """Why `path` (a blob name or a datastore path, '/'-separated) could leave its root, or None.

    Empty segments are allowed (a trailing '/' names a folder; Azure keeps '//' as is), so are names
    with dots; '.' and '..' segments, a leading '/', '\\', NUL and other control characters are not.
    `decoded_too`: the path is a URI's, which some readers percent-decode once: check that too."""
    if decoded_too:
        from urllib.parse import unquote

        return relative_path_problem(path, what=what) or relative_path_problem(unquote(path), what=what)
    if not isinstance(path, str):
        return f"the {what} must be a string"
    if _has_control(path):
        return f"the {what} {_shown(path)} contains a control character"
    if "\\" in path:
        return f"the {what} {_shown(path)} contains '\\'; use '/' between folders"
    if path.startswith("/"):
        return f"the {what} {_shown(path)} is absolute; give it relative to the datastore"
    if any(part in (".", "..") for part in path.split("/")):
        return f"the {what} {_shown(path)} has a '.' or '..' segment, which could leave its datastore"
    if len(path) > MAX_PATH:
        return f"the {what} is longer than {MAX_PATH} characters"
    return None


_DATASTORE_URI = re.compile(r"^azureml://(?:subscriptions/[^/]+/resource[Gg]roups/[^/]+/"
                            r"(?:providers/Microsoft\.MachineLearningServices/)?workspaces/[^/]+/)?"
                            r"datastores/(?P<datastore>[^/]*)(?:/paths/?(?P<path>.*))?/?$", re.IGNORECASE)


def datastore_uri_problem(uri: object) -> Optional[str]:
    """Why an azureml://...datastores/<ds>/paths/<p> URI could leave its datastore, or None (other URIs: None)."""
    if not isinstance(uri, str):
        return None
    match = _DATASTORE_URI.match(uri.strip())
    if match is None:
        return None
    reason = problem("datastore", match["datastore"])
    if reason:
        return reason
    return relative_path_problem(match["path"] or "", what="datastore path", decoded_too=True)
