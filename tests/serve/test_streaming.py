"""Blob downloads stream through `ml local serve`: a file larger than the server may hold goes out in chunks,
and the server's peak memory grows by far less than the file (no timings asserted). Uploads stream too
(the upload test guards it)."""

from __future__ import annotations

import hashlib
import os
import ssl
from pathlib import Path

import httpx
import pytest

from served import start

SIZE = 192 * 1024 * 1024  # well above what a buffered answer (file read whole, then joined) could hide


def _peak_rss(pid: int) -> int:
    """The process's peak resident memory in bytes (Linux VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.fixture
def served(tmp_path):
    if not Path("/proc/self/status").exists():
        pytest.skip("reads peak memory from /proc")
    server = start("bigws", tmp_path, env={"ML_HOME": str(tmp_path / "home")})
    yield server, tmp_path / "home"
    server.stop()
    for big in (tmp_path / "home" / "workspaces" / "bigws" / "blobs" / "workspaceblobstore").glob("*.bin"):
        big.unlink()  # pytest keeps the last runs' temp folders: not these files


def test_a_large_blob_download_streams_through_the_proxy(served):
    server, home = served
    blob = home / "workspaces" / "bigws" / "blobs" / "workspaceblobstore" / "big.bin"
    blob.parent.mkdir(parents=True, exist_ok=True)
    piece, expected = os.urandom(1 << 20), hashlib.sha256()
    with open(blob, "wb") as out:
        for _ in range(SIZE // len(piece)):
            out.write(piece)
            expected.update(piece)
    env = server.env
    verify = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
    headers = {"Authorization": f"Bearer {env['MLFLOW_TRACKING_TOKEN']}", "x-ms-version": "2023-11-03"}
    url = "https://bigws.blob.ml.invalid/workspaceblobstore/big.bin"
    with httpx.Client(proxy=env["HTTPS_PROXY"], verify=verify, trust_env=False, timeout=120) as client:
        assert client.head(url, headers=headers).status_code == 200  # warm: TLS, token, workspace opened
        before = _peak_rss(server.process.pid)
        got, chunks = hashlib.sha256(), 0
        with client.stream("GET", url, headers=headers) as answer:
            assert answer.status_code == 200 and answer.headers["content-length"] == str(SIZE)
            assert "transfer-encoding" not in answer.headers  # a known length, sent as it is read
            for chunk in answer.iter_raw():
                got.update(chunk)
                chunks += 1
        grown = _peak_rss(server.process.pid) - before
        ranged = client.get(url, headers={**headers, "x-ms-range": f"bytes={SIZE - 10}-{SIZE + 100}"})
    assert got.hexdigest() == expected.hexdigest() and chunks > 1
    assert grown < SIZE // 4, f"the server's peak memory grew by {grown >> 20} MB for a {SIZE >> 20} MB download"
    assert ranged.status_code == 206 and ranged.content == piece[-10:]
    assert ranged.headers["content-range"] == f"bytes {SIZE - 10}-{SIZE - 1}/{SIZE}"


def test_a_large_blob_upload_streams_through_the_proxy(served):
    server, home = served
    piece = os.urandom(1 << 20)
    env = server.env
    verify = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
    headers = {"Authorization": f"Bearer {env['MLFLOW_TRACKING_TOKEN']}", "x-ms-version": "2023-11-03"}
    url = "https://bigws.blob.ml.invalid/workspaceblobstore/up.bin"
    with httpx.Client(proxy=env["HTTPS_PROXY"], verify=verify, trust_env=False, timeout=120) as client:
        assert client.head(url, headers=headers).status_code == 404  # warm: TLS, token, workspace opened
        before = _peak_rss(server.process.pid)
        answer = client.put(url, headers={**headers, "x-ms-blob-type": "BlockBlob", "Content-Length": str(SIZE)},
                            content=(piece for _ in range(SIZE // len(piece))))
        grown = _peak_rss(server.process.pid) - before
    assert answer.status_code == 201, answer.text
    stored = home / "workspaces" / "bigws" / "blobs" / "workspaceblobstore" / "up.bin"
    assert stored.stat().st_size == SIZE
    assert grown < SIZE // 4, f"the server's peak memory grew by {grown >> 20} MB for a {SIZE >> 20} MB upload"
