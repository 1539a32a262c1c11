"""The reference mini-language: azureml:name:version, azureml:name@label, azureml://..., ARM ids."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"
_ASSET_TYPES = ("environments", "models", "components", "data", "codes")
_ARM = re.compile(
    r"^/subscriptions/[^/]+/resource[Gg]roups/[^/]+/providers/Microsoft\.MachineLearningServices/"
    r"[A-Za-z]+/[^/]+(/[A-Za-z]+/[^/]+)*/?$",
    re.IGNORECASE,
)
_VERSIONED = re.compile(rf"^(?P<name>{_NAME}):(?P<version>[^/@\s]+)$")
_LABELED = re.compile(rf"^(?P<name>{_NAME})@(?P<label>[A-Za-z0-9_.\-]+)$")
_BARE = re.compile(rf"^(?P<name>{_NAME})$")
_REGISTRY = re.compile(
    rf"^azureml://(registries|feeds)/(?P<registry>{_NAME})/(?P<type>[a-z]+)/(?P<name>{_NAME})"
    r"(/(versions/(?P<version>[^/\s]+)|labels/(?P<label>[^/\s]+)))?/?$"
)
_DATASTORE = re.compile(
    r"^azureml://(subscriptions/[^/]+/resource[Gg]roups/[^/]+/(providers/Microsoft\.MachineLearningServices/)?workspaces/[^/]+/)?"
    rf"datastores/(?P<datastore>{_NAME})(/paths(/(?P<path>.*))?|/)$",
    re.IGNORECASE,
)
_JOB_OUTPUT = re.compile(
    r"^azureml://jobs/(?P<job>[^/\s]+)/outputs/(?P<output>[A-Za-z0-9_\-]+)(/paths/(?P<path>.*))?/?$"
)
_ASSET_ID = re.compile(
    r"^azureml://(locations/[^/]+/workspaces/[^/]+/)?(?P<type>data|models|environments|components|codes)/"
    rf"(?P<name>{_NAME})/versions/(?P<version>[^/\s]+)$"
)
_LEGACY = ("azureml://subscriptions/",)


@dataclass(frozen=True)
class Reference:
    kind: str  # asset | label | resource | arm | registry | datastore | job_output | asset_id
    name: str | None = None
    version: str | None = None
    label: str | None = None
    registry: str | None = None
    asset_type: str | None = None
    datastore: str | None = None
    path: str | None = None
    job: str | None = None
    output: str | None = None


class MalformedReference(ValueError):
    """A malformed reference; the message says what the well-formed shapes are."""


def is_reference(value: str) -> bool:
    return value.startswith("azureml:") or bool(_ARM.match(value))


def parse_reference(value: str) -> Reference:
    """Parse one reference string, or raise MalformedReference explaining the expected shape."""
    if _ARM.match(value):
        return Reference("arm", name=value.rstrip("/").rsplit("/", 1)[-1])
    if not value.startswith("azureml:"):
        raise MalformedReference(f"'{value}' is not an azureml: reference")
    if value.startswith("azureml://"):
        return _parse_uri(value)
    body = value[len("azureml:"):]
    if body.startswith("/"):
        if _ARM.match(body):
            return Reference("arm", name=body.rstrip("/").rsplit("/", 1)[-1])
        raise MalformedReference(f"'{value}' is not a valid ARM id (expected azureml:/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.MachineLearningServices/workspaces/<ws>/<type>/<name>[/versions/<v>])")
    for pattern, kind in ((_VERSIONED, "asset"), (_LABELED, "label"), (_BARE, "resource")):
        match = pattern.match(body)
        if match:
            return Reference(kind, **match.groupdict())
    if not body:
        raise MalformedReference("'azureml:' names nothing; expected azureml:<name>:<version> or azureml:<name>@latest")
    raise MalformedReference(f"'{value}' is not a valid reference; expected azureml:<name>:<version>, azureml:<name>@<label> or azureml:<name>")


def _parse_uri(value: str) -> Reference:
    for pattern, kind in ((_REGISTRY, "registry"), (_DATASTORE, "datastore"), (_JOB_OUTPUT, "job_output"), (_ASSET_ID, "asset_id")):
        match = pattern.match(value)
        if not match:
            continue
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        if kind == "registry":
            if groups["type"] not in _ASSET_TYPES:
                raise MalformedReference(f"'{value}': registry asset type '{groups['type']}' is not one of {', '.join(_ASSET_TYPES)}")
            groups["asset_type"] = groups.pop("type")
        if kind == "asset_id":
            groups["asset_type"] = groups.pop("type")
        if kind in ("datastore", "job_output") and groups.get("path"):
            from cli import names  # a path that could leave its datastore is refused before any request

            reason = names.relative_path_problem(groups["path"], what="path", decoded_too=True)
            if reason:
                raise MalformedReference(f"'{value}': {reason}")
        return Reference(kind, **groups)
    if value.startswith("azureml://datastores/"):
        raise MalformedReference(f"'{value}' is not a valid datastore URI; expected azureml://datastores/<datastore>/paths/<path>")
    if value.startswith(("azureml://registries/", "azureml://feeds/")):
        raise MalformedReference(f"'{value}' is not a valid registry reference; expected azureml://registries/<registry>/<type>/<name>/versions/<version> or .../labels/<label>")
    if value.startswith("azureml://jobs/"):
        raise MalformedReference(f"'{value}' is not a valid job output URI; expected azureml://jobs/<job>/outputs/<output>[/paths/<path>]")
    return Reference("uri", path=value[len("azureml://"):])  # other azureml:// forms are the service's to judge
