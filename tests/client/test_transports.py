import json

import httpx
import pytest

from cli.client.resources import WorkspaceId
from cli.client.transports.azure import MANAGEMENT_SCOPE, AzureTransport
from cli.client.transports.local import LocalTransport
from cli.client.workspace_client import WorkspaceClient
from cli.errors import AuthenticationError
from client_fakes import FakeCredential

WS = WorkspaceId("00000000-1111-2222-3333-444444444444", "test-rg", "my-ws")


def _client(server, credential, sleeps=None):
    base = f"http://127.0.0.1:{server.server_address[1]}"
    transport = AzureTransport(credential, hosts=("127.0.0.1",))
    return base, WorkspaceClient(base, WS, transport, credential, sleep=(sleeps or []).append)


def test_management_calls_carry_the_token_and_sas_calls_do_not(loopback_server):
    credential = FakeCredential()
    base, client = _client(loopback_server, credential)
    port = loopback_server.server_address[1]
    with client:
        client.get(WS.job("j"))
        client.put(WS.job("j"), {"properties": {}})
        # a SAS URL on the same host (the sig decides) and on another host (the host decides)
        client.put_blob(f"{base}/c/blob.txt?sv=2025-01-05&sr=c&sig=abc", b"hello", {"x-ms-blob-type": "BlockBlob"})
        client.head_blob(f"http://localhost:{port}/c/blob.txt?sv=2025-01-05&sr=c&st=x")
    seen = loopback_server.seen
    assert [s[0] for s in seen] == ["GET", "PUT", "PUT", "HEAD"]
    assert seen[0][2]["Authorization"] == "Bearer fake-token-value"
    assert seen[1][2]["Authorization"] == "Bearer fake-token-value"
    assert json.loads(seen[1][3]) == {"properties": {}}
    assert "Authorization" not in seen[2][2] and "Authorization" not in seen[3][2]
    assert seen[2][3] == b"hello" and seen[2][2]["x-ms-blob-type"] == "BlockBlob"
    assert credential.scopes == [(MANAGEMENT_SCOPE,)]  # fetched once, then cached


def test_token_is_refreshed_within_five_minutes_of_expiry():
    credential = FakeCredential(lifetime=200)
    transport = AzureTransport(credential)
    transport.token()
    transport.token()
    assert len(credential.scopes) == 2
    credential.lifetime = 3600
    transport.token()
    transport.token()
    assert len(credential.scopes) == 3


def test_token_not_requested_for_other_hosts():
    class Refusing:
        def get_token(self, *scopes, **kwargs):
            raise AssertionError("no token should be requested")

    transport = AzureTransport(Refusing())
    assert not transport.wants_token(httpx.URL("https://acct.blob.core.windows.net/c/x"))
    assert not transport.wants_token(httpx.URL("https://management.azure.com/x?sig=abc"))
    assert transport.wants_token(httpx.URL("https://management.azure.com/subscriptions/s"))


def test_credential_failure_is_an_authentication_error(loopback_server):
    from azure.core.exceptions import ClientAuthenticationError

    class Failing:
        def get_token(self, *scopes, **kwargs):
            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token\nmore")

    _, client = _client(loopback_server, Failing())
    with client, pytest.raises(AuthenticationError) as caught:
        client.get(WS.job("j"))
    assert caught.value.message == ("could not get an Azure access token: "
                                    "DefaultAzureCredential failed to retrieve a token")
    assert loopback_server.seen == []


class TinyService:
    """The one-method interface LocalTransport expects: handle(httpx.Request) -> httpx.Response."""

    def __init__(self):
        self.resources, self.closed = {}, False

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "PUT":
            body = json.loads(request.content)  # the body must already be readable
            self.resources[path] = {"id": path, "name": path.rsplit("/", 1)[-1], **body}
            return httpx.Response(201, json=self.resources[path])
        if path in self.resources:
            return httpx.Response(200, json=self.resources[path])
        return httpx.Response(404, json={"error": {"code": "ResourceNotFound", "message": f"{path} not found"}})

    def close(self):
        self.closed = True


def test_local_transport_round_trip():
    from cli.errors import ResourceNotFoundError

    service = TinyService()
    ws = WorkspaceId("00000000-0000-0000-0000-000000000000", "local", "local")
    client = WorkspaceClient("https://management.ml.invalid", ws, LocalTransport(service))
    created = client.put(ws.version("codes", "c", "1"), {"properties": {"codeUri": "x"}})
    assert created["name"] == "1"
    assert client.get(ws.version("codes", "c", "1"))["properties"] == {"codeUri": "x"}
    with pytest.raises(ResourceNotFoundError, match=r"\(ResourceNotFound\)"):
        client.get(ws.version("codes", "c", "2"))
    client.close()
    assert service.closed
