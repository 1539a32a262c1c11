"""Fixtures of the client tests: a client over a scripted mock transport, and a loopback HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from client_fakes import BASE, Script

from cli.client.resources import WorkspaceId
from cli.client.workspace_client import WorkspaceClient


@pytest.fixture
def sleeps() -> list:
    return []


@pytest.fixture
def make_client(sleeps):
    """make_client(script, workspace=...) -> a WorkspaceClient over httpx.MockTransport(script)."""
    clients = []

    def make(script: Script, workspace: WorkspaceId | None = None, base_url: str = BASE) -> WorkspaceClient:
        ws = workspace or WorkspaceId("00000000-1111-2222-3333-444444444444", "test-rg", "my-ws")
        client = WorkspaceClient(base_url, ws, httpx.MockTransport(script), sleep=sleeps.append)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


class _Recorder(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def loopback_server():
    """A real HTTP server on an ephemeral 127.0.0.1 port recording (method, path, headers, body)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
