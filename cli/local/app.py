"""Every local service as one kind of ASGI app (starlette), in-process or served on 127.0.0.1.

A service is a plain function `handle(Request) -> httpx.Response` (its router and handlers are sync).
`make_app` wraps it: it checks who is calling (served apps: Host, bearer secret, cross-site content
types), builds the `Request` handlers read (the body streams), answers every `ApiError` in its own
API's shape and any other fault as a 500 of the same shape (cli.local.http.guarded), and sends the
response, streamed when it is (file downloads). Served apps run the handler in starlette's thread pool
(the loop stays free). In-process, the workspace answers through the same `guarded` handler without
ASGI (LocalWorkspaceService.handle): the body comes straight from the caller and a file streams back.

starlette+uvicorn over falcon, by benchmarks/http_toolkit.py: about half falcon's import time on the
in-process path every local command pays, and more requests/s both in-process and served.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Callable, Iterator

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from cli.local.http import ApiError, Request, guarded

INLINE_BODY = "ml.inline_body"  # scope extension: the in-process caller's body, a sync iterator
INLINE_URL = "ml.inline_url"  # and its URL, already parsed (parsing again costs more than the dispatch)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# What a browser may POST cross-site without a CORS preflight; no local API takes them.
CROSS_SITE_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


class _AnyPath(PathConvertor):
    """Every path, control characters included ('path' stops at a newline): the handlers judge names."""

    regex = "[\\s\\S]*"


register_url_convertor("ml_any_path", _AnyPath())


@dataclass(frozen=True)
class Policy:
    """Who may call a served app: a bearer secret, and the Host names it answers to."""

    token: str
    hosts: tuple[str, ...] = LOOPBACK_NAMES
    verify: Callable[[str], bool] | None = None  # else the one `token`: whether a bearer token may call

    def check(self, request: Request, error: Callable[..., ApiError]) -> None:
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.lower() not in self.hosts:  # DNS rebinding: a foreign name pointed at 127.0.0.1
            raise error(400, "InvalidHostHeader", f"This server answers only to {', '.join(self.hosts)}, "
                        f"not Host '{host}'.")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not self.authorized(token.strip()):
            raise error(401, "Unauthenticated", "A valid 'Authorization: Bearer <token>' header is required.",
                        headers={"WWW-Authenticate": 'Bearer realm="ml-local"'})
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if request.method == "POST" and kind in CROSS_SITE_TYPES:
            raise error(415, "UnsupportedMediaType", f"Content-Type '{kind}' is not accepted; send application/json.")

    def authorized(self, token: str) -> bool:
        if self.verify is not None:
            return self.verify(token)
        return bool(self.token) and hmac.compare_digest(token.encode(), self.token.encode())


def make_app(handle: Callable[[Request], httpx.Response], *, policy: Policy | None = None,
             error: Callable[..., ApiError] = ApiError, passthrough: tuple[type[BaseException], ...] = ()
             ) -> Starlette:
    """The ASGI app of a service. `error(status, code, message, headers=)` makes this API's errors;
    `passthrough` exceptions propagate (in-process, to the caller) instead of becoming a 500."""

    answer = guarded(handle, policy=policy, error=error, passthrough=(*passthrough, ClientDisconnect))

    async def endpoint(incoming) -> Response:
        scope = incoming.scope
        extensions = scope.get("extensions") or {}
        inline = extensions.get(INLINE_BODY)
        chunks = inline if inline is not None else _thread_chunks(incoming.receive)
        url = extensions.get(INLINE_URL) or _url(scope)
        request = Request(scope["method"], url, httpx.Headers(scope["headers"]), chunks)
        if inline is not None:
            return _to_asgi(answer(request))
        return _to_asgi(await run_in_threadpool(answer, request))

    return Starlette(routes=[Route("/{path:ml_any_path}", endpoint, methods=METHODS)])


def _url(scope: dict) -> httpx.URL:
    host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
    if not host:
        host = "%s:%s" % tuple(scope.get("server") or ("localhost", 80))
    raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    if scope.get("query_string"):
        raw += "?" + scope["query_string"].decode("latin-1")
    try:  # one parse: the path stays percent-encoded, for the router to decode once
        return httpx.URL(f"{scope['scheme']}://{host}{raw}")
    except httpx.InvalidURL:  # a Host header that is no host at all; the policy refuses it by name
        return httpx.URL(f"{scope['scheme']}://invalid.invalid{raw}")


def _thread_chunks(receive) -> Iterator[bytes]:
    """The body of a served request, read from a worker thread through the event loop."""
    import anyio.from_thread

    while True:
        message = anyio.from_thread.run(receive)
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        if message.get("body"):
            yield message["body"]
        if not message.get("more_body"):
            return


def _to_asgi(response: httpx.Response) -> Response:
    headers = [(k.lower(), v) for k, v in response.headers.raw]
    if hasattr(response, "_content") or isinstance(response.stream, httpx.ByteStream):  # in memory already
        answer = Response(response.read(), response.status_code)
    else:  # a stream (a file): sent piece by piece, read in the thread pool
        answer = StreamingResponse(iter(response.stream), response.status_code)
    answer.raw_headers = headers
    return answer
