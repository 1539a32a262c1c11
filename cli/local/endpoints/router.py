"""The router of one local online endpoint: `python -m cli.local.endpoints.router <home> <ws> <endpoint> <port>`.

It serves the endpoint's scoring URI (http://127.0.0.1:<port>/score) with starlette+uvicorn, checks the
credential (keys or aml_token: anything else is a 401 and is never scored), picks a deployment (the
`azureml-model-deployment` header, else the traffic split by weight), copies the mirror share to its
deployment without waiting for it, and forwards to a ready worker. A supervisor thread reconciles the
workers with the store (cli.local.endpoints.supervisor). SIGTERM stops every worker, then the router.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

from cli.local.endpoints import folder, read_keys, tokens


class Routing:
    """What the request path reads: replaced whole by the supervisor, never mutated in place."""

    def __init__(self, auth_mode: str = "Key", traffic: dict | None = None, mirror: dict | None = None,
                 live: dict | None = None):
        self.auth_mode = auth_mode
        self.traffic = {k: v for k, v in (traffic or {}).items() if v}
        self.mirror = {k: v for k, v in (mirror or {}).items() if v}
        self.live = live or {}  # deployment -> Generation (its ready workers)


async def worker_call(worker, body: bytes, content_type: str) -> tuple[int, str, bytes]:
    """One POST /score to a worker over a kept-alive connection: plain HTTP/1.1 on asyncio streams
    (a general client such as httpx costs several times the worker's own time per request here). A kept
    connection the worker has closed meanwhile is replaced by a fresh one, once."""
    if worker.idle:
        connection = worker.idle.pop()
        try:
            return await _exchange(worker, connection, body, content_type)
        except (OSError, asyncio.IncompleteReadError):
            pass
    connection = await asyncio.open_connection("127.0.0.1", worker.port)
    return await _exchange(worker, connection, body, content_type)


async def _exchange(worker, connection, body: bytes, content_type: str) -> tuple[int, str, bytes]:
    reader, writer = connection
    try:
        writer.write(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + worker.token.encode()
                     + b"\r\nContent-Type: " + content_type.encode("latin-1") + b"\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        content = await reader.readexactly(int(headers.get("content-length", "0")))
    except BaseException:
        writer.close()
        raise
    if headers.get("connection", "").lower() == "close":
        writer.close()
    else:
        worker.idle.append(connection)
    return status, headers.get("content-type", "application/json"), content


class Router:
    def __init__(self, home: Path, workspace: str, endpoint: str):
        self.root = folder(home, workspace, endpoint)
        self.endpoint = endpoint
        self.routing = Routing()
        self.refresh = None  # set by main: re-read the endpoint's routing from the store now
        self._keys, self._keys_mtime = {}, None
        self._round = itertools.count()

    def keys(self) -> dict:
        try:
            mtime = (self.root / "keys.json").stat().st_mtime_ns
        except OSError:
            return {}
        if mtime != self._keys_mtime:
            self._keys, self._keys_mtime = read_keys(self.root), mtime
        return self._keys

    def authorised(self, header: str) -> bool:
        scheme, _, secret = header.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            return False
        keys = self.keys()
        if self.routing.auth_mode.lower() == "key":
            import hmac

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
        """(status, headers, content) of one worker's answer; another worker is tried if one is gone."""
        generation = self.routing.live.get(name)
        if generation is None or not generation.workers:
            return 503, {}, json.dumps({"message": f"Deployment '{name}' has no ready worker"}).encode()
        workers = generation.workers
        start = next(self._round)
        for attempt in range(len(workers)):
            worker = workers[(start + attempt) % len(workers)]
            worker.inflight += 1
            try:
                status, kind, content = await asyncio.wait_for(
                    worker_call(worker, body, content_type), generation.timeout_s + 5)
                return status, {"content-type": kind}, content
            except (OSError, asyncio.IncompleteReadError, ValueError):
                continue
            except asyncio.TimeoutError:
                return 504, {}, json.dumps({"message": f"Deployment '{name}' did not answer in time"}).encode()
            finally:
                worker.inflight -= 1
        return 502, {}, json.dumps({"message": f"Deployment '{name}': no worker answered"}).encode()

    def app(self):
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route

        def error(status: int, message: str, headers: dict | None = None):
            return JSONResponse({"message": message}, status, headers=headers)

        async def score(request):
            if not self.authorised(request.headers.get("authorization", "")):
                return error(401, "Unauthorized: a valid key or token is required (Authorization: Bearer ...).",
                             {"WWW-Authenticate": 'Bearer realm="ml-endpoint"'})
            wanted = request.headers.get("azureml-model-deployment")
            name = self.pick(wanted)
            if name is None and self.refresh is not None:
                # The routing is published every pass (0.3 s); a request that finds no route may follow
                # the traffic update that gives it one, already answered as Succeeded: read it now.
                await asyncio.to_thread(self.refresh)
                name = self.pick(wanted)
            if name is None:
                if wanted:
                    return error(404, f"Deployment '{wanted}' does not exist or is not ready in endpoint '{self.endpoint}'.")
                return error(404, "No valid deployments to route to. Please check that the endpoint has at least"
                                  " one deployment with positive weight values or use a deployment specific header"
                                  " to route.")
            body = await request.body()
            content_type = request.headers.get("content-type", "application/json")
            if not wanted:
                for shadow, share in self.routing.mirror.items():
                    if shadow != name and shadow in self.routing.live and random.uniform(0, 100) < share:
                        asyncio.ensure_future(self.forward(shadow, body, content_type))
            status, headers, content = await self.forward(name, body, content_type)
            headers["azureml-model-deployment"] = name
            return Response(content, status, headers=headers)

        async def health(request):
            return Response("Healthy", media_type="text/plain")

        async def swagger(request):
            return JSONResponse({"swagger": "2.0", "info": {"title": self.endpoint, "version": "1.0"},
                                 "paths": {"/score": {"post": {"responses": {"200": {"description": "OK"}}}}}})

        return Starlette(routes=[Route("/score", score, methods=["POST"]), Route("/", health, methods=["GET"]),
                                 Route("/swagger.json", swagger, methods=["GET"])])


def main(argv: list[str]) -> None:
    home, workspace, endpoint, port = Path(argv[0]), argv[1], argv[2], int(argv[3])
    os.umask(0o077)
    from cli.local.endpoints.supervisor import Supervisor
    from cli.local.serving import Served

    router = Router(home, workspace, endpoint)
    supervisor = Supervisor(home, workspace, endpoint, router)
    router.refresh = supervisor.publish_now
    served = Served(router.app(), name="ml-endpoint-router", port=port)
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
