"""Uploads (code, and datastore uploads of data) against the real local workspace service, every exchange
checked against the REST contract."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from cli.application import Application
from cli.client import progress
from cli.client.context import LOCAL_BASE_URL, LOCAL_RESOURCE_GROUP, LOCAL_SUBSCRIPTION
from cli.client.resources import WorkspaceId
from cli.client.snapshot import collect, content_hash
from cli.client.transports.local import LocalTransport
from cli.client.blob_upload import BLOCK_SIZE
from cli.client.datastore_upload import upload_to_datastore
from cli.client.snapshot import object_hash
from cli.client.uploads import upload_code
from cli.client.workspace_client import WorkspaceClient
from cli.local.service import LocalWorkspaceService

from tests.contract_check import check_if_present

MiB = 1 << 20


class Killed(Exception):
    """Stands for the process dying mid-upload."""


class WireTransport(httpx.BaseTransport):
    """LocalTransport that records every exchange, checks it against the contract, and can die
    after a number of Put Block requests."""

    def __init__(self, service: LocalWorkspaceService, kill_after_blocks: int | None = None):
        self.inner = LocalTransport(service)
        self.kill_after_blocks = kill_after_blocks
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.kill_after_blocks is not None and _comp(request) == "block":
            with self._lock:
                if self.kill_after_blocks <= 0:
                    raise Killed()
                self.kill_after_blocks -= 1
        response = self.inner.handle_request(request)
        check_if_present(request, response)
        with self._lock:
            self.exchanges.append((request, response))
        return response

    def calls(self, method: str, comp: str | None = "any") -> list[httpx.Request]:
        """Blob-plane requests (path or virtual-host style) of `method`, with query comp=`comp`."""
        return [r for r, _ in self.exchanges if r.method == method and r.url.host.endswith("blob.ml.invalid")
                and (comp == "any" or _comp(r) == comp)]


def _comp(request: httpx.Request) -> str | None:
    return parse_qs(request.url.query.decode()).get("comp", [None])[0]


@pytest.fixture
def service(tmp_path):
    svc = LocalWorkspaceService(tmp_path / "home", "local")
    yield svc
    svc.store.close()


@pytest.fixture
def connect(service):
    """connect(**transport_options) -> (WorkspaceClient, WireTransport) on the local service."""
    clients = []

    def make(**options):
        transport = WireTransport(service, **options)
        workspace = WorkspaceId(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, "local")
        client = WorkspaceClient(LOCAL_BASE_URL, workspace, transport, sleep=lambda _: None)
        clients.append(client)
        return client, transport

    yield make
    for client in clients:
        client._http.close()  # the service belongs to the fixture, not to the transport


def make_folder(root: Path, files: dict) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def _blob_path(uri: str) -> str:
    url = httpx.URL(uri)  # https://blob.ml.invalid/<account>/<container>/<path> or https://<account>.blob.../<container>/<path>
    return url.path.split("/", 3 if url.host == "blob.ml.invalid" else 2)[-1]


def blob_bytes(service, uri: str) -> bytes:
    """Content of a committed blob, read from the service's store by its blob URI."""
    return service.blobs.read("workspaceblobstore", _blob_path(uri))


def blob_metadata(service, uri: str) -> dict | None:
    props = service.blobs.properties("workspaceblobstore", _blob_path(uri))
    return None if props is None else props["metadata"]


def upload_data(client, path, name: str, version: str = "1") -> str:
    """A datastore upload; returns the uploaded file's or folder's blob URL."""
    return upload_to_datastore(client, path, name=name, version=version).url


def test_code_upload_then_unchanged_reupload_sends_no_blob(tmp_path, connect, service):
    folder = make_folder(tmp_path / "src", {"main.py": b"print(1)\n", "pkg/util.py": b"x = 1\n", "empty": b""})
    client, wire = connect()
    code_id = upload_code(client, folder)

    digest = content_hash(collect(folder))
    assert code_id.endswith("/versions/1") and "/codes/" in code_id
    version = client.get(code_id)["properties"]
    assert version["isAnonymous"] is True
    assert version["properties"] == {"hash_sha256": digest, "hash_version": "202208"}
    assert version["codeUri"].endswith("/src")
    assert blob_bytes(service, version["codeUri"] + "/pkg/util.py") == b"x = 1\n"
    assert blob_metadata(service, version["codeUri"] + "/empty") == {
        "upload_status": "completed", "name": code_id.split("/codes/")[1].split("/")[0], "version": "1"}
    puts = wire.calls("PUT", comp=None)
    assert len(puts) == 3 and all(r.headers["x-ms-blob-type"] == "BlockBlob" for r in puts)
    assert all("content-md5" in r.headers for r in puts if r.content)

    again, wire2 = connect()
    assert upload_code(again, folder) == code_id
    assert wire2.calls("PUT") == [] and wire2.calls("HEAD") == []
    assert [r.method for r, _ in wire2.exchanges] == ["GET"]  # only the lookup by hash


def test_named_code_goes_to_its_name(tmp_path, connect):
    folder = make_folder(tmp_path / "proj", {"a.py": b"a"})
    client, _ = connect()
    code_id = upload_code(client, folder, name="my-code")
    assert code_id.endswith("/codes/my-code/versions/1")
    assert client.get(code_id)["properties"]["isAnonymous"] is False


def test_data_upload_goes_to_the_default_datastore_and_reupload_only_heads(tmp_path, connect, service):
    folder = make_folder(tmp_path / "images", {f"img{i}.bin": bytes([i]) * 1000 for i in range(20)})
    client, wire = connect()
    uploaded = upload_to_datastore(client, folder, name="imgs", version="1")
    digest = object_hash(folder)
    assert uploaded.uri == f"azureml://datastores/workspaceblobstore/paths/LocalUpload/{digest}/images"
    assert uploaded.url == f"https://local.blob.ml.invalid/workspaceblobstore/LocalUpload/{digest}/images"
    assert blob_bytes(service, uploaded.url + "/img7.bin") == bytes([7]) * 1000
    assert len(wire.calls("PUT", comp=None)) == 20
    assert len(wire.calls("PUT", comp="metadata")) == 1
    management = [(r.method, r.url.path.rsplit("/workspaces/local/", 1)[1], r.url.params.get("isDefault"))
                  for r, _ in wire.exchanges if r.url.host == "management.ml.invalid"]
    assert management == [("GET", "datastores", "true"), ("POST", "datastores/workspaceblobstore/listSecrets", None)]
    sas = parse_qs(wire.calls("HEAD")[0].url.query.decode())
    assert sas["sr"] == ["c"] and "sig" in sas  # the container-wide SAS listSecrets gave
    assert all("authorization" not in r.headers for r in wire.calls("PUT"))

    again, wire2 = connect()
    assert upload_data(again, folder, "imgs", "2") == uploaded.url
    assert wire2.calls("PUT") == []
    assert len(wire2.calls("HEAD")) == 1


def test_single_file_model(tmp_path, connect, service):
    model = make_folder(tmp_path, {"model.pkl": b"weights"}) / "model.pkl"
    client, _ = connect()
    uploaded = upload_to_datastore(client, model, name="m", version="1")
    assert uploaded.path == f"LocalUpload/{object_hash(model)}/model.pkl"
    assert blob_bytes(service, uploaded.url) == b"weights"
    assert blob_metadata(service, uploaded.url) == {"upload_status": "completed", "name": "m", "version": "1"}


def _sparse_file(path: Path, size: int) -> Path:
    """A large file written fast: sparse, with a few marker bytes so block order matters."""
    with open(path, "wb") as f:
        f.truncate(size)
        for offset in range(0, size, 16 * MiB):
            f.seek(offset)
            f.write(offset.to_bytes(8, "big"))
    return path


def test_large_file_goes_as_blocks(tmp_path, connect, service):
    folder = tmp_path / "big"
    folder.mkdir()
    _sparse_file(folder / "huge.bin", 70 * MiB)
    (folder / "small.txt").write_text("small")
    client, wire = connect()
    uri = upload_data(client, folder, "big")

    blocks = wire.calls("PUT", comp="block")
    assert len(blocks) == -(-70 * MiB // BLOCK_SIZE) == 18
    assert {len(r.content) for r in blocks} == {BLOCK_SIZE, 70 * MiB - 17 * BLOCK_SIZE}
    assert len(wire.calls("PUT", comp="blocklist")) == 1
    assert [r.url.path.rsplit("/", 1)[1] for r in wire.calls("PUT", comp=None)] == ["small.txt"]
    expected = hashlib.sha256((folder / "huge.bin").read_bytes()).hexdigest()
    assert hashlib.sha256(blob_bytes(service, uri + "/huge.bin")).hexdigest() == expected
    order = [(r.method, _comp(r)) for r, _ in wire.exchanges if r.url.host.endswith("blob.ml.invalid")]
    assert order[0] == ("HEAD", None) and order[-1] == ("PUT", "metadata")


def test_killed_upload_never_looks_complete_and_a_retry_finishes(tmp_path, connect, service):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "a-first.txt").write_text("indicator")  # the indicator blob sorts first
    _sparse_file(folder / "weights.bin", 70 * MiB)
    client, wire = connect(kill_after_blocks=5)
    with pytest.raises(Killed):
        upload_data(client, folder, "ckpt")
    assert wire.calls("PUT", comp="metadata") == [] and wire.calls("PUT", comp="blocklist") == []
    indicator_url = str(wire.calls("HEAD")[0].url)
    assert (blob_metadata(service, indicator_url) or {}).get("upload_status") != "completed"

    retry, wire2 = connect()
    uri = upload_data(retry, folder, "ckpt")
    assert len(wire2.calls("PUT", comp="block")) == 18
    assert blob_metadata(service, uri + "/a-first.txt")["upload_status"] == "completed"
    assert blob_bytes(service, uri + "/weights.bin") == (folder / "weights.bin").read_bytes()


def test_sas_signature_is_never_printed(tmp_path, connect, caplog, capsys):
    folder = make_folder(tmp_path / "s", {"f.txt": b"f"})
    client, wire = connect()
    with caplog.at_level(logging.DEBUG):
        upload_data(client, folder, "s")
    signature = parse_qs(wire.calls("HEAD")[0].url.query.decode())["sig"][0]
    captured = capsys.readouterr()
    assert caplog.records  # the client did log its requests
    assert signature not in caplog.text + captured.out + captured.err


def test_progress_bar_only_on_a_terminal_for_big_uploads(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", Tty())
    assert Application().progress
    assert progress.wanted(50 * MiB, Application().progress) and not progress.wanted(1 * MiB, True)
    assert not Application(output="tsv").progress
    assert not progress.wanted(50 * MiB, Application(output="tsv").progress)
    assert not progress.wanted(50 * MiB, Application(only_show_errors=True).progress)
    monkeypatch.setattr("sys.stderr", io.StringIO())  # not a terminal
    assert not progress.wanted(50 * MiB, True)


def test_empty_folder_is_a_usage_error(tmp_path, connect):
    from cli.errors import UsageError

    (tmp_path / "empty").mkdir()
    client, wire = connect()
    with pytest.raises(UsageError, match="nothing to upload"):
        upload_code(client, tmp_path / "empty")
    assert wire.exchanges == []


def test_upload_with_the_bar_drawn(tmp_path, connect, service, monkeypatch):
    folder = make_folder(tmp_path / "bar", {f"f{i}.bin": bytes([i]) * (2 * MiB) for i in range(4)})
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    drawn = Terminal()
    monkeypatch.setattr("sys.stderr", drawn)
    client, wire = connect()
    uri = upload_data(client, folder, "bar")
    assert blob_bytes(service, uri + "/f3.bin") == bytes([3]) * (2 * MiB)
    signature = parse_qs(wire.calls("HEAD")[0].url.query.decode())["sig"][0]
    assert "Uploading bar" in drawn.getvalue() and signature not in drawn.getvalue()
