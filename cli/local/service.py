"""The embedded local workspace: answers Azure ML REST requests in-process, as Azure does."""

from __future__ import annotations

import functools
import uuid
from pathlib import Path
from urllib.parse import parse_qsl

import httpx

from cli.errors import LocalWorkspaceError, MLError
from cli.local import ids
from cli.local.blobs import BlobStore
from cli.local.http import ApiError, Call, Request, guarded
from cli.local.private import private_files
from cli.local.router import Router
from cli.local.store import open_store


def build_router() -> Router:
    from cli.local.handlers import (assets, batch_endpoints, blob, computes, datastores, jobs, online, operations,
                                    uploads, workspace)

    router = Router()
    for module in (workspace, assets, uploads, computes, datastores, jobs, online, operations, blob, batch_endpoints):
        module.register(router)
    return router


@functools.cache
def _routes() -> tuple:
    return tuple(build_router().routes)


def shared_router() -> Router:
    """A router of the workspace's routes, built once per process (a pipeline's step runners are forks
    of its runner, which built it already); each service gets its own list of them."""
    router = Router()
    router.routes = list(_routes())
    return router


class LocalWorkspaceService:
    """One local workspace under ML_HOME; its `app` (driven by `handle`) is the whole HTTP surface."""

    def __init__(self, home: Path, workspace_name: str):
        from cli import names
        from cli.errors import UsageError

        reason = names.problem("local workspace", workspace_name)
        if reason:  # the name is a folder below $ML_HOME/workspaces
            raise UsageError(reason)
        self.home = Path(home)
        self.workspace = workspace_name
        self.root = self.home / "workspaces" / workspace_name
        try:
            with private_files():  # ML_HOME holds secrets: 0600/0700 whatever the umask
                self.store = open_store(self.home, workspace_name)
                self.blobs = BlobStore(self.root / "blobs", self.store, workspace_name)
                self.blobs.ensure_default_datastore()
        except OSError as exc:  # ML_HOME is a file, read-only, full...
            raise LocalWorkspaceError(f"cannot use the local workspace folder {self.root}: {exc.strerror}",
                                      hint="set ML_HOME to a writable folder") from None
        self.workspace_id = ids.workspace_id(workspace_name)
        self.router = shared_router()
        self._in_process = None
        self._tracking = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one REST or blob request in-process, as the served app answers it (cli.local.http.guarded)
        but without ASGI: the request body is read as the caller sends it, and a file's body streams back
        in chunks (a download never sits in memory whole)."""
        if self._in_process is None:
            self._in_process = guarded(self._answer, passthrough=(MLError,))
        return self._in_process(Request(request.method, request.url, request.headers, iter(request.stream)))

    def answer(self, request: Request) -> httpx.Response:
        """Answer one request on this thread, unguarded (`ml local serve`'s gateway guards it): the request
        body is read as it arrives and a file's body streams out. A pipeline's runner creates its steps
        this way."""
        return self._answer(request)

    def _answer(self, request: Request) -> httpx.Response:
        request_id = str(uuid.uuid4())
        try:
            with private_files():  # what a request writes under ML_HOME is private (cli.local.private)
                response = self._dispatch(request)
        except ApiError as error:
            response = error.response(request.method)
            if request.url.host != ids.MANAGEMENT_HOST:
                response.headers.setdefault("x-ms-error-code", error.code)
        response.headers["x-ms-request-id"] = request_id
        if request.url.host == ids.MANAGEMENT_HOST:
            response.headers["x-ms-correlation-request-id"] = request_id
        client_id = request.headers.get("x-ms-client-request-id")
        if client_id is not None:
            response.headers["x-ms-client-request-id"] = client_id
        return response

    def _dispatch(self, request: Request) -> httpx.Response:
        host, path = request.url.host, request.url.raw_path.split(b"?")[0].decode("ascii")
        if host.endswith("." + ids.BLOB_HOST):  # virtual-host style <account>.blob.ml.invalid
            host, path = ids.BLOB_HOST, "/" + host.split(".", 1)[0] + path
        query = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        if host == ids.MANAGEMENT_HOST and "api-version" not in query:
            raise ApiError(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.")
        handler, params = self.router.resolve(host, request.method, path)
        self._check_workspace(params)
        return handler(Call(self, request, params, query))

    def _check_workspace(self, params: dict[str, str]) -> None:
        if params.get("subscriptionId", ids.SUBSCRIPTION).lower() != ids.SUBSCRIPTION:
            raise ApiError(404, "SubscriptionNotFound",
                           f"The subscription '{params['subscriptionId']}' could not be found.")
        if params.get("resourceGroupName", ids.RESOURCE_GROUP).lower() != ids.RESOURCE_GROUP:
            raise ApiError(404, "ResourceGroupNotFound",
                           f"Resource group '{params['resourceGroupName']}' could not be found.")
        name = params.get("workspaceName", self.workspace)
        if name.lower() != self.workspace.lower():
            raise ApiError(404, "ResourceNotFound",
                           f"The Resource '{ids.PROVIDER}/workspaces/{name}' under resource group"
                           f" '{ids.RESOURCE_GROUP}' was not found.")

    def tracking_api(self):
        """The workspace's MLflow API (cli.local.tracking), opened on first use: what its tracking URI answers."""
        if self._tracking is None:
            from cli.local.tracking.server import TrackingServer
            from cli.local.tracking.store import TrackingStore

            self._tracking = TrackingServer(TrackingStore(self.root))
        return self._tracking

    def access_token(self, scope: str) -> str:
        """A bearer token this workspace accepts (its blob plane's, for identity-based datastores)."""
        return self.blobs.bearer_token()

    # ---- helpers the handlers share

    def arm_id(self, *parts: str) -> str:
        """ARM id of a resource below this workspace: arm_id('models', 'm', 'versions', '1')."""
        return "/".join((self.workspace_id, *parts))

    def url(self, arm_id: str, **query: str) -> str:
        from urllib.parse import urlencode

        return f"{ids.MANAGEMENT_URL}{arm_id}?" + urlencode({"api-version": ids.API_VERSION, **query})
