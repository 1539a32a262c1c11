"""One scoring worker of an online deployment: the scoring script's init() once, then run(raw_data) per request.

Runs in the deployment environment's own venv (`<venv>/bin/python -m cli.local.endpoints.worker`), in the
code folder, with AZUREML_MODEL_DIR set, as Azure's inference server runs a scoring script. starlette and
uvicorn (the project's HTTP toolkit) are reached through ML_SERVING_SITE, a folder holding only them and
their pure-Python dependencies, placed after the venv's own packages. Binds 127.0.0.1 and answers only the
router (bearer ML_WORKER_TOKEN). Limits, as Azure's request_settings: more than
max_concurrent_requests_per_instance requests at once -> 429; an answer slower than request_timeout_ms -> 408.
"""

from __future__ import annotations

import asyncio
import hmac
import importlib.util
import json
import os
import sys
import time
import traceback


def _load_script(path: str):
    spec = importlib.util.spec_from_file_location("score", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["score"] = module
    spec.loader.exec_module(module)
    return module


def _mlflow_scorer(model_dir: str):
    """An MLflow model without a scoring script: pyfunc predict over Azure's input shapes."""
    import mlflow.pyfunc
    import pandas as pd

    root = model_dir
    entries = [e for e in os.listdir(model_dir) if os.path.isfile(os.path.join(model_dir, e, "MLmodel"))]
    if not os.path.isfile(os.path.join(model_dir, "MLmodel")) and len(entries) == 1:
        root = os.path.join(model_dir, entries[0])
    model = mlflow.pyfunc.load_model(root)

    def run(raw: str):
        data = json.loads(raw)
        payload = data.get("input_data", data) if isinstance(data, dict) else data
        if isinstance(payload, dict) and "columns" in payload:
            frame = pd.DataFrame(payload["data"], columns=payload["columns"], index=payload.get("index"))
        elif isinstance(payload, dict) and "dataframe_split" in payload:
            split = payload["dataframe_split"]
            frame = pd.DataFrame(split["data"], columns=split.get("columns"))
        elif isinstance(payload, dict) and "dataframe_records" in payload:
            frame = pd.DataFrame(payload["dataframe_records"])
        else:
            frame = pd.DataFrame(payload)
        result = model.predict(frame)
        return result.tolist() if hasattr(result, "tolist") else result

    return run


def build_app(run, token: str, max_concurrent: int, timeout_s: float):
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    busy = 0

    def authorised(request) -> bool:
        given = request.headers.get("authorization", "").partition(" ")[2].encode()
        return hmac.compare_digest(given, token.encode())

    async def score(request):
        nonlocal busy
        if not authorised(request):
            return JSONResponse({"message": "unauthorised"}, 401)
        if busy >= max_concurrent:
            return JSONResponse({"message": f"Too many requests: more than {max_concurrent} at once"}, 429)
        busy += 1
        try:
            raw = (await request.body()).decode("utf-8", "replace")
            try:
                result = await asyncio.wait_for(run_in_threadpool(run, raw), timeout_s)
            except asyncio.TimeoutError:
                return JSONResponse({"message": f"Request timed out after {int(timeout_s * 1000)} ms"}, 408)
            except Exception as exc:  # the script's failure is the caller's 500, and the log's traceback
                traceback.print_exc()
                return JSONResponse({"message": f"An unexpected error occurred in scoring script: {exc}"}, 500)
        finally:
            busy -= 1
        if isinstance(result, (bytes, bytearray)):
            return Response(bytes(result), media_type="application/octet-stream")
        if isinstance(result, Response):
            return result
        return Response(json.dumps(result, default=str), media_type="application/json")

    async def ready(request):
        return Response("Healthy", media_type="text/plain")

    return Starlette(routes=[Route("/score", score, methods=["POST"]), Route("/", ready, methods=["GET"]),
                             Route("/ready", ready, methods=["GET"]), Route("/live", ready, methods=["GET"])])


def main() -> None:
    site = os.environ.get("ML_SERVING_SITE")
    if site:
        sys.path.append(site)
    sys.path.insert(0, os.getcwd())
    script = os.environ.get("ML_SCORING_SCRIPT")
    started = time.monotonic()
    if script:
        module = _load_script(script)
        if hasattr(module, "init"):
            module.init()
        run = module.run
    else:
        run = _mlflow_scorer(os.environ["AZUREML_MODEL_DIR"])
    print(f"worker ready in {time.monotonic() - started:.2f}s (pid {os.getpid()})", flush=True)
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", int(os.environ["ML_WORKER_PORT"])))
    app = build_app(run, os.environ["ML_WORKER_TOKEN"], int(os.environ.get("ML_MAX_CONCURRENT", "1")),
                    float(os.environ.get("ML_REQUEST_TIMEOUT_MS", "5000")) / 1000)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=300,
                            server_header=False, date_header=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
