"""Serve an ASGI app (cli.local.app) on 127.0.0.1, on an ephemeral port, in a thread; stop it cleanly.

The one way a local service listens: the tracking server of a job today, scoring servers and
`ml local serve` later. Loopback only, never 0.0.0.0; the app itself demands its secret.
"""

from __future__ import annotations

import socket
import threading
import time

LOOPBACK = "127.0.0.1"
BACKLOG = 2048  # uvicorn's default


class Served:
    """An app being served: `url`, `port`, and `close()` (idempotent) that frees the port."""

    def __init__(self, app, *, name: str = "ml-http", port: int = 0, tls: tuple[str, str] | None = None,
                 http="h11", loop: str = "asyncio", listening: socket.socket | None = None):
        import uvicorn

        if listening is None:  # else a socket already bound to 127.0.0.1 and listening (tracking/shared.py)
            # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and with Nagle
            # on, a response's head and body in two writes cost 40 ms each (delayed ACK).
            listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            listening.bind((LOOPBACK, port))
            # listening from here on: a client that connects before the server's loop runs waits in the
            # backlog instead of being refused, so a caller need not wait for the start (start(wait=False))
            listening.listen(BACKLOG)
        self._socket = listening
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="error", access_log=False, lifespan="off",
                                timeout_keep_alive=300,  # a job's mlflow session reuses one connection
                                timeout_graceful_shutdown=2, server_header=False, date_header=False,
                                # tls=(certificate, key): `ml local serve` terminates TLS here
                                ssl_certfile=tls[0] if tls else None, ssl_keyfile=tls[1] if tls else None,
                                # h11 and asyncio unless asked: what these services were tested on, even where
                                # httptools and uvloop are installed (an endpoint's router asks for them)
                                http=http, loop=loop)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=name, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 30.0, wait: bool = True) -> "Served":
        """Serve in a thread; with `wait`, return once the server accepts (else at once: connections
        queue on the listening socket meanwhile; a server that fails to start says so in the log)."""
        self._thread.start()
        if not wait:
            return self
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise OSError(f"the local HTTP server on port {self.port} did not start")
            time.sleep(0.005)
        return self

    def close(self) -> None:
        """Stop accepting, end open connections (after at most a short grace), free the port."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join()
        self._socket.close()

    def __enter__(self) -> "Served":
        return self if self._thread.is_alive() else self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()


def serve(app, *, name: str = "ml-http", wait: bool = True) -> Served:
    """Start serving `app` on 127.0.0.1 on an ephemeral port; the caller closes it."""
    return Served(app, name=name).start(wait=wait)
