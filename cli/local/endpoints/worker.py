"""One scoring worker of an online deployment: the scoring script's init() once, then run(raw_data) per request.

Runs in the deployment environment's own venv (`<venv>/bin/python -m cli.local.endpoints.worker`), in the
code folder, with AZUREML_MODEL_DIR set, as Azure's inference server runs a scoring script (or an MLflow
model without one: cli.local.endpoints.mlflow_scorer). uvicorn (the project's HTTP toolkit), with httptools
and uvloop, is reached through ML_SERVING_SITE, placed after the venv's own packages
(cli.local.endpoints.serving_site). Listens on 127.0.0.1 (probes) and, on Linux, an abstract Unix socket
(the router's way in); answers only bearer ML_WORKER_TOKEN. Limits, as Azure's request_settings: more than
max_concurrent_requests_per_instance requests at once -> 429; an answer slower than request_timeout_ms -> 408.
"""

from __future__ import annotations

import asyncio
import hmac
import importlib.util
import os
import sys
import time
import traceback

from cli.local.endpoints.asgi_io import read_body, send_bytes, send_json


def _load_script(path: str):
    spec = importlib.util.spec_from_file_location("score", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["score"] = module
    spec.loader.exec_module(module)
    return module


def build_app(run, token: str, max_concurrent: int, timeout_s: float):
    """The scoring path as a bare ASGI app: uvicorn hands it the request, nothing else runs per request
    (a Starlette Request, router and Response cost as much as a trivial script's whole answer here).
    run() goes to a thread pool, so a slow script never stalls the loop and the 408 and 429 answers come
    on time, unless it has proven cheap (cli.local.endpoints.placement); the pool has room beyond
    max_concurrent for runs still going after their 408 (Python cannot stop them)."""
    from concurrent.futures import ThreadPoolExecutor

    from cli.local.endpoints.placement import Placement

    pool = ThreadPoolExecutor(max_workers=max(1, max_concurrent) + 16, thread_name_prefix="score")
    placement = Placement(timeout_s)
    expected = b"Bearer " + token.encode()
    busy = 0

    def timed(raw: str):
        """(result, error, (seconds, CPU seconds of this thread)) of one run()."""
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            result, error = run(raw), None
        except Exception as exc:
            result, error = None, exc
        return result, error, (time.perf_counter() - started, time.thread_time() - cpu)

    async def score(raw: str):
        """(status, result): 200 or 408; the script's exception is raised."""
        if placement.inline:
            result, error, (seconds, cpu) = timed(raw)
        else:
            try:
                result, error, (seconds, cpu) = await asyncio.wait_for(
                    asyncio.get_running_loop().run_in_executor(pool, timed, raw), timeout_s)
            except asyncio.TimeoutError:
                placement.observe(float("inf"))
                return 408, None
        was_inline = placement.inline
        placement.observe(seconds, cpu)
        if placement.inline != was_inline:  # rare: worth a line in the worker's log
            print(f"run() is cheap ({placement.needed} calls under {placement.cheap_s * 1000:g} ms): called inline from now"
                  if placement.inline else f"run() took {seconds * 1000:.1f} ms: back to the thread pool", flush=True)
        if error is not None:
            raise error
        if seconds > timeout_s:  # an inline run() that was cheap until now, not this once
            return 408, None
        return 200, result

    async def app(scope, receive, send):
        nonlocal busy
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if path == "/score" and method == "POST":
            given = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
            if not hmac.compare_digest(given, expected):
                return await send_json(send, 401, {"message": "unauthorised"})
            if busy >= max_concurrent:
                return await send_json(send, 429, {"message": f"Too many requests: more than {max_concurrent} at once"})
            busy += 1
            try:
                status, result = await score((await read_body(receive)).decode("utf-8", "replace"))
            except Exception as exc:  # the script's failure is the caller's 500, and the log's traceback
                if getattr(exc, "http_status", 500) == 400:  # the caller's input (an MLflow model's checks)
                    return await send_json(send, 400, {"message": str(exc)})
                traceback.print_exc()
                return await send_json(send, 500, {"message": f"An unexpected error occurred in scoring script: {exc}"})
            finally:
                busy -= 1
            if status == 408:
                return await send_json(send, 408, {"message": f"Request timed out after {int(timeout_s * 1000)} ms"})
            if isinstance(result, (bytes, bytearray)):
                return await send_bytes(send, 200, b"application/octet-stream", bytes(result))
            if hasattr(result, "body") and hasattr(result, "status_code"):  # a Response the script built
                return await result(scope, receive, send)
            return await send_json(send, 200, result)
        if method == "GET" and path in ("/", "/ready", "/live"):
            return await send_bytes(send, 200, b"text/plain; charset=utf-8", b"Healthy")
        return await send_json(send, 404 if method in ("GET", "POST") else 405, {"message": "Not Found"})

    return app


def main() -> None:
    site = os.environ.get("ML_SERVING_SITE")
    if site:  # after the environment's own packages (cli.local.endpoints.serving_site)
        sys.path.extend(site.split(os.pathsep))
    sys.path.insert(0, os.getcwd())
    script = os.environ.get("ML_SCORING_SCRIPT")
    started = time.monotonic()
    if script:
        module = _load_script(script)
        if hasattr(module, "init"):
            module.init()
        run = module.run
    else:
        from cli.local.endpoints import mlflow_scorer

        run = mlflow_scorer.scorer(os.environ["AZUREML_MODEL_DIR"])
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", int(os.environ["ML_WORKER_PORT"])))
    sockets = [sock]
    if os.environ.get("ML_WORKER_UNIX"):  # the router's way in: an abstract Unix socket (Linux)
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind("\0" + os.environ["ML_WORKER_UNIX"])
        sockets.append(unix)
    app = build_app(run, os.environ["ML_WORKER_TOKEN"], int(os.environ.get("ML_MAX_CONCURRENT", "1")),
                    float(os.environ.get("ML_REQUEST_TIMEOUT_MS", "5000")) / 1000)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=300,
                            server_header=False, date_header=False)
    fast = [name for name in ("httptools", "uvloop") if _importable(name)]
    print(f"worker ready in {time.monotonic() - started:.2f}s (pid {os.getpid()}; {', '.join(fast) or 'h11, asyncio'})",
          flush=True)
    uvicorn.Server(config).run(sockets=sockets)


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
