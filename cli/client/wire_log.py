"""An opt-in record of every HTTP exchange, one JSON line each, secrets masked.

Set ML_WIRE_LOG=/path/to/file to append each request and response the workspace client makes
(method, URL, the headers that matter, JSON bodies). It is how the test suite checks every
exchange against the REST contract, and a way to see exactly what `ml` sends. Secrets are masked by
the one list in cli.redact (bodies field by field, so each line stays the same JSON shape),
and the file is created 0600: it is safe to keep, for the local workspace and for Azure alike.
"""

from __future__ import annotations

import json
import os
import threading

import httpx

from cli.redact import redact, redact_json

_HEADERS = ("content-type", "x-ms-client-request-id", "x-ms-request-id", "location", "azure-asyncoperation",
            "retry-after", "x-ms-blob-type", "x-ms-error-code")
_MAX_BODY = 1 << 20
_lock = threading.Lock()


def wire_log_path() -> str | None:
    return os.environ.get("ML_WIRE_LOG") or None


def _body(message: httpx.Request | httpx.Response):
    try:
        content = message.content
    except (httpx.RequestNotRead, httpx.ResponseNotRead):  # a streamed upload or download: not logged
        return None
    if not content or len(content) > _MAX_BODY or "json" not in message.headers.get("content-type", ""):
        return None
    try:
        return redact_json(json.loads(content))
    except ValueError:
        return {"$unparsed": redact(content[:200].decode("utf-8", "replace"))}


def record(path: str, request: httpx.Request, response: httpx.Response, served_by: str = "") -> None:
    """Append one exchange to the wire log at `path`."""
    entry = {
        "served_by": served_by,
        "method": request.method,
        "url": redact(request.url),
        "request_headers": {k: redact(request.headers[k]) for k in _HEADERS if k in request.headers},
        "request_body": _body(request),
        "status": response.status_code,
        "response_headers": {k: redact(response.headers[k]) for k in _HEADERS if k in response.headers},
        "response_body": _body(response),
    }
    line = json.dumps(entry, separators=(",", ":")) + "\n"  # every part redacted above
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
