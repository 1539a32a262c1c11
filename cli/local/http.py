"""HTTP pieces every local service shares: the one wire error, JSON bodies, the request a handler sees.

`ApiError` is the only error a handler raises to answer with an error. Its shape on the wire is the
API's: ARM's `{"error": {"code", "message"}}` by default; subclasses give MLflow's
(`cli.local.tracking.errors.TrackingError`) and Azure Storage's XML (`cli.local.blobs.BlobError`).
The app (cli.local.app) turns any of them into the response in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

import httpx

if TYPE_CHECKING:
    from cli.local.service import LocalWorkspaceService


class ApiError(Exception):
    """Answer the request with an ARM ErrorResponse: {"error": {"code", "message", ...}}."""

    content_type = "application/json; charset=utf-8"

    def __init__(self, status: int, code: str, message: str, *, target: str | None = None,
                 details: list[dict] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.target, self.details, self.headers = target, details, headers or {}

    def body(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def encode(self) -> bytes:
        """The response body in this API's shape."""
        return json.dumps(self.body()).encode()

    def response(self, method: str = "GET") -> httpx.Response:
        """The whole answer: status, this API's headers and body (none for HEAD)."""
        if method == "HEAD":
            return httpx.Response(self.status, headers=self.headers)
        return httpx.Response(self.status, content=self.encode(),
                              headers={"Content-Type": self.content_type, **self.headers})


def not_found(kind: str, name: str) -> ApiError:
    return ApiError(404, "ResourceNotFound", f"The {kind} '{name}' was not found in this workspace.")


def json_response(status: int, body: object | None = None, headers: dict[str, str] | None = None
                  ) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers or {})
    content = json.dumps(body).encode()
    return httpx.Response(status, content=content,
                          headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


class Request:
    """The request as handlers read it: method, URL, headers, and a body read whole or streamed.

    `stream` yields the body's chunks once; `content` reads it whole (and is what later reads see).
    """

    def __init__(self, method: str, url: httpx.URL, headers: httpx.Headers, chunks: Iterator[bytes]):
        self.method, self.url, self.headers = method, url, headers
        self._chunks = chunks

    @property
    def stream(self) -> Iterator[bytes]:
        if hasattr(self, "_content"):
            yield self._content
        else:
            yield from self._chunks

    @property
    def content(self) -> bytes:
        if not hasattr(self, "_content"):
            self._content = b"".join(self._chunks)
        return self._content

    def read(self) -> bytes:
        return self.content


@dataclass
class Call:
    """One request as a handler sees it: the service, path parameters and the query."""

    service: "LocalWorkspaceService"
    request: Request
    params: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)

    def json(self, *, required: bool = True) -> dict:
        """The request body as a JSON object, or a 400 InvalidRequestContent."""
        raw = self.request.content
        if not raw.strip():
            if required:
                raise ApiError(400, "InvalidRequestContent", "The request content was empty; a JSON"
                               " object was expected.")
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, "InvalidRequestContent",
                           f"The request content was invalid and could not be deserialized: {exc}.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidRequestContent",
                           f"The request content must be a JSON object, not {type(body).__name__}.")
        return body

    def properties(self, body: dict) -> dict:
        """`body.properties` as an object, or a 400 naming the problem."""
        props = body.get("properties")
        if not isinstance(props, dict):
            raise ApiError(400, "UserError", "The request body must have a 'properties' object.",
                           target="properties")
        return props


def guarded(handle: Callable[[Request], httpx.Response], *, policy=None,
            error: Callable[..., ApiError] = ApiError,
            passthrough: tuple[type[BaseException], ...] = ()) -> Callable[[Request], httpx.Response]:
    """`handle` as every local service answers, served (cli.local.app) or in-process: `policy` checks
    the caller first; an `ApiError` answers in the API's shape, and so does any other fault (a 500, never
    a traceback), but for the `passthrough` exceptions, which reach the caller."""

    def answer(request: Request) -> httpx.Response:
        try:
            if policy is not None:
                policy.check(request, error)
            return handle(request)
        except ApiError as failure:
            return failure.response(request.method)
        except passthrough:
            raise
        except Exception as exc:
            return error(500, "InternalServerError", f"{type(exc).__name__}: {exc}").response(request.method)

    return answer
