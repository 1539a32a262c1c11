"""LocalTransport: hands each request, in-process, to the embedded local workspace."""

from __future__ import annotations

from typing import Protocol

import httpx


class WorkspaceService(Protocol):
    def handle(self, request: httpx.Request) -> httpx.Response: ...


class LocalTransport(httpx.BaseTransport):
    """Every request, management or blob, goes to `service.handle` (the workspace's app, driven in-process).

    The body is not read first: a blob upload streams from the caller to its file."""

    def __init__(self, service: WorkspaceService):
        from cli.client.wire_log import wire_log_path

        self.service = service
        self.wire_log = wire_log_path()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.wire_log:  # the log records JSON bodies
            request.read()
        response = self.service.handle(request)
        if self.wire_log:
            from cli.client.wire_log import record

            response.read()
            record(self.wire_log, request, response, type(self.service).__name__)
        return response

    def token(self, scope: str) -> str:
        """The bearer token the local blob plane accepts, for identity-based datastores."""
        return self.service.access_token(scope)

    def close(self) -> None:
        close = getattr(self.service, "close", None)
        if close is not None:
            close()
