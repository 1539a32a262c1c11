"""LocalTransport: hands each request, in-process, to the embedded local workspace."""

from __future__ import annotations

from typing import Protocol

import httpx


class WorkspaceService(Protocol):
    def handle(self, request: httpx.Request) -> httpx.Response: ...


class LocalTransport(httpx.BaseTransport):
    """Every request, management or blob, goes to `service.handle`; its body is already read."""

    def __init__(self, service: WorkspaceService):
        self.service = service

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self.service.handle(request)

    def close(self) -> None:
        close = getattr(self.service, "close", None)
        if close is not None:
            close()
