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
    # The client's own transport ignores httpx's environment proxies; an https proxy (a corporate one,
    # or `ml local serve`) is honoured here. NO_PROXY is not: the hosts ml calls are all Azure's.
    proxy = env.get("HTTPS_PROXY") or env.get("https_proxy") or None
    transport = AzureTransport(credential, hosts=(host,), proxy=proxy)
    return WorkspaceClient(base_url, target.workspace, transport, credential, progress=progress)


def check_manageable(target: WorkspaceTarget, verb: str) -> WorkspaceTarget:
    """`target`, if ml may `verb` (create, delete) its workspace: local workspaces only."""
    if target.kind != "local":
        raise UsageError(f"ml {verb}s only local workspaces", hint=_AZURE_WORKSPACES)
    return target


def serve_environment(workspace: str, port: int, env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """What a client's shell needs to reach `ml local serve -w workspace --port port` as Azure."""
    from cli.local.serve.server import environment

    return environment(_served_home(workspace, env), workspace, port)


def serve_local(workspace: str, port: int, *, log, announce, env: Mapping[str, str] = os.environ) -> None:
    """Serve the local workspaces of ML_HOME (requests naming none go to `workspace`) until interrupted."""
    from cli.local.serve.server import run

    try:
        run(_served_home(workspace, env), workspace, port, log=log, announce=announce)
    except OSError as exc:
        from cli.errors import MLError

        raise MLError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}") from None


def _served_home(workspace: str, env: Mapping[str, str]):
    from cli import names

    reason = names.problem("local workspace", workspace)
    if reason:
        raise UsageError(f"invalid local workspace name: {reason}")
    return local_home(env)
