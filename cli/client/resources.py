"""Workspace identity and the ARM resource paths of everything the CLI touches."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Tuple
from urllib.parse import quote, unquote

from cli import names
from cli.errors import UsageError

API_VERSION = "2025-12-01"
PROVIDER = "Microsoft.MachineLearningServices"

# Versioned asset families: each has containers `{WS}/{kind}/{name}` and versions below them.
ASSET_KINDS = ("codes", "data", "models", "environments", "components")
ASSET_LABELS = {"codes": "code", "data": "data", "models": "model", "environments": "environment",
                "components": "component"}


def _segment(value: str) -> str:
    reason = names.segment_problem(value)
    if reason:
        raise UsageError(reason)
    return quote(str(value), safe="")


def _named(kind: str, value: Optional[str], label: Optional[str] = None) -> Optional[str]:
    """`value` when it fits Azure's rule for `kind` names (checked before any request), else UsageError."""
    if value is not None:
        reason = names.problem(kind, value, label)
        if reason:
            raise UsageError(reason)
    return value


@dataclass(frozen=True)
class WorkspaceId:
    subscription: str
    resource_group: str
    workspace: str

    @property
    def arm_id(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/{PROVIDER}/workspaces/{self.workspace}")

    @property
    def workspaces(self) -> str:
        """The workspaces collection of the resource group (list, and create/delete below it)."""
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/{PROVIDER}/workspaces"

    def child(self, *parts: Optional[str]) -> str:
        """`{arm_id}/a/b/...`; a trailing None is dropped so `child("jobs", None)` is the collection."""
        kept = list(parts)
        while kept and kept[-1] is None:
            kept.pop()
        return "/".join([self.arm_id, *(_segment(p) for p in kept)])

    # Versioned assets
    def container(self, kind: str, name: Optional[str] = None) -> str:
        if kind not in ASSET_KINDS:
            raise ValueError(f"unknown asset kind {kind!r}")
        return self.child(kind, _named("asset", name, ASSET_LABELS[kind]))

    def version(self, kind: str, name: str, version: Optional[str] = None) -> str:
        return self.container(kind, name) + (f"/versions/{_segment(_named('version', version))}" if version
                                             else "/versions")

    # Plain resources
    def job(self, name: Optional[str] = None) -> str:
        return self.child("jobs", _named("job", name))

    def compute(self, name: Optional[str] = None) -> str:
        return self.child("computes", _named("compute", name))

    def datastore(self, name: Optional[str] = None) -> str:
        return self.child("datastores", _named("datastore", name))

    def schedule(self, name: Optional[str] = None) -> str:
        return self.child("schedules", _named("schedule", name))

    def online_endpoint(self, name: Optional[str] = None) -> str:
        return self.child("onlineEndpoints", _named("endpoint", name))

    def online_deployment(self, endpoint: str, name: Optional[str] = None) -> str:
        return self.child("onlineEndpoints", _named("endpoint", endpoint), "deployments", _named("deployment", name))

    def batch_endpoint(self, name: Optional[str] = None) -> str:
        return self.child("batchEndpoints", _named("endpoint", name))

    def batch_deployment(self, endpoint: str, name: Optional[str] = None) -> str:
        return self.child("batchEndpoints", _named("endpoint", endpoint), "deployments", _named("deployment", name))


@dataclass(frozen=True)
class ResourceId:
    """A parsed workspace-scoped ARM id: the workspace and the (type, name) pairs below it."""

    workspace: WorkspaceId
    children: Tuple[Tuple[str, str], ...] = ()

    @property
    def type(self) -> Optional[str]:
        return self.children[-1][0] if self.children else None

    @property
    def name(self) -> Optional[str]:
        return self.children[-1][1] if self.children else None

    @property
    def path(self) -> str:
        return self.workspace.child(*(part for pair in self.children for part in pair))


# ARM ids arrive in mixed case (`resourcegroups` from some services); match the fixed words loosely.
_ARM_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)(?P<rest>(?:/[^/]+/[^/]+)*)/?$",
    re.IGNORECASE,
)


def parse_arm_id(value: str) -> ResourceId:
    """Parse `/subscriptions/.../workspaces/{ws}[/type/name...]` back into its parts."""
    match = _ARM_ID.match(value.strip())
    if not match:
        raise UsageError(f"not a workspace resource id: {value!r}")
    parts = [unquote(p) for p in match["rest"].split("/") if p]
    children = tuple(zip(parts[0::2], parts[1::2]))
    return ResourceId(WorkspaceId(match["sub"], match["rg"], match["ws"]), children)
