"""The HTTPS proxy clients are pointed at (HTTPS_PROXY): CONNECT to a served host, relayed to the gateway.

The proxy never sees plaintext: once it has checked the CONNECT (its secret in Proxy-Authorization, a
served host, port 443) it relays bytes both ways to the gateway's TLS port, where uvicorn terminates
TLS with the served certificate. Any other host, port or method is refused with a reason, so traffic
meant for the real Azure or anywhere else never leaves through here.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
from typing import Callable

HEAD_LIMIT = 64 * 1024  # a CONNECT head longer than this is refused (the stream reader's limit)
CHUNK = 64 * 1024


class ConnectProxy:
    """asyncio protocol logic: `serve(reader, writer)` for each client connection."""

    def __init__(self, secret: str, upstream_port: int, allowed: Callable[[str], bool],
                 log: Callable[[str], None] | None = None):
        self.secret, self.upstream_port, self.allowed, self.log = secret, upstream_port, allowed, log

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        target = rest.rpartition(" ")[0]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        refusal = self._refusal(method, target, headers)
        if refusal is not None:
            status, reason, extra = refusal
            if self.log:
                self.log(f"{method} {target} refused: {status} {reason}")
            body = (reason + "\n").encode()
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
                         f"Connection: close\r\n{extra}\r\n".encode() + body)
            await _close(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await _close(writer)
            return
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        await _close(up_writer)
        await _close(writer)

    def _refusal(self, method: str, target: str, headers: dict) -> tuple[str, str, str] | None:
        if method.upper() != "CONNECT":
            return ("405 Method Not Allowed", "ml local serve proxies only https (CONNECT) to the workspace's hosts",
                    "Allow: CONNECT\r\n")
        scheme, _, encoded = headers.get("proxy-authorization", "").partition(" ")
        try:
            password = base64.b64decode(encoded, validate=True).decode().partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            password = ""
        if scheme.lower() != "basic" or not hmac.compare_digest(password.encode(), self.secret.encode()):
            return ("407 Proxy Authentication Required", "the proxy secret (in HTTPS_PROXY) is missing or wrong",
                    'Proxy-Authenticate: Basic realm="ml local serve"\r\n')
        host, _, port = target.rpartition(":")
        if port != "443" or not self.allowed(host):
            return ("403 Forbidden", f"ml local serve answers only the local workspace's hosts; {target} is refused", "")
        return None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            writer.write(data)
            await writer.drain()  # back-pressure: a slow reader slows the sender, nothing piles up
    except ConnectionError:
        pass
    try:  # half-close: the other direction may still be sending
        if writer.can_write_eof() and not writer.is_closing():
            writer.write_eof()
    except (ConnectionError, OSError, RuntimeError):
        pass


async def _close(writer: asyncio.StreamWriter) -> None:
    try:
        writer.close()
        await writer.wait_closed()
    except (ConnectionError, OSError, RuntimeError):
        pass
