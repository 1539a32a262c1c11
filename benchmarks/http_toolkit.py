"""Which HTTP toolkit the local services are built on: starlette+uvicorn against falcon, side by side.

Prints, for each candidate:
- import ms: the cost of importing what an app needs, after httpx is loaded (every local `ml` command
  pays it, since the embedded workspace is driven in-process), median of fresh interpreters taking
  turns (starlette's row is starlette alone: uvicorn is imported only to serve, listed apart);
- in-process req/s: a trivial JSON route called without a socket, as LocalTransport calls the workspace
  (ASGI: one event loop per thread driving the app; WSGI: a plain call);
- served req/s: the same route served on 127.0.0.1 (uvicorn for ASGI apps; the stdlib's threading
  wsgiref server for falcon's WSGI app, the only WSGI server installed), driven by one keep-alive httpx
  client for a fixed number of requests.

Run: python benchmarks/http_toolkit.py [--requests N] [--imports N] [--rounds N]. Needs `pip install falcon`.
Numbers are for comparing rows on one machine, not absolute.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import textwrap
import time

IMPORTS = {
    "starlette": "import starlette.applications, starlette.routing, starlette.requests, starlette.responses",
    "falcon (WSGI)": "import falcon",
    "falcon.asgi": "import falcon.asgi",
}

APPS = textwrap.dedent('''
    import asyncio, json, socket, threading, time
    import httpx

    def starlette_app():
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def hello(request):
            return JSONResponse({"hello": request.path_params["name"]})
        return Starlette(routes=[Route("/hello/{name}", hello)])

    def falcon_wsgi_app():
        import falcon

        class Hello:
            def on_get(self, req, resp, name):
                resp.media = {"hello": name}
        app = falcon.App()
        app.add_route("/hello/{name}", Hello())
        return app

    def falcon_asgi_app():
        import falcon.asgi

        class Hello:
            async def on_get(self, req, resp, name):
                resp.media = {"hello": name}
        app = falcon.asgi.App()
        app.add_route("/hello/{name}", Hello())
        return app

    def in_process(kind, n):
        if kind == "falcon (WSGI)":
            transport = httpx.WSGITransport(app=falcon_wsgi_app())
        else:
            app = starlette_app() if kind == "starlette" else falcon_asgi_app()
            loop = asyncio.new_event_loop()

            class Bridge(httpx.BaseTransport):  # how LocalTransport drove the app when the toolkit was chosen
                def handle_request(self, request):
                    sent = []
                    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                             "method": request.method, "scheme": "http", "path": request.url.path,
                             "raw_path": request.url.raw_path.split(b"?")[0], "root_path": "",
                             "query_string": request.url.query, "server": ("127.0.0.1", 80),
                             "client": ("127.0.0.1", 1), "headers": [(k.lower(), v) for k, v in request.headers.raw]}

                    async def receive():
                        return {"type": "http.request", "body": b"", "more_body": False}

                    async def send(message):
                        sent.append(message)
                    loop.run_until_complete(app(scope, receive, send))
                    start = sent[0]
                    body = b"".join(m.get("body", b"") for m in sent[1:])
                    return httpx.Response(start["status"], headers=start["headers"], content=body)
            transport = Bridge()
        with httpx.Client(transport=transport, base_url="http://127.0.0.1") as client:
            return bounded_loop(client, n)

    def bounded_loop(client, n):
        assert client.get("/hello/x").json() == {"hello": "x"}
        started = time.perf_counter()
        for _ in range(n):
            client.get("/hello/x")
        return n / (time.perf_counter() - started)

    def served(kind, n):
        # proto IPPROTO_TCP, or asyncio leaves Nagle on for accepted sockets: 40 ms per request
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        if kind == "falcon (WSGI)":
            from socketserver import ThreadingMixIn
            from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

            class Quiet(WSGIRequestHandler):
                def log_message(self, *args):
                    pass

            class Threading(ThreadingMixIn, WSGIServer):
                daemon_threads = True
            sock.close()
            server = make_server("127.0.0.1", port, falcon_wsgi_app(), Threading, Quiet)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            stop = server.shutdown
        else:
            import uvicorn
            app = starlette_app() if kind == "starlette" else falcon_asgi_app()
            server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.01)

            def stop():
                server.should_exit = True
                thread.join()
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                return bounded_loop(client, n)
        finally:
            stop()

    import sys
    kind, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print((in_process if mode == "in-process" else served)(kind, n))
''')


def import_ms(statements: dict[str, str], repeats: int) -> dict[str, float]:
    """Median import ms of each statement; the candidates take turns, so a busy machine slows them alike."""
    runs: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(repeats):
        for name, statement in statements.items():
            code = f"import time, httpx\nt = time.perf_counter()\n{statement}\nprint((time.perf_counter() - t) * 1000)"
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            runs[name].append(float(out))
    return {name: statistics.median(values) for name, values in runs.items()}


def rate(kind: str, mode: str, requests: int) -> float:
    out = subprocess.run([sys.executable, "-c", APPS, kind, mode, str(requests)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{kind} {mode} failed:\n{out.stderr[-2000:]}")
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--imports", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    imports = import_ms({**IMPORTS, "uvicorn": "import uvicorn"}, args.imports)
    kinds = {"starlette": "starlette+uvicorn", "falcon (WSGI)": "falcon (WSGI)", "falcon.asgi": "falcon.asgi"}
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):  # taking turns, best of rounds: the machine's other load only ever slows
        for kind in kinds:
            for mode in ("in-process", "served"):
                best[kind, mode] = max(best.get((kind, mode), 0.0), rate(kind, mode, args.requests))
    print(f"{'toolkit':<20}{'import ms':>10}{'in-process req/s':>18}{'served req/s':>14}")
    for kind, stack in kinds.items():
        print(f"{stack:<20}{imports[kind]:>10.1f}{best[kind, 'in-process']:>18.0f}{best[kind, 'served']:>14.0f}")
    print(f"{'(uvicorn, to serve)':<20}{imports['uvicorn']:>10.1f}")
    print("served: starlette and falcon.asgi on uvicorn (h11); falcon WSGI on the stdlib's threading wsgiref")


if __name__ == "__main__":
    main()
