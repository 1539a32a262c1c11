"""The router of one local online endpoint: `python -m cli.local.endpoints.router <home> <ws> <endpoint> <port>`.

It serves the endpoint's scoring URI (http://127.0.0.1:<port>/score) as a bare ASGI app on uvicorn, checks the
credential (keys or aml_token: anything else is a 401 and is never scored), picks a deployment (the
`azureml-model-deployment` header, else the traffic split by weight), copies the mirror share to its
deployment without waiting for it, and forwards to a ready worker. A supervisor thread reconciles the
workers with the store (cli.local.endpoints.supervisor). SIGTERM stops every worker, then the router.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

from cli.local.endpoints import folder, read_keys, tokens, upstream
from cli.local.endpoints.asgi_io import read_body, send_bytes, send_json


class Routing:
    """What the request path reads: replaced whole by the supervisor, never mutated in place."""

    def __init__(self, auth_mode: str = "Key", traffic: dict | None = None, mirror: dict | None = None,
                 live: dict | None = None):
        self.auth_mode = auth_mode
        self.traffic = {k: v for k, v in (traffic or {}).items() if v}
        self.mirror = {k: v for k, v in (mirror or {}).items() if v}
        self.live = live or {}  # deployment -> Generation (its ready workers)


class Router:
    def __init__(self, home: Path, workspace: str, endpoint: str):
        self.root = folder(home, workspace, endpoint)
        self.endpoint = endpoint
        self.routing = Routing()
        self.refresh = None  # set by main: re-read the endpoint's routing from the store now
        self._keys, self._keys_version = {}, None
        self._keys_path = str(self.root / "keys.json")
        self._stamp_path = str(self.root / "routing.stamp")
        self._stamp_version = self._stamp()  # before the supervisor's first publish, which reads the store
        self._round = itertools.count()

    def keys(self) -> dict:
        """The endpoint's keys, read again whenever keys.json is replaced (regenerate-keys acts at once)."""
        try:
            stat = os.stat(self._keys_path)
        except OSError:
            return {}
        version = (stat.st_ino, stat.st_mtime_ns)
        if version != self._keys_version:
            self._keys, self._keys_version = read_keys(self.root), version
        return self._keys

    def routing_changed(self) -> bool:
        """True once after each endpoint update (cli.local.endpoints.mark_routing_changed)."""
        version = self._stamp()
        if version == self._stamp_version:
            return False
        self._stamp_version = version
        return True

    def _stamp(self):
        try:
            stat = os.stat(self._stamp_path)
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def authorised(self, header: str) -> bool:
        scheme, _, secret = header.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            return False
        keys = self.keys()
        if self.routing.auth_mode.lower() == "key":
            return any(hmac.compare_digest(secret.encode(), str(keys.get(k, "")).encode())
                       for k in ("primaryKey", "secondaryKey") if keys.get(k))
        return tokens.valid(keys.get("tokenSecret", ""), self.endpoint, secret)

    def pick(self, wanted: str | None) -> str | None:
        routing = self.routing
        if wanted:
            return wanted if wanted in routing.live else None
        if not routing.traffic:
            return None
        point, total = random.uniform(0, sum(routing.traffic.values())), 0.0
        for name, weight in routing.traffic.items():
            total += weight
            if point <= total:
                return name
        return next(reversed(routing.traffic))

    async def forward(self, name: str, body: bytes, content_type: str):
        """(status, content type, content) of one worker's answer; another worker is tried if one is gone."""
        generation = self.routing.live.get(name)
        if generation is None or not generation.workers:
            return 503, "application/json", json.dumps({"message": f"Deployment '{name}' has no ready worker"}).encode()
        workers = generation.workers
        start = next(self._round)
        for attempt in range(len(workers)):
            worker = workers[(start + attempt) % len(workers)]
            worker.inflight += 1
            try:
                return await upstream.post(worker, body, content_type, generation.timeout_s + 5)
            except asyncio.TimeoutError:  # before OSError: it is one since Python 3.11
                return 504, "application/json", json.dumps({"message": f"Deployment '{name}' did not answer in time"}).encode()
            except (OSError, ValueError):  # gone, or not an HTTP answer: another worker
                continue
            finally:
                worker.inflight -= 1
        return 502, "application/json", json.dumps({"message": f"Deployment '{name}': no worker answered"}).encode()

    def app(self):
        """The scoring URI as a bare ASGI app: per request only the credential check, the pick and the
        forward (Starlette's Request, routing and Response cost as much as a forward here)."""
        unauthorised = {"message": "Unauthorized: a valid key or token is required (Authorization: Bearer ...)."}
        challenge = [(b"www-authenticate", b'Bearer realm="ml-endpoint"')]

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            method, path = scope["method"], scope["path"]
            if method == "POST" and path == "/score":
                headers = dict(scope["headers"])  # ASGI names are lower-case bytes
                if not self.authorised(headers.get(b"authorization", b"").decode("latin-1")):
                    return await send_json(send, 401, unauthorised, challenge)
                wanted = headers.get(b"azureml-model-deployment", b"").decode("latin-1") or None
                if self.refresh is not None and self.routing_changed():
                    await asyncio.to_thread(self.refresh)  # an update answered as Succeeded: in force now
                name = self.pick(wanted)
                if name is None and self.refresh is not None:
                    # The routing is published every pass (0.3 s); a request that finds no route may follow
                    # the traffic update that gives it one, already answered as Succeeded: read it now.
                    await asyncio.to_thread(self.refresh)
                    name = self.pick(wanted)
                if name is None:
                    return await send_json(send, 404, {"message": (
                        f"Deployment '{wanted}' does not exist or is not ready in endpoint '{self.endpoint}'."
                        if wanted else "No valid deployments to route to. Please check that the endpoint has at"
                        " least one deployment with positive weight values or use a deployment specific header"
                        " to route.")})
                body = await read_body(receive)
                content_type = headers.get(b"content-type", b"application/json").decode("latin-1")
                if not wanted:
                    for shadow, share in self.routing.mirror.items():
                        if shadow != name and shadow in self.routing.live and random.uniform(0, 100) < share:
                            asyncio.ensure_future(self.forward(shadow, body, content_type))
                status, kind, content = await self.forward(name, body, content_type)
                return await send_bytes(send, status, kind.encode("latin-1"), content,
                                   [(b"azureml-model-deployment", name.encode())])
            if method == "GET" and path == "/":
                return await send_bytes(send, 200, b"text/plain; charset=utf-8", b"Healthy")
            if method == "GET" and path == "/swagger.json":
                return await send_json(send, 200, {"swagger": "2.0", "info": {"title": self.endpoint, "version": "1.0"},
                                                 "paths": {"/score": {"post": {"responses": {"200": {"description": "OK"}}}}}})
            return await send_json(send, 404 if method in ("GET", "POST") else 405, {"message": "Not Found"})

        return app


def main(argv: list[str]) -> None:
    home, workspace, endpoint, port = Path(argv[0]), argv[1], argv[2], int(argv[3])
    os.umask(0o077)
    from cli.local.endpoints.supervisor import Supervisor
    from cli.local.serving import Served

    router = Router(home, workspace, endpoint)
    supervisor = Supervisor(home, workspace, endpoint, router)
    router.refresh = supervisor.publish_now
    # httptools and uvloop where installed: several times the requests/s of h11 and asyncio (benchmarks/endpoints.py)
    served = Served(router.app(), name="ml-endpoint-router", port=port, http="auto", loop="auto")
    served.start()
    (router.root / "router.json").write_text(json.dumps({"pid": os.getpid(), "port": port}))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"router of {endpoint} on 127.0.0.1:{port} (pid {os.getpid()})", flush=True)
    try:
        while not stop.is_set():
            if not supervisor.reconcile():  # the endpoint is gone
                break
            stop.wait(0.3)
    finally:
        supervisor.stop_all()
        served.close()
        try:
            (router.root / "router.json").unlink()
        except OSError:
            pass
        print(f"router of {endpoint} stopped at {time.strftime('%H:%M:%S')}", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
