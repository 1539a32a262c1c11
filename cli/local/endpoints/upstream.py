"""The router's client to its scoring workers: POST /score over kept-alive HTTP/1.1 connections (to the
worker's abstract Unix socket on Linux, else its loopback port).

Plain HTTP/1.1 on an asyncio Protocol: one write per request, the answer parsed from the bytes as they
arrive, one future per request. A general client (httpx) cost several times the worker's own time per
request, and asyncio streams half again the router's (benchmarks/endpoints.py). The workers are ml's own
(cli.local.endpoints.worker on uvicorn): answers always carry Content-Length, never chunked bodies.
"""

from __future__ import annotations

import asyncio
import socket


class WorkerGone(ConnectionError):
    """The connection closed before a whole answer came: the worker exited, or closed an idle connection."""


class Connection(asyncio.Protocol):
    """One connection to a worker, one request at a time."""

    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(WorkerGone("the worker closed the connection"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            answer = _parse(self.buffer)
            if answer is not None:
                self.waiter.set_result(answer)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def post(self, head: bytes, body: bytes, timeout_s: float) -> tuple[int, str, bytes, bool]:
        """(status, content type, content, keep) of one request; TimeoutError after timeout_s."""
        loop = asyncio.get_running_loop()
        self.buffer.clear()
        self.waiter = waiter = loop.create_future()
        self.transport.write(head + body)
        timer = loop.call_later(timeout_s, _expire, waiter)
        try:
            return await waiter
        except BaseException:
            self.close()  # mid-answer: this connection's state is unknown
            raise
        finally:
            timer.cancel()
            self.waiter = None


def _expire(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_exception(asyncio.TimeoutError())


def _parse(buffer: bytearray):
    """(status, content type, content, keep) once `buffer` holds a whole answer, else None."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).lower()
    length = int(_header(head, b"content-length") or 0)
    if len(buffer) < end + 4 + length:
        return None
    status = int(head[9:12])
    content_type = (_header(head, b"content-type") or b"application/json").decode("latin-1")
    keep = _header(head, b"connection") != b"close"
    return status, content_type, bytes(buffer[end + 4:end + 4 + length]), keep


def _header(head: bytes, name: bytes) -> bytes | None:
    start = head.find(b"\r\n" + name + b":")
    if start < 0:
        return None
    start += len(name) + 3
    stop = head.find(b"\r\n", start)
    return head[start:stop if stop >= 0 else len(head)].strip()


async def post(worker, body: bytes, content_type: str, timeout_s: float) -> tuple[int, str, bytes]:
    """One POST /score to `worker` on a kept connection, or a new one; a kept connection the worker closed
    meanwhile is replaced by a fresh one, once."""
    head = (b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + worker.token.encode()
            + b"\r\nContent-Type: " + content_type.encode("latin-1") + b"\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n")
    while worker.idle:
        connection = worker.idle.pop()
        if connection.closed:
            continue
        try:
            return _keep(worker, connection, await connection.post(head, body, timeout_s))
        except WorkerGone:
            break
    connection = await _connect(worker)
    return _keep(worker, connection, await connection.post(head, body, timeout_s))


async def _connect(worker) -> Connection:
    """A new connection: the worker's abstract Unix socket where it has one, else its loopback port."""
    loop = asyncio.get_running_loop()
    if not worker.unix:
        return (await loop.create_connection(Connection, "127.0.0.1", worker.port))[1]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, "\0" + worker.unix)
        return (await loop.create_unix_connection(Connection, sock=sock))[1]
    except BaseException:
        sock.close()
        raise


def _keep(worker, connection: Connection, answer: tuple) -> tuple[int, str, bytes]:
    status, content_type, content, keep = answer
    if keep and not connection.closed:
        worker.idle.append(connection)
    else:
        connection.close()
    return status, content_type, content
