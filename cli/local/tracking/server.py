"""The MLflow REST API (2.0) over a TrackingStore, on 127.0.0.1, for the processes of local jobs.

Field names and routes follow mlflow/protos/service.proto (as used by mlflow's RestStore) and the
mlflow-artifacts endpoints of HttpArtifactRepository. Errors answer in MLflow's shape,
`{"error_code": ..., "message": ...}`, never with a traceback.
"""

from __future__ import annotations

import json
import math
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from cli.local.tracking import artifacts
from cli.local.tracking.errors import TrackingError
from cli.local.tracking.store import TrackingStore

API = "/api/2.0/mlflow/"
REQUIRED = object()


def _required(body: dict, name: str):
    value = body.get(name)
    if value in (None, ""):
        raise TrackingError("INVALID_PARAMETER_VALUE", f"Missing value for required parameter '{name}'.")
    return value


def _run_id(body: dict) -> str:
    return body.get("run_id") or _required(body, "run_uuid")


def _number(body: dict, name: str, kind, default=REQUIRED):
    value = body.get(name)
    if value is None:
        return _required(body, name) if default is REQUIRED else default
    try:
        return kind(value)  # float() reads the "NaN"/"Infinity" strings protobuf JSON uses
    except (TypeError, ValueError):
        raise TrackingError("INVALID_PARAMETER_VALUE",
                            f"Invalid value {value!r} for parameter '{name}' supplied.") from None


def _metric(body: dict) -> dict:
    metric = {"key": _required(body, "key"), "value": _number(body, "value", float),
              "timestamp": _number(body, "timestamp", int), "step": _number(body, "step", int, 0)}
    for link in ("model_id", "dataset_name", "dataset_digest"):  # a metric of a logged model
        if body.get(link):
            metric[link] = str(body[link])
    return metric


def _entries(body: dict, name: str) -> list[dict]:
    items = body.get(name) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("key") for i in items):
        raise TrackingError("INVALID_PARAMETER_VALUE", f"'{name}' must be a list of objects with a 'key'.")
    return items


def _search_page(items: list, token: str, name: str) -> dict:
    return {name: items, **({"next_page_token": token} if token else {})}


def _log_batch(s: TrackingStore, b: dict) -> dict:
    s.log_batch(_run_id(b), [_metric(m) for m in _entries(b, "metrics")], _entries(b, "params"),
                _entries(b, "tags"))
    return {}


def _log_model(s: TrackingStore, b: dict) -> dict:
    try:
        model = json.loads(_required(b, "model_json"))
    except (TypeError, ValueError):
        raise TrackingError("INVALID_PARAMETER_VALUE", "'model_json' is not valid JSON.") from None
    s.log_model(_run_id(b), model)
    return {}


def _search_runs(s: TrackingStore, b: dict) -> dict:
    ids = b.get("experiment_ids") or []
    runs, token = s.search_runs(ids if isinstance(ids, list) else [ids], b.get("filter", ""),
                                b.get("run_view_type", "ACTIVE_ONLY"), _number(b, "max_results", int, 1000),
                                b.get("order_by") or [], b.get("page_token", ""))
    return _search_page(runs, token, "runs")


def _search_experiments(s: TrackingStore, b: dict) -> dict:
    experiments, token = s.search_experiments(b.get("view_type", "ACTIVE_ONLY"), b.get("filter", ""),
                                              _number(b, "max_results", int, 1000), b.get("page_token", ""))
    return _search_page(experiments, token, "experiments")


def _models(body: dict) -> list[dict]:
    items = body.get("models") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("model_id") for i in items):
        raise TrackingError("INVALID_PARAMETER_VALUE", "'models' must be a list of objects with a 'model_id'.")
    return items


def _create_logged_model(s: TrackingStore, b: dict) -> dict:
    return {"model": s.create_logged_model(
        str(_required(b, "experiment_id")), b.get("name") or "", b.get("source_run_id") or "",
        b.get("model_type") or "", _entries(b, "tags"), _entries(b, "params"))}


def _search_logged_models(s: TrackingStore, b: dict) -> dict:
    ids, datasets, order_by = b.get("experiment_ids") or [], b.get("datasets") or [], b.get("order_by") or []
    if not all(isinstance(x, list) for x in (ids, datasets, order_by)) or \
            not all(isinstance(d, dict) and d.get("dataset_name") for d in datasets) or \
            not all(isinstance(o, dict) and o.get("field_name") for o in order_by):
        raise TrackingError("INVALID_PARAMETER_VALUE", "'experiment_ids', 'datasets' and 'order_by' must be lists; "
                            "each dataset needs a 'dataset_name' and each order_by a 'field_name'.")
    models, token = s.search_logged_models(ids, b.get("filter") or "", datasets,
                                           _number(b, "max_results", int, 100), order_by, b.get("page_token", ""))
    return _search_page(models, token, "models")


def _allow_deleted(b: dict) -> bool:
    return str(b.get("allow_deleted", "")).lower() == "true"


# (method, path below /api/2.0/mlflow/) -> handler(store, body) -> response body
ROUTES = {
    ("GET", "experiments/get-by-name"): lambda s, b: {"experiment": s.get_experiment_by_name(_required(b, "experiment_name"))},
    ("GET", "experiments/get"): lambda s, b: {"experiment": s.get_experiment(_required(b, "experiment_id"))},
    ("POST", "experiments/create"): lambda s, b: {"experiment_id": s.create_experiment(
        _required(b, "name"), b.get("artifact_location"), _entries(b, "tags"))},
    ("POST", "experiments/search"): _search_experiments,
    ("GET", "experiments/search"): _search_experiments,
    ("POST", "experiments/set-experiment-tag"): lambda s, b: s.set_experiment_tag(
        _required(b, "experiment_id"), _required(b, "key"), str(b.get("value", ""))) or {},
    ("POST", "runs/create"): lambda s, b: {"run": s.create_run(
        b.get("experiment_id") or "0", run_name=b.get("run_name", ""), user_id=b.get("user_id", ""),
        start_time=_number(b, "start_time", int, None), tags=_entries(b, "tags"))},
    ("GET", "runs/get"): lambda s, b: {"run": s.get_run(_run_id(b))},
    ("POST", "runs/update"): lambda s, b: {"run_info": s.update_run(
        _run_id(b), b.get("status"), _number(b, "end_time", int, None), b.get("run_name"))},
    ("POST", "runs/delete"): lambda s, b: s.set_lifecycle_stage(_required(b, "run_id"), "deleted") or {},
    ("POST", "runs/restore"): lambda s, b: s.set_lifecycle_stage(_required(b, "run_id"), "active") or {},
    ("POST", "runs/log-metric"): lambda s, b: s.log_batch(_run_id(b), metrics=[_metric(b)]) or {},
    ("POST", "runs/log-parameter"): lambda s, b: s.log_batch(
        _run_id(b), params=[{"key": _required(b, "key"), "value": b.get("value", "")}]) or {},
    ("POST", "runs/set-tag"): lambda s, b: s.log_batch(
        _run_id(b), tags=[{"key": _required(b, "key"), "value": b.get("value", "")}]) or {},
    ("POST", "runs/delete-tag"): lambda s, b: s.delete_tag(_required(b, "run_id"), _required(b, "key")) or {},
    ("POST", "runs/log-batch"): _log_batch,
    ("POST", "runs/log-model"): _log_model,
    ("POST", "runs/log-inputs"): lambda s, b: s.log_inputs(
        _required(b, "run_id"), b.get("datasets") or [], _models(b)) or {},
    ("POST", "runs/outputs"): lambda s, b: s.link_models(_required(b, "run_id"), "output", _models(b)) or {},
    ("POST", "runs/search"): _search_runs,
    ("GET", "metrics/get-history"): lambda s, b: {"metrics": s.metric_history(_run_id(b), _required(b, "metric_key"))},
    # MLflow 3 logged models; path parameters ({model_id}, {tag_key}) arrive in the body.
    ("POST", "logged-models"): _create_logged_model,
    ("POST", "logged-models/search"): _search_logged_models,
    ("GET", "logged-models/{model_id}"): lambda s, b: {"model": s.get_logged_model(b["model_id"], _allow_deleted(b))},
    ("PATCH", "logged-models/{model_id}"): lambda s, b: {"model": s.finalize_logged_model(
        b["model_id"], _required(b, "status"))},
    ("DELETE", "logged-models/{model_id}"): lambda s, b: s.delete_logged_model(b["model_id"]) or {},
    ("PATCH", "logged-models/{model_id}/tags"): lambda s, b: {"model": s.set_logged_model_tags(
        b["model_id"], _entries(b, "tags"))},
    ("DELETE", "logged-models/{model_id}/tags/{tag_key:path}"): lambda s, b: s.delete_logged_model_tag(
        b["model_id"], b["tag_key"]) or {},
    ("POST", "logged-models/{model_id}/params"): lambda s, b: s.log_logged_model_params(
        b["model_id"], _entries(b, "params")) or {},
    ("GET", "logged-models/{model_id}/artifacts/directories"): lambda s, b: artifacts.model_listing(
        s, b["model_id"], b.get("artifact_directory_path") or ""),
    # a file answers as its bytes, not JSON
    ("GET", "logged-models/{model_id}/artifacts/files"): lambda s, b: artifacts.model_path(
        s, b["model_id"], _required(b, "artifact_file_path")),
}


def _pattern(path: str) -> re.Pattern:
    """A route path with {name} segments as a regex; {name:path} takes the rest, slashes included."""
    regex = re.sub(r"\\\{(\w+)(:path)?\\\}", lambda m: f"(?P<{m[1]}>{'.+' if m[2] else '[^/]+'})", re.escape(path))
    return re.compile(f"^{regex}$")


PATTERNS = [(method, _pattern(path), handler) for (method, path), handler in ROUTES.items() if "{" in path]


def find_route(method: str, path: str):
    """(handler, path parameters) of `path` below /api/2.0/mlflow/, or (None, {})."""
    if (method, path) in ROUTES:
        return ROUTES[(method, path)], {}
    for route_method, pattern, handler in PATTERNS:
        match = pattern.match(path) if route_method == method else None
        if match:
            return handler, match.groupdict()
    return None, {}


def _finite(value):
    """Protobuf JSON spells non-finite doubles as strings; json.dumps would emit bare NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


class TrackingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client's session reuses one connection
    timeout = 300  # an idle keep-alive connection is dropped after this
    disable_nagle_algorithm = True  # headers and body go in two writes: Nagle + delayed ACK cost 40 ms
    server: "TrackingServer"

    def log_message(self, format, *args):  # the job's own output stays clean
        pass

    def setup(self):
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self):
        self.server.connections.discard(self.connection)
        super().finish()

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_PATCH(self):
        self._serve("PATCH")

    def do_DELETE(self):
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            path = unquote(url.path)
            if path.startswith(artifacts.ROOT):
                artifacts.handle(self, method, path[len(artifacts.ROOT):], parse_qs(url.query))
                return
            if path == "/health":
                self.send_body(200, b"OK", "text/plain")
                return
            route, parameters = find_route(method, path[len(API):]) if path.startswith(API) else (None, {})
            if route is None:
                self._drain()
                raise TrackingError("ENDPOINT_NOT_FOUND", f"No endpoint {method} {url.path}")
            body = {**(self._query(url.query) if method == "GET" else self._json()), **parameters}
            answer = route(self.server.store, body)
            if isinstance(answer, Path):
                artifacts.send_file(self, answer, body.get("artifact_file_path", ""))
            else:
                self.send_json(200, answer)
        except TrackingError as error:
            if method == "PUT":  # an upload refused before its body was read
                self.close_connection = True
            self.send_json(error.status, {"error_code": error.code, "message": error.message})
        except Exception as exc:  # a fault still answers in MLflow's shape, never a traceback
            self.close_connection = True  # the request body may be unread
            self.send_json(500, {"error_code": "INTERNAL_ERROR", "message": f"{type(exc).__name__}: {exc}"})

    @staticmethod
    def _query(query: str) -> dict:
        pairs = parse_qs(query, keep_blank_values=True)
        return {k: v[0] if len(v) == 1 else v for k, v in pairs.items()}

    def _json(self) -> dict:
        raw = self.read_body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            raise TrackingError("INVALID_PARAMETER_VALUE", f"Malformed JSON in request body: {exc}") from None
        if not isinstance(body, dict):
            raise TrackingError("INVALID_PARAMETER_VALUE", "The request body must be a JSON object.")
        return body

    def read_chunks(self):
        """The request body in pieces: by Content-Length, or chunked transfer encoding."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                yield self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            piece = self.rfile.read(min(remaining, 1 << 20))
            if not piece:
                self.close_connection = True
                raise TrackingError("INVALID_PARAMETER_VALUE", "The request body ended early.")
            remaining -= len(piece)
            yield piece

    def read_body(self) -> bytes:
        return b"".join(self.read_chunks())

    def _drain(self) -> None:
        for _ in self.read_chunks():
            pass

    def send_json(self, status: int, body: dict) -> None:
        self.send_body(status, json.dumps(_finite(body)).encode(), "application/json")

    def send_body(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class TrackingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, store: TrackingStore):
        super().__init__(("127.0.0.1", 0), TrackingHandler)
        self.store = store
        self.connections: set[socket.socket] = set()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,),  # poll: shutdown waits for it
                                        name="mlflow-tracking", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "TrackingServer":
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving, drop open connections, close the socket and the database."""
        if self._thread.is_alive():
            super().shutdown()
            self._thread.join()
        for conn in list(self.connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server_close()
        self.store.close()


def start_tracking_server(workspace_dir: Path) -> tuple[TrackingServer, str]:
    """Serve the tracking API of one workspace on an ephemeral 127.0.0.1 port, in a thread."""
    server = TrackingServer(TrackingStore(workspace_dir)).start()
    return server, server.url


def job_environment(url: str, run: dict) -> dict[str, str]:
    """The variables that make a job's `mlflow` calls log to its own run on this server."""
    return {"MLFLOW_TRACKING_URI": url, "MLFLOW_RUN_ID": run["info"]["run_id"],
            "MLFLOW_EXPERIMENT_ID": run["info"]["experiment_id"],
            # the client would print links to a web UI, which this server does not have
            "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}
