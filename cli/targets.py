"""Which transport serves a workspace: the one place that knows the local workspace from Azure.

`cli.client` speaks REST to whatever transport it is given and never imports `cli.local`; the
commands resolve a WorkspaceTarget (cli.client.context) and ask here for its client.
"""

from __future__ import annotations

import os
from typing import Mapping

from cli.client.context import AZURE_BASE_URL, LOCAL_BASE_URL, WorkspaceTarget, local_home
from cli.errors import UsageError

_AZURE_WORKSPACES = "create and delete Azure workspaces with `az ml workspace create/delete`"


def make_client(target: WorkspaceTarget, *, credential=None, env: Mapping[str, str] = os.environ,
                progress: bool = True):
    """The WorkspaceClient for `target`: in-process to the local workspaces, or HTTPS to Azure.
    `progress`: uploads may draw a progress bar on a terminal."""
    from cli.client.workspace_client import WorkspaceClient

    if target.kind == "local":
        from cli.client.transports.local import LocalTransport
        from cli.local.home import LocalHome

        home = LocalHome(target.home or local_home(env), target.workspace.workspace)
        return WorkspaceClient(LOCAL_BASE_URL, target.workspace, LocalTransport(home), poll_fast=True,
                               progress=progress)
    from urllib.parse import urlsplit

    from cli.client.transports.azure import AzureTransport

    base_url = env.get("AZUREML_DEV_URL_MFE") or AZURE_BASE_URL
    host = urlsplit(base_url).hostname
    if not host:
        raise UsageError(f"AZUREML_DEV_URL_MFE={base_url!r} is not a URL")
    transport = AzureTransport(credential, hosts=(host,))
    return WorkspaceClient(base_url, target.workspace, transport, credential, progress=progress)


def check_manageable(target: WorkspaceTarget, verb: str) -> WorkspaceTarget:
    """`target`, if ml may `verb` (create, delete) its workspace: local workspaces only."""
    if target.kind != "local":
        raise UsageError(f"ml {verb}s only local workspaces", hint=_AZURE_WORKSPACES)
    return target
