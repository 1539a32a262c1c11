import logging

import httpx
import pytest

from cli.client.workspace_client import WorkspaceClient
from cli.client.resources import WorkspaceId
from cli.errors import AuthenticationError, ConflictError, ResourceNotFoundError, ServiceError
from client_fakes import Script, wire_record, wire_response

ERROR = {"error": {"code": "Conflict", "message": "version 1 exists with other content", "details": []}}


def test_429_with_retry_after_then_success(make_client, sleeps):
    throttled = wire_response("GET", "/computes/throttled", 429)
    script = Script(("GET", None, throttled), ("GET", None, wire_response("GET", "/computes/throttled", 200)))
    client = make_client(script)

    body = client.get(client.workspace.compute("throttled"))

    assert body["name"] == "throttled"
    assert sleeps == [1.0]
    first, second = script.requests
    assert first.headers["x-ms-client-request-id"] == second.headers["x-ms-client-request-id"]


def test_retry_after_ms_wins_over_backoff(make_client, sleeps):
    script = Script(("PUT", None, httpx.Response(503, headers={"retry-after-ms": "250"})),
                    ("PUT", None, httpx.Response(200, json={})))
    make_client(script).put("jobs/j", {})
    assert sleeps == [0.25]


def test_exponential_backoff_then_service_error(make_client, sleeps):
    script = Script(*[("GET", None, httpx.Response(500, json={"error": {"code": "InternalError", "message": "boom"}},
                                                   headers={"x-ms-request-id": "req-500"}))] * 4)
    with pytest.raises(ServiceError) as caught:
        make_client(script).get("jobs/j")
    assert sleeps == [0.8, 1.6, 3.2]
    error = caught.value
    assert (error.status, error.code, error.request_id) == (500, "InternalError", "req-500")
    assert error.message == "(InternalError) boom [HTTP 500, request id req-500]"


def test_post_is_not_retried_without_retry_after(make_client, sleeps):
    script = Script(("POST", None, httpx.Response(503, json={"error": {"code": "Busy", "message": "busy"}})))
    with pytest.raises(ServiceError) as caught:
        make_client(script).post("jobs/j/cancel")
    assert caught.value.status == 503 and sleeps == []


def test_post_is_retried_when_retry_after_is_given(make_client, sleeps):
    script = Script(("POST", None, httpx.Response(429, headers={"Retry-After": "2"})),
                    ("POST", None, httpx.Response(200, json={"primaryKey": "k"})))
    assert make_client(script).post("onlineEndpoints/e/listKeys") == {"primaryKey": "k"}
    assert sleeps == [2.0]


def test_connection_error_is_retried(make_client, sleeps):
    script = Script(("GET", None, httpx.ConnectError("connection refused")),
                    ("GET", None, httpx.Response(200, json={"name": "ws"})))
    assert make_client(script).get("/subscriptions/s/resourceGroups/r") == {"name": "ws"}
    assert sleeps == [0.8]


def test_read_error_on_post_is_not_retried(make_client, sleeps):
    script = Script(("POST", None, httpx.ReadError("reset")))
    with pytest.raises(ServiceError, match="could not reach management.azure.com"):
        make_client(script).post("jobs/j/cancel")
    assert sleeps == []


def test_unreachable_server_becomes_a_service_error(sleeps):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = WorkspaceClient(f"http://127.0.0.1:{port}", WorkspaceId("s", "r", "w"), httpx.HTTPTransport(),
                             sleep=sleeps.append)
    with client, pytest.raises(ServiceError, match=f"could not reach 127.0.0.1:{port}"):
        client.get("jobs/j")
    assert len(sleeps) == 3


def test_404_from_the_wire_trace(make_client):
    record = wire_record("GET", "/computes/missing", 404)
    response = httpx.Response(404, json=record["resp_json"], headers={"x-ms-request-id": "rid-404"})
    client = make_client(Script(("GET", None, response)))
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get("computes/missing")
    assert caught.value.message == (
        "(ResourceNotFound) The Resource 'Microsoft.MachineLearningServices/workspaces/my-ws/computes/missing'"
        " was not found. [HTTP 404, request id rid-404]")
    assert caught.value.exit_code == 3


def test_409_is_a_conflict_and_falls_back_to_the_client_request_id(make_client):
    script = Script(("PUT", None, httpx.Response(409, json=ERROR)))
    with pytest.raises(ConflictError) as caught:
        make_client(script).put("codes/c/versions/1", {})
    sent_id = script.requests[0].headers["x-ms-client-request-id"]
    assert caught.value.message == f"(Conflict) version 1 exists with other content [HTTP 409, request id {sent_id}]"


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures(make_client, status):
    body = {"error": {"code": "AuthorizationFailed", "message": "no access"}}
    script = Script(("GET", None, httpx.Response(status, json=body, headers={"x-ms-request-id": "r1"})))
    with pytest.raises(AuthenticationError) as caught:
        make_client(script).get("jobs")
    assert "(AuthorizationFailed) no access" in caught.value.message and "r1" in caught.value.message
    assert caught.value.hint


def test_error_details_are_included(make_client):
    body = {"error": {"code": "UserError", "message": "invalid body",
                      "details": [{"code": "Invalid", "message": "properties.command is required"}]}}
    script = Script(("PUT", None, httpx.Response(400, json=body)))
    with pytest.raises(ServiceError, match=r"invalid body \(properties.command is required\)"):
        make_client(script).put("jobs/j", {})


def test_blob_xml_error_and_sas_redaction(make_client):
    xml = ("<?xml version='1.0'?><Error><Code>AuthenticationFailed</Code>"
           "<Message>Signature did not match.\nRequestId:1</Message></Error>")
    script = Script(("PUT", None, httpx.Response(403, text=xml, headers={"x-ms-request-id": "blob-req"})))
    url = "https://acct.blob.core.windows.net/c/a.txt?sv=2025-01-05&sr=c&sig=SECRETSIG%3D"
    with pytest.raises(AuthenticationError) as caught:
        make_client(script).put_blob(url, b"x", {"x-ms-blob-type": "BlockBlob"})
    assert caught.value.message == "(AuthenticationFailed) Signature did not match. [HTTP 403, request id blob-req]"


def test_non_json_success_body_is_a_service_error(make_client):
    script = Script(("GET", None, httpx.Response(200, text="<html>proxy</html>")))
    with pytest.raises(ServiceError, match="not JSON"):
        make_client(script).get("jobs/j")


def test_debug_log_never_shows_signatures(make_client, caplog):
    script = Script(("PUT", None, httpx.Response(201)), ("HEAD", None, httpx.Response(404)))
    client = make_client(script)
    url = "https://acct.blob.core.windows.net/c/a.txt?sv=2025-01-05&sig=SECRETSIG"
    with caplog.at_level(logging.DEBUG, logger="ml.client"):
        client.put_blob(url, b"data", {"x-ms-blob-type": "BlockBlob"})
        assert client.head_blob(url) is None
    assert "sig=REDACTED" in caplog.text and "SECRETSIG" not in caplog.text
    assert "api-version" not in str(script.requests[0].url)  # the SAS URL is sent as given
