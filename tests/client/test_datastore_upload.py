"""Datastore uploads against a fake Azure: the default datastore's SAS, account key or identity-based
access, the Shared Key signature (a hand-made vector and azure-storage-blob's own policy), and secrets
kept out of logs and errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import subprocess
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from cli.client.blob_auth import STORAGE_SCOPE, string_to_sign
from cli.client.datastore_upload import upload_to_datastore
from cli.client.resources import WorkspaceId
from cli.client.snapshot import object_hash
from cli.client.transports.azure import MANAGEMENT_SCOPE, AzureTransport
from cli.client.workspace_client import WorkspaceClient
from cli.errors import MLError, UsageError

ORACLE = Path("/opt/oracle/bin/python")
SDK_SCRIPT = Path(__file__).with_name("sdk_shared_key.py")
WS = WorkspaceId("00000000-1111-2222-3333-444444444444", "test-rg", "my-ws")
ACCOUNT, CONTAINER = "acct", "azureml-blobstore-x"
BLOB_HOST = f"{ACCOUNT}.blob.core.windows.net"
KEY = base64.b64encode(b"an-account-key-of-sixty-four-bytes-for-the-hmac-sha256-signing!!").decode()
SIG = "SECRETSIGNATURE"
SAS = f"?sv=2025-01-05&sr=c&sp=racwl&se=2030-01-01T00%3A00%3A00Z&sig={SIG}"


class FakeAzure:
    """Management answers for one default datastore, and an in-memory container behind its account."""

    def __init__(self, credentials_type: str = "AccountKey", secrets: dict | None = None,
                 secrets_status: int = 200, fail_blob: str | None = None):
        self.credentials_type, self.secrets, self.secrets_status = credentials_type, secrets, secrets_status
        self.fail_blob = fail_blob  # a blob whose PUT answers 403
        self.blobs: dict[str, bytes] = {}
        self.metadata: dict[str, dict] = {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if request.url.host == "management.azure.com":
            return self._management(request)
        assert request.url.host == BLOB_HOST, request.url
        return self._blob(request)

    def _management(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET" and path.endswith("/datastores"):
            props = {"datastoreType": "AzureBlob", "accountName": ACCOUNT, "containerName": CONTAINER,
                     "endpoint": "core.windows.net", "protocol": "https", "isDefault": True,
                     "credentials": {"credentialsType": self.credentials_type}}
            return httpx.Response(200, json={"value": [{"id": f"{WS.arm_id}/datastores/workspaceblobstore",
                                                        "name": "workspaceblobstore", "properties": props}]})
        if request.method == "POST" and path.endswith("/datastores/workspaceblobstore/listSecrets"):
            if self.secrets_status != 200:
                return httpx.Response(self.secrets_status, json={"error": {"code": "AuthorizationFailed",
                                                                           "message": "no listSecrets right"}})
            return httpx.Response(200, json=self.secrets)
        raise AssertionError(f"unexpected {request.method} {request.url}")

    def _blob(self, request: httpx.Request) -> httpx.Response:
        blob = request.url.path.split(f"/{CONTAINER}/", 1)[1]
        comp = request.url.params.get("comp")
        if request.method == "HEAD":
            if blob not in self.blobs:
                return httpx.Response(404, headers={"x-ms-error-code": "BlobNotFound"})
            return httpx.Response(200, headers={f"x-ms-meta-{k}": v for k, v in self.metadata.get(blob, {}).items()})
        assert request.method == "PUT", request.method
        if blob == self.fail_blob:
            body = ("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code>"
                    f"<Message>Server failed to authenticate the request. {request.url}</Message></Error>")
            return httpx.Response(403, content=body.encode(), headers={"x-ms-error-code": "AuthenticationFailed",
                                                                        "Content-Type": "application/xml"})
        if comp == "metadata":
            self.metadata[blob] = {k[len("x-ms-meta-"):]: v for k, v in request.headers.items()
                                   if k.startswith("x-ms-meta-")}
            return httpx.Response(200)
        assert comp is None and request.headers["x-ms-blob-type"] == "BlockBlob"
        self.blobs[blob] = request.content
        return httpx.Response(201)

    def blob_calls(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == BLOB_HOST]

    def management_calls(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == "management.azure.com"]


class ScopedCredential:
    """A TokenCredential whose token names the scope it was asked for."""

    def __init__(self):
        self.scopes: list[str] = []

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes[0])
        return AccessToken("storage-token" if scopes[0] == STORAGE_SCOPE else "management-token",
                           int(time.time() + 3600))


class _Answered(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.fake(request)


class FakeAzureTransport(AzureTransport, _Answered):
    """The real AzureTransport (its token handling), answered by a FakeAzure instead of the network."""


@pytest.fixture
def azure():
    """azure(fake) -> (WorkspaceClient over the real AzureTransport answered by `fake`, credential)."""
    clients = []

    def make(fake: FakeAzure):
        credential = ScopedCredential()
        transport = FakeAzureTransport(credential, hosts=("management.azure.com",))
        transport.fake = fake
        client = WorkspaceClient("https://management.azure.com", WS, transport, credential, sleep=lambda _: None)
        clients.append(client)
        return client, credential

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def folder(tmp_path) -> Path:
    root = tmp_path / "images"
    for rel, data in {"a.bin": b"a" * 100, "sub/b w.txt": b"bee", "empty": b""}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def _management_is_bearer_only(fake: FakeAzure) -> None:
    assert all(r.headers["authorization"] == "Bearer management-token" for r in fake.management_calls())


def test_sas_datastore_appends_the_sas_and_sends_no_token(azure, folder, caplog, capsys):
    fake = FakeAzure(secrets={"secretsType": "Sas", "sasToken": SAS})
    client, _ = azure(fake)
    with caplog.at_level(logging.DEBUG):
        uploaded = upload_to_datastore(client, folder, name="imgs", version="3")

    digest = object_hash(folder)
    assert uploaded.uri == f"azureml://datastores/workspaceblobstore/paths/LocalUpload/{digest}/images"
    assert uploaded.url == f"https://{BLOB_HOST}/{CONTAINER}/LocalUpload/{digest}/images"
    assert sorted(fake.blobs) == [f"LocalUpload/{digest}/images/{n}" for n in ("a.bin", "empty", "sub/b w.txt")]
    assert fake.metadata == {f"LocalUpload/{digest}/images/a.bin": {
        "upload_status": "completed", "name": "imgs", "version": "3"}}
    listing, secrets = fake.management_calls()
    assert listing.url.params["isDefault"] == "true"
    assert json.loads(secrets.content) == {"expirableSecret": True, "expireAfterHours": 1}
    _management_is_bearer_only(fake)
    for request in fake.blob_calls():
        assert request.url.params["sig"] == SIG and request.url.params["sr"] == "c"
        assert "authorization" not in request.headers
    captured = capsys.readouterr()
    assert caplog.records and SIG not in caplog.text + captured.out + captured.err

    again = FakeAzure(secrets={"secretsType": "Sas", "sasToken": SAS})
    again.blobs, again.metadata = fake.blobs, fake.metadata
    client2, _ = azure(again)
    assert upload_to_datastore(client2, folder, name="imgs", version="4") == uploaded
    assert [r.method for r in again.blob_calls()] == ["HEAD"]  # completed before: nothing sent


def test_account_key_datastore_signs_each_blob_call_with_shared_key(azure, folder, caplog):
    fake = FakeAzure(secrets={"secretsType": "AccountKey", "key": KEY})
    client, credential = azure(fake)
    with caplog.at_level(logging.DEBUG):
        upload_to_datastore(client, folder, name="imgs", version="1")

    blob_calls = fake.blob_calls()
    assert [r.method for r in blob_calls].count("PUT") == 4  # three files and the completion metadata
    for request in blob_calls:
        header = request.headers["authorization"]
        match = re.fullmatch(rf"SharedKey {ACCOUNT}:([A-Za-z0-9+/]+=*)", header)
        assert match and len(base64.b64decode(match.group(1))) == 32, header
        expected = hmac.new(base64.b64decode(KEY), string_to_sign(ACCOUNT, request).encode(), hashlib.sha256)
        assert match.group(1) == base64.b64encode(expected.digest()).decode()
        assert abs(time.time() - parsedate_to_datetime(request.headers["x-ms-date"]).timestamp()) < 300
        assert request.headers["x-ms-version"] and "sig" not in request.url.params
    assert credential.scopes == [MANAGEMENT_SCOPE]  # no storage token was asked for
    _management_is_bearer_only(fake)
    assert KEY not in caplog.text
    if ORACLE.exists():
        assert _sdk_signatures(blob_calls) == [r.headers["authorization"] for r in blob_calls]


def test_identity_based_datastore_uses_a_storage_token_on_blob_calls_only(azure, folder):
    fake = FakeAzure(credentials_type="None")
    client, credential = azure(fake)
    upload_to_datastore(client, folder, name="imgs", version="1")

    assert not [r for r in fake.management_calls() if r.url.path.endswith("/listSecrets")]
    assert all(r.headers["authorization"] == "Bearer storage-token" and r.headers["x-ms-version"]
               for r in fake.blob_calls())
    _management_is_bearer_only(fake)
    assert set(credential.scopes) == {MANAGEMENT_SCOPE, STORAGE_SCOPE}
    assert credential.scopes.count(STORAGE_SCOPE) == 1  # cached across the blob calls


def test_without_the_right_to_list_secrets_the_azure_credential_is_used(azure, folder):
    fake = FakeAzure(secrets_status=403)
    client, _ = azure(fake)
    upload_to_datastore(client, folder, name="imgs", version="1")
    assert all(r.headers["authorization"] == "Bearer storage-token" for r in fake.blob_calls())


def test_unusable_secrets_are_a_usage_error(azure, folder):
    client, _ = azure(FakeAzure(secrets={"secretsType": "ServicePrincipal"}))
    with pytest.raises(UsageError, match="ServicePrincipal secrets"):
        upload_to_datastore(client, folder, name="imgs", version="1")


@pytest.mark.parametrize("secrets, secret", [({"secretsType": "Sas", "sasToken": SAS}, SIG),
                                             ({"secretsType": "AccountKey", "key": KEY}, KEY)])
def test_a_refused_blob_call_names_no_secret(azure, folder, secrets, secret, caplog):
    digest = object_hash(folder)
    client, _ = azure(FakeAzure(secrets=secrets, fail_blob=f"LocalUpload/{digest}/images/a.bin"))
    with caplog.at_level(logging.DEBUG), pytest.raises(MLError) as raised:
        upload_to_datastore(client, folder, name="imgs", version="1")
    text = str(raised.value) + str(getattr(raised.value, "hint", "") or "")
    assert "AuthenticationFailed" in text or "authenticate" in text
    assert secret not in text and secret not in caplog.text


def test_string_to_sign_follows_the_documented_shared_key_layout():
    request = httpx.Request("PUT", f"https://{BLOB_HOST}/c/LocalUpload/h/a%20b.txt?comp=block&blockid=YmxvY2s%3D",
                            content=b"hello", headers={
                                "x-ms-version": "2025-01-05", "x-ms-date": "Mon, 01 Jan 2024 00:00:00 GMT",
                                "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==", "Content-Type": "application/octet-stream",
                                "x-ms-meta-upload_status": "completed", "x-ms-client-request-id": "r1"})
    assert string_to_sign(ACCOUNT, request) == (
        "PUT\n\n\n5\nXUFAKrxLKna5cZ2REBfFkg==\napplication/octet-stream\n\n\n\n\n\n\n"
        "x-ms-client-request-id:r1\nx-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\nx-ms-meta-upload_status:completed\n"
        "x-ms-version:2025-01-05\n/acct/c/LocalUpload/h/a%20b.txt\nblockid:YmxvY2s=\ncomp:block")
    head = httpx.Request("HEAD", f"https://{BLOB_HOST}/c/x", headers={"x-ms-date": "d", "x-ms-version": "v"})
    assert string_to_sign(ACCOUNT, head) == "HEAD\n" + "\n" * 11 + "x-ms-date:d\nx-ms-version:v\n/acct/c/x"
    empty = httpx.Request("PUT", f"https://{BLOB_HOST}/c/x?comp=metadata", content=b"", headers={"x-ms-date": "d"})
    assert string_to_sign(ACCOUNT, empty).split("\n")[3] == ""  # a zero Content-Length is signed as empty


@pytest.mark.skipif(not ORACLE.exists(), reason="the official SDK venv /opt/oracle is absent")
def test_signature_equals_azure_storage_blob_for_the_documented_vector():
    request = httpx.Request("PUT", f"https://{BLOB_HOST}/c/a%20b.txt?comp=block&blockid=YmxvY2s%3D", content=b"hello",
                            headers={"x-ms-date": "Mon, 01 Jan 2024 00:00:00 GMT", "x-ms-version": "2025-01-05",
                                     "x-ms-meta-name": "n", "x-ms-meta-upload_status": "completed"})
    expected = hmac.new(base64.b64decode(KEY), string_to_sign(ACCOUNT, request).encode(), hashlib.sha256)
    assert _sdk_signatures([request]) == [f"SharedKey {ACCOUNT}:{base64.b64encode(expected.digest()).decode()}"]


def _sdk_signatures(requests: list[httpx.Request]) -> list[str]:
    """The Authorization azure-storage-blob's SharedKeyCredentialPolicy gives each request."""
    given = {"account": ACCOUNT, "key": KEY, "requests": [
        {"method": r.method, "url": str(r.url),
         "headers": {k: v for k, v in r.headers.items() if k.lower() != "authorization"}} for r in requests]}
    out = subprocess.run([str(ORACLE), str(SDK_SCRIPT)], input=json.dumps(given), capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return out.splitlines()
