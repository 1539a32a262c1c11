"""The few ASGI calls the endpoint router and the scoring workers answer with (no framework on
their hot path: benchmarks/endpoints.py)."""

from __future__ import annotations

import json


async def read_body(receive) -> bytes:
    message = await receive()
    body = message.get("body", b"")
    while message.get("more_body"):
        message = await receive()
        body += message.get("body", b"")
    return body


async def send_json(send, status: int, document, extra: list | None = None) -> None:
    await send_bytes(send, status, b"application/json", json.dumps(document, default=str).encode(), extra)


async def send_bytes(send, status: int, content_type: bytes, content: bytes, extra: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(content)).encode()),
                            *(extra or ())]})
    await send({"type": "http.response.body", "body": content})
