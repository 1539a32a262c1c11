"""Data-plane hosts from the workspace's discovery document: public client calls, the token trusted there."""

from __future__ import annotations

import httpx
from client_fakes import BASE, FakeCredential, Script

from cli.client.resources import WorkspaceId
from cli.client.transports.azure import AzureTransport
from cli.client.workspace_client import WorkspaceClient

WS = WorkspaceId("00000000-1111-2222-3333-444444444444", "rg", "ws")
HISTORY = "https://eastus.api.azureml.ms"


class ScriptedAzure(AzureTransport):
    """The Azure transport's token rules in front of a scripted server instead of the network."""

    def __init__(self, script: Script):
        super().__init__(FakeCredential(), hosts=("management.azure.com",))
        self.script = script

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.wants_token(request.url):
            request.headers["Authorization"] = f"Bearer {self.token()}"
        return self.script(request)


def test_history_host_is_discovered_once_and_gets_the_token():
    script = Script(
        ("GET", BASE + WS.arm_id, httpx.Response(200, json={"properties": {"discoveryUrl": f"{HISTORY}/discovery"}})),
        ("GET", f"{HISTORY}/discovery", httpx.Response(200, json={"api": HISTORY, "history": HISTORY + "/"})),
        ("GET", f"{HISTORY}/history/v1.0{WS.arm_id}/runs/j/details", httpx.Response(200, json={"status": "Running"})),
        ("GET", f"{HISTORY}/history/v1.0{WS.arm_id}/runs/j/details", httpx.Response(200, json={"status": "Completed"})),
    )
    with WorkspaceClient(BASE, WS, ScriptedAzure(script), sleep=lambda s: None) as client:
        base = f"{client.service_url('history')}/history/v1.0{WS.arm_id}"
        assert client.service_url("api") == HISTORY  # from the same document, not fetched again
        assert client.get(f"{base}/runs/j/details", api_version="v1.0") == {"status": "Running"}
        assert client.get(f"{base}/runs/j/details", api_version="v1.0") == {"status": "Completed"}
    assert script.done
    workspace, discovery, details, _ = script.requests
    assert workspace.url.params["api-version"] == "2025-12-01"
    assert "api-version" not in discovery.url.params and "Authorization" not in discovery.headers
    assert details.url.params["api-version"] == "v1.0" and details.headers["Authorization"] == "Bearer fake-token-value"


def test_create_only_tells_created_from_existing(make_client):
    path = WS.version("models", "m", "1")
    script = Script(("PUT", None, httpx.Response(201, json={"name": "1"})),
                    ("PUT", None, httpx.Response(200, json={"name": "1"})),
                    ("PUT", None, httpx.Response(409, json={"error": {"code": "Conflict", "message": "exists"}})),
                    ("PUT", None, httpx.Response(412, json={"error": {"code": "PreconditionFailed", "message": "x"}})))
    client = make_client(script, workspace=WS)
    assert client.create_only(path, {"properties": {}}) == {"name": "1"}
    assert [client.create_only(path, {"properties": {}}) for _ in range(3)] == [None, None, None]
    assert all(r.headers["If-None-Match"] == "*" for r in script.requests)
