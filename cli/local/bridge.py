"""Drive an ASGI app (cli.local.app) in-process: one httpx.Request in, one httpx.Response out, no socket.

This is how LocalTransport reaches the embedded workspace: the same app that `ml local serve` serves,
called synchronously. Each thread keeps one event loop (uploads send blocks from a thread pool). The
request body is handed to the app as the caller's own iterator, so a large blob upload streams to
its file instead of being copied whole first.
"""

from __future__ import annotations

import asyncio
import os
import threading

import httpx

from cli.local.app import INLINE_BODY, INLINE_URL

_local = threading.local()


class _ThreadLoop:
    """A thread's event loop, closed when the thread ends (its thread-local storage is dropped)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        if not self.loop.is_closed():
            self.loop.close()


def _loop() -> asyncio.AbstractEventLoop:
    # One loop per thread, reused: a new loop per request costs about five times the call itself.
    holder = getattr(_local, "holder", None)
    if holder is None or holder.loop.is_closed():
        holder = _local.holder = _ThreadLoop()
    return holder.loop


def _forget_loop_in_child() -> None:
    # A runner forks child runners from inside a request (ChildJobs.submit -> PUT job -> spawn), so the
    # forked child would inherit this thread's loop marked running; it makes its own when it calls an app
    # (a sweep step's runner submits its trials).
    _local.holder = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_loop_in_child)


def call_app(app, request: httpx.Request) -> httpx.Response:
    """Answer `request` with `app`; exceptions the app lets through propagate to the caller."""
    path, _, query = request.url.raw_path.partition(b"?")
    body = iter(request.stream)
    port = request.url.port or (443 if request.url.scheme == "https" else 80)
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": request.method, "scheme": request.url.scheme, "root_path": "",
             "path": request.url.path, "raw_path": path, "query_string": query,
             "headers": [(k.lower(), v) for k, v in request.headers.raw],
             "server": (request.url.host, port), "client": ("127.0.0.1", 0), "state": {},
             "extensions": {INLINE_BODY: body, INLINE_URL: request.url}}
    messages: list[dict] = []

    ended = False

    async def receive() -> dict:  # the app reads the body inline; this answers anything else asking
        nonlocal ended
        if not ended:
            ended = True
            return {"type": "http.request", "body": next(body, b""), "more_body": False}
        # An in-process caller never disconnects: a streamed response's disconnect listener waits here
        # (until the response is sent and it is cancelled) instead of spinning the loop forever.
        await asyncio.get_running_loop().create_future()

    async def send(message: dict) -> None:
        messages.append(message)

    _loop().run_until_complete(app(scope, receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"transfer-encoding"]
    return httpx.Response(start["status"], headers=headers, content=content, request=request)
