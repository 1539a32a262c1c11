"""The HTTP toolkit of the local services: served on 127.0.0.1 behind a secret, driven in-process, one path decode.

Probes of issue 8 point 2, against real servers on loopback and the real mlflow client.
"""

from __future__ import annotations

import os
import socket
import time

import httpx
import pytest

from cli.local.app import Policy, make_app
from cli.local.http import ApiError
from cli.local.serving import serve
from cli.local.tracking.server import start_tracking_server

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
from local_wire import url  # noqa: E402


@pytest.fixture
def workspace(isolated_home):
    return isolated_home / "workspaces" / "local"


@pytest.fixture
def job_server(workspace):
    """The tracking server a runner starts for job 'job_a', with job 'job_b' also in the workspace."""
    server, base = start_tracking_server(workspace, job_run="job_a")
    server.store.create_job_run("job_a", "exp")
    server.store.create_job_run("job_b", "exp")
    yield server, base
    server.shutdown()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---- who may call

def test_it_listens_on_loopback_only(job_server):
    server, base = job_server
    assert base.startswith("http://127.0.0.1:")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        assert conn.getpeername()[0] == "127.0.0.1"
    addresses = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
    for address in addresses:  # the machine's other addresses do not answer
        with pytest.raises(OSError):
            socket.create_connection((address, server.port), timeout=2).close()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"},
                                     {"Authorization": "bearer " + "A" * 43}])
def test_without_the_token_every_route_is_401(job_server, headers):
    server, base = job_server
    for method, path in (("GET", "/health"), ("GET", "/api/2.0/mlflow/runs/get?run_id=job_a"),
                         ("POST", "/api/2.0/mlflow/runs/search"), ("POST", "/api/2.0/mlflow/runs/delete"),
                         ("GET", "/api/2.0/mlflow-artifacts/artifacts/1/job_a/artifacts/x"),
                         ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/job_a/artifacts/x")):
        response = httpx.request(method, base + path, headers=headers, json={"run_id": "job_a"})
        assert response.status_code == 401, (method, path)
        assert response.json()["error_code"] == "UNAUTHENTICATED"
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert server.store.get_run("job_a")["info"]["lifecycle_stage"] == "active"


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain;charset=UTF-8",
                                          "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_a_cross_site_post_is_refused(job_server, content_type):
    server, base = job_server
    body = b'{"run_id": "job_a", "key": "injected", "value": 1, "timestamp": 1}'
    for headers in ({}, bearer(server.token)):  # a browser cannot send the token; even with it, refused
        response = httpx.post(f"{base}/api/2.0/mlflow/runs/log-metric", content=body,
                              headers={**headers, "Content-Type": content_type})
        assert response.status_code in (401, 415) and (headers == {} or response.status_code == 415)
    assert server.store.latest_metrics("job_a") == {}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.nip.io", "attacker"])
def test_a_foreign_host_header_is_refused(job_server, host):
    server, base = job_server
    response = httpx.get(f"{base}/api/2.0/mlflow/runs/get?run_id=job_a",
                         headers={**bearer(server.token), "Host": host})
    assert response.status_code == 400 and response.json()["error_code"] == "BAD_REQUEST"
    for good in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
        response = httpx.get(f"{base}/api/2.0/mlflow/runs/get?run_id=job_a",
                             headers={**bearer(server.token), "Host": good})
        assert response.status_code == 200


def test_a_jobs_token_reaches_its_own_runs_only(job_server):
    server, base = job_server
    with httpx.Client(base_url=base + "/api/2.0/mlflow", headers=bearer(server.token)) as http:
        assert http.get("/runs/get", params={"run_id": "job_a"}).status_code == 200
        child = http.post("/runs/create", json={"experiment_id": "1", "tags": [
            {"key": "mlflow.parentRunId", "value": "job_a"}]}).json()["run"]["info"]["run_id"]
        assert http.post("/runs/log-metric", json={"run_id": child, "key": "m", "value": 1,
                                                   "timestamp": 1}).status_code == 200
        for method, path, body in (("GET", "/runs/get", {"run_id": "job_b"}),
                                   ("POST", "/runs/log-metric", {"run_id": "job_b", "key": "m", "value": 1,
                                                                 "timestamp": 1}),
                                   ("POST", "/runs/delete", {"run_id": "job_b"}),
                                   ("POST", "/runs/create", {"experiment_id": "1", "tags": [
                                       {"key": "mlflow.parentRunId", "value": "job_b"}]})):
            response = http.request(method, path, params=body if method == "GET" else None,
                                    json=body if method == "POST" else None)
            assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED"), path
        found = http.post("/runs/search", json={"experiment_ids": ["1"]}).json()["runs"]
        assert sorted(r["info"]["run_id"] for r in found) == sorted(["job_a", child])
        artifact = "/api/2.0/mlflow-artifacts/artifacts/1/job_b/artifacts/stolen.txt"
    assert httpx.put(base + artifact, content=b"x", headers=bearer(server.token)).status_code == 403
    assert server.store.get_run("job_b")["info"]["lifecycle_stage"] == "active"
    assert server.store.latest_metrics("job_b") == {}


def test_a_pathological_like_filter_answers_within_a_second(job_server):
    server, base = job_server
    server.store.log_batch("job_a", tags=[{"key": "t", "value": "a" * 5000}])
    hostile = "tags.t LIKE '" + "%a" * 2000 + "%b'"
    started = time.perf_counter()
    response = httpx.post(f"{base}/api/2.0/mlflow/runs/search", headers=bearer(server.token),
                          json={"experiment_ids": ["1"], "filter": hostile}, timeout=30)
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 200 and response.json().get("runs", []) == []
    too_long = "tags.t LIKE '" + "%" * 20_000 + "'"
    response = httpx.post(f"{base}/api/2.0/mlflow/runs/search", headers=bearer(server.token),
                          json={"experiment_ids": ["1"], "filter": too_long}, timeout=30)
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_the_real_mlflow_client_logs_through_the_token(job_server, monkeypatch):
    mlflow_client = pytest.importorskip("mlflow.tracking", reason="mlflow-skinny is not installed")
    server, base = job_server
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", server.token)
    client = mlflow_client.MlflowClient(tracking_uri=base)
    client.log_metric("job_a", "acc", 0.5)
    assert server.store.latest_metrics("job_a") == {"acc": 0.5}
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "not-the-token")
    with pytest.raises(Exception, match="401|UNAUTHENTICATED|[Uu]nauthenticated"):
        mlflow_client.MlflowClient(tracking_uri=base).log_metric("job_a", "acc", 0.9)
    assert server.store.latest_metrics("job_a") == {"acc": 0.5}


# ---- the toolkit itself

def test_serve_runs_any_app_and_frees_its_port_on_close():
    def handle(request):
        return httpx.Response(200, json={"path": request.url.path, "body": request.content.decode()})

    served = serve(make_app(handle, policy=Policy("s3cret")))
    with httpx.Client(base_url=served.url, headers=bearer("s3cret")) as http:
        chunks = (b"x" * 50_000 for _ in range(4))  # no length: chunked transfer encoding
        assert http.post("/a/b", content=chunks, headers={"Content-Type": "application/octet-stream"}).json() == {
            "path": "/a/b", "body": "x" * 200_000}
    served.close()
    served.close()  # twice is fine
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", served.port), timeout=2).close()


def test_an_unexpected_fault_answers_in_the_apis_shape():
    def handle(request):
        raise RuntimeError("boom")

    with serve(make_app(handle, policy=Policy("t"))) as served:
        response = httpx.get(served.url + "/x", headers=bearer("t"))
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "InternalServerError", "message": "RuntimeError: boom"}}


@pytest.mark.parametrize("name, stored", [("a%252Fb", "a%2Fb"), ("a%2Fb", "a/b"), ("caf%C3%A9", "café")])
def test_a_path_is_decoded_exactly_once(service, name, stored):
    """'%252F' reaches the handler as '%2F' (not '/'), and '%2F' stays inside its segment."""
    seen = {}
    service.router.routes.insert(0, type(service.router.routes[0])(
        "management.ml.invalid", "GET", ("probe", "{name}", "tail"),
        lambda call: seen.update(call.params) or httpx.Response(204)))
    with httpx.Client(transport=httpx.MockTransport(service.handle)) as client:  # outside the contract: no wire log
        response = client.get(f"https://management.ml.invalid/probe/{name}/tail?api-version=x")
    assert response.status_code == 204 and seen == {"name": stored}


def test_an_undecodable_path_is_a_400(raw_client):
    response = raw_client.get(url("models", "%FF%FE"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidUri"


def test_a_streamed_upload_reaches_the_blob_plane_in_process(service, client):
    start = client.post(url("codes/src/versions/1/startPendingUpload"),
                        json={"pendingUploadType": "TemporaryBlobReference"}).json()
    ref = start["blobReferenceForConsumption"]
    pieces = [bytes([n]) * 300_000 for n in range(4)]
    taken = []

    def body():
        for piece in pieces:
            taken.append(len(piece))
            yield piece

    put = client.put(ref["credential"]["sasUri"].replace("?", "/big.bin?", 1), content=body(),
                     headers={"x-ms-blob-type": "BlockBlob"})
    assert put.status_code == 201 and taken == [300_000] * 4
    assert client.get(ref["credential"]["sasUri"].replace("?", "/big.bin?", 1)).content == b"".join(pieces)


def test_the_blob_plane_refuses_bearer_strings_that_are_not_its_token(service, raw_client):
    blob = f"https://blob.ml.invalid/local/{_container(service)}/some/file.txt"
    for auth in ("Bearer anything", "Bearer ", "Bearer " + "A" * 40, "SharedKey local:abc"):
        response = raw_client.get(blob, headers={"Authorization": auth, "x-ms-version": "2025-01-05"})
        assert response.status_code in (401, 403), auth
        assert response.headers["x-ms-error-code"] in ("InvalidAuthenticationInfo", "NoAuthenticationInformation")
    response = raw_client.get(blob, headers={"Authorization": f"Bearer {service.access_token('s')}"})
    assert (response.status_code, response.headers["x-ms-error-code"]) == (404, "BlobNotFound")


def _container(service) -> str:
    record = service.store.get(service.arm_id("datastores", "workspaceblobstore"))
    return record.body["properties"]["containerName"]


def test_an_api_error_is_the_one_wire_error_in_three_shapes():
    from cli.local.blobs import BlobError
    from cli.local.tracking.errors import TrackingError

    arm, blob, mlflow = (ApiError(404, "ResourceNotFound", "gone"), BlobError(404, "BlobNotFound", "gone"),
                         TrackingError("RESOURCE_DOES_NOT_EXIST", "gone"))
    assert all(isinstance(e, ApiError) for e in (blob, mlflow))
    assert arm.response().json() == {"error": {"code": "ResourceNotFound", "message": "gone"}}
    assert mlflow.response().json() == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "gone"}
    assert blob.response().content.startswith(b'<?xml') and blob.response().headers["x-ms-error-code"] == "BlobNotFound"
    assert blob.response("HEAD").content == b""
