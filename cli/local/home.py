"""Every local workspace under ML_HOME behind one `handle`, as ARM serves a resource group.

The resource-group level calls (list, create, delete workspaces) are answered here; every other
request goes to the LocalWorkspaceService of the workspace it names, or, when it names none (blob
accounts, operation polls), of the default workspace. A workspace's service is opened on first use
(which creates it, as `ml -w NAME ...` always has), so listing or deleting never creates one.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from urllib.parse import parse_qsl

import httpx

from cli.local import ids
from cli.local.http import ApiError, Call, json_response

# The resource-group level ARM paths; matched here rather than by the workspace router, whose
# routes all sit below one workspace. Fixed segments match case-insensitively, as ARM's do.
_RG_PATH = re.compile(r"^/subscriptions/(?P<subscriptionId>[^/]+)/resourceGroups/(?P<resourceGroupName>[^/]+)"
                      r"/providers/Microsoft\.MachineLearningServices/workspaces(?:/(?P<workspaceName>[^/]+))?/?$",
                      re.IGNORECASE)
WORKSPACE_DB = "workspace.db"
# Azure's rule for workspace names, which also keeps a name a single plain folder under ML_HOME.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,32}$")


class LocalHome:
    """The local workspaces of one ML_HOME; `default` is the one requests without a workspace go to."""

    def __init__(self, home: Path, default: str):
        self.home = Path(home)
        self.default = default
        self._services: dict = {}

    # ---- the workspaces

    def names(self) -> list[str]:
        root = self.home / "workspaces"
        return sorted(p.name for p in root.iterdir() if (p / WORKSPACE_DB).is_file()) if root.is_dir() else []

    def exists(self, name: str) -> bool:
        return name in self._services or (self.home / "workspaces" / name / WORKSPACE_DB).is_file()

    def service(self, name: str):
        """The workspace's service, opened (and the workspace created) on first use."""
        if name not in self._services:
            from cli.local.service import LocalWorkspaceService

            self._services[name] = LocalWorkspaceService(self.home, name)
        return self._services[name]

    def forget(self, name: str) -> None:
        service = self._services.pop(name, None)
        close = getattr(service, "close", None)
        if close is not None:
            close()

    # ---- HTTP

    def handle(self, request: httpx.Request) -> httpx.Response:
        handler, params = _resource_group_call(request)
        if handler is None:  # not a resource-group call: the workspace's own service answers it
            return self.service(self._named(request)).handle(request)
        request.read()
        request_id = str(uuid.uuid4())
        try:
            query = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
            _check(params, query)
            response = handler(Call(self, request, params, query))
        except ApiError as error:
            response = json_response(error.status, error.body(), error.headers)
        for header in ("x-ms-request-id", "x-ms-correlation-request-id"):
            response.headers[header] = request_id
        if "x-ms-client-request-id" in request.headers:
            response.headers["x-ms-client-request-id"] = request.headers["x-ms-client-request-id"]
        return response

    def answer(self, request):
        """A served request (cli.local.http.Request), streamed both ways but for the resource-group calls
        (small JSON documents, answered as `handle` answers them)."""
        handler, _ = _resource_group_call(request)
        if handler is not None:
            return self.handle(httpx.Request(request.method, request.url, headers=request.headers,
                                             content=request.content))
        return self.service(self._named(request)).answer(request)

    def _named(self, request: httpx.Request) -> str:
        """The workspace a request is for: named in its ARM path or blob account, else the default."""
        host, parts = request.url.host, request.url.path.split("/")
        lowered = [p.lower() for p in parts]
        named = None
        if host.endswith("." + ids.BLOB_HOST):  # <account>.blob.ml.invalid: the account is the workspace
            named = host.split(".", 1)[0]
        elif host == ids.BLOB_HOST and len(parts) > 1:
            named = parts[1]
        elif "workspaces" in lowered and lowered.index("workspaces") + 1 < len(parts):
            named = parts[lowered.index("workspaces") + 1]
        return named if named and self.exists(named) else self.default

    def access_token(self, scope: str) -> str:
        """What the default workspace's service gives LocalTransport.token (identity-based datastores)."""
        return self.service(self.default).access_token(scope)

    def close(self) -> None:
        for name in list(self._services):
            self.forget(name)


def _resource_group_call(request: httpx.Request):
    """(handler, path parameters) of a resource-group level call, or (None, None)."""
    if request.url.host != ids.MANAGEMENT_HOST:
        return None, None
    match = _RG_PATH.match(request.url.path)
    if match is None:
        return None, None
    params = {k: v for k, v in match.groupdict().items() if v is not None}  # url.path is decoded once
    handlers = ({"GET": get_workspace, "PUT": put_workspace, "DELETE": delete_workspace} if "workspaceName" in params
                else {"GET": list_workspaces})
    handler = handlers.get(request.method.upper())
    if handler is None:  # PATCH and the rest: the workspace service says what it allows
        return None, None
    return handler, params


def _check(params: dict, query: dict) -> None:
    if "api-version" not in query:
        raise ApiError(400, "MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required for all requests.")
    if params["subscriptionId"].lower() != ids.SUBSCRIPTION:
        raise ApiError(404, "SubscriptionNotFound", f"The subscription '{params['subscriptionId']}' could not be found.")
    if params["resourceGroupName"].lower() != ids.RESOURCE_GROUP:
        raise ApiError(404, "ResourceGroupNotFound",
                       f"Resource group '{params['resourceGroupName']}' could not be found.")
    name = params.get("workspaceName")
    if name is not None and not _NAME.match(name):
        raise ApiError(400, "InvalidResourceName", f"The workspace name '{name}' is invalid: use 1 to 33 letters, "
                       "digits, '-' and '_', starting with a letter or digit.", target="workspaceName")


def _not_found(name: str) -> ApiError:
    return ApiError(404, "ResourceNotFound", f"The Resource '{ids.PROVIDER}/workspaces/{name}' under resource "
                                             f"group '{ids.RESOURCE_GROUP}' was not found.")


def _body(home: LocalHome, name: str) -> dict:
    from cli.local.handlers.workspace import workspace_body

    return workspace_body(home.service(name))


def list_workspaces(call: Call):
    home = call.service
    return json_response(200, {"value": [_body(home, name) for name in home.names()]})


def get_workspace(call: Call):
    home, name = call.service, call.params["workspaceName"]
    if name.lower() != home.default.lower() and not home.exists(name):
        raise _not_found(name)
    return json_response(200, _body(home, name))  # the default workspace is created on first use


def put_workspace(call: Call):
    """Create the workspace (its store and default datastore); an existing one is left as it is."""
    call.json(required=False)  # a local workspace takes nothing from the body, but it must be JSON
    return json_response(200, _body(call.service, call.params["workspaceName"]))


def delete_workspace(call: Call):
    """Delete the workspace and everything in it: records, blobs, job folders."""
    home, name = call.service, call.params["workspaceName"]
    if not home.exists(name):
        return json_response(204)  # ARM: deleting what is not there succeeds with 204
    home.forget(name)
    shutil.rmtree(home.home / "workspaces" / name)
    return json_response(200)
