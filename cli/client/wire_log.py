"""An opt-in record of every HTTP exchange, one JSON line each, secrets masked.

Set ML_WIRE_LOG=/path/to/file to append each request and response the workspace client makes
(method, URL, the headers that matter, JSON bodies). It is how the test suite checks every
exchange against the REST contract, and a way to see exactly what `ml` sends.
"""

from __future__ import annotations

import json
import os
import threading

import httpx

from cli.client.redact import redact

_HEADERS = ("content-type", "x-ms-client-request-id", "x-ms-request-id", "location", "azure-asyncoperation",
            "retry-after", "x-ms-blob-type", "x-ms-error-code")
_MAX_BODY = 1 << 20
_lock = threading.Lock()


def wire_log_path() -> str | None:
    return os.environ.get("ML_WIRE_LOG") or None


def _body(message: httpx.Request | httpx.Response):
    content = message.content
    if not content or len(content) > _MAX_BODY or "json" not in message.headers.get("content-type", ""):
        return None
    try:
        return json.loads(content)
    except ValueError:
        return {"$unparsed": content[:200].decode("utf-8", "replace")}


def record(path: str, request: httpx.Request, response: httpx.Response, served_by: str = "") -> None:
    """Append one exchange to the wire log at `path`."""
    entry = {
        "served_by": served_by,
        "method": request.method,
        "url": str(request.url),
        "request_headers": {k: request.headers[k] for k in _HEADERS if k in request.headers},
        "request_body": _body(request),
        "status": response.status_code,
        "response_headers": {k: response.headers[k] for k in _HEADERS if k in response.headers},
        "response_body": _body(response),
    }
    line = redact(json.dumps(entry, separators=(",", ":"))) + "\n"
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
