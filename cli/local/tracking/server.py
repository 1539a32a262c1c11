"""The MLflow REST API (2.0) over a TrackingStore, served on 127.0.0.1 for the processes of one local job.

Field names and routes follow mlflow/protos/service.proto (as used by mlflow's RestStore) and the
mlflow-artifacts endpoints of HttpArtifactRepository. It is a cli.local.app app like every local
service: the routes sit in a cli.local.router.Router, errors are the one wire error in MLflow's shape
(`{"error_code": ..., "message": ...}`, never a traceback), and cli.local.serving serves it. Every
request needs the server's token (`Authorization: Bearer`, which the mlflow client sends from
MLFLOW_TRACKING_TOKEN); a job's token reaches its own runs only (cli.local.tracking.scope).
"""

from __future__ import annotations

import functools
import json
import math
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

import httpx

from cli.local.http import ApiError, Call, Request
from cli.local.router import ANY_HOST, Router
from cli.local.tracking import artifacts
from cli.local.tracking.errors import TrackingError
from cli.local.tracking.scope import PARENT_TAG, RunScope
from cli.local.tracking.shared import JobTokens
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


def _finite(value):
    """Protobuf JSON spells non-finite doubles as strings; json.dumps would emit bare NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def mlflow_json(body: dict, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(_finite(body)).encode(),
                          headers={"Content-Type": "application/json"})


def _request_body(call: Call) -> dict:
    """A GET's query, or a JSON object body; path parameters on top."""
    if call.request.method == "GET":
        pairs = parse_qs(call.request.url.query.decode(), keep_blank_values=True)
        body = {k: v[0] if len(v) == 1 else v for k, v in pairs.items()}
    else:
        try:
            body = json.loads(call.request.content or b"{}")
        except ValueError as exc:
            raise TrackingError("INVALID_PARAMETER_VALUE", f"Malformed JSON in request body: {exc}") from None
        if not isinstance(body, dict):
            raise TrackingError("INVALID_PARAMETER_VALUE", "The request body must be a JSON object.")
    return {**body, **call.params}


def _guard(scope: RunScope, path: str, body: dict) -> None:
    """Refuse what lies outside the job's runs, before the store is touched."""
    for key in ("run_id", "run_uuid", "source_run_id"):
        if body.get(key):
            scope.check_run(body[key])
    if body.get("model_id"):
        scope.check_model(body["model_id"])
    for model in body.get("models") or () if isinstance(body.get("models"), list) else ():
        if isinstance(model, dict) and model.get("model_id"):
            scope.check_model(model["model_id"])
    for tag in body.get("tags") or () if path == "runs/create" and isinstance(body.get("tags"), list) else ():
        if isinstance(tag, dict) and tag.get("key") == PARENT_TAG:
            scope.check_run(tag.get("value"))


def _in_scope(scope: RunScope, path: str, answer):
    """Note what the job created, and keep only its own runs and models in search results."""
    if path == "runs/create":
        scope.add_run(answer["run"]["info"]["run_id"])
    elif path == "logged-models" and isinstance(answer, dict):
        scope.add_model(answer["model"]["info"]["model_id"])
    elif path == "runs/search":
        answer["runs"] = [r for r in answer["runs"] if scope.has_run(r["info"]["run_id"])]
    elif path == "logged-models/search":
        answer["models"] = [m for m in answer["models"] if scope.has_model(m["info"]["model_id"])]
    return answer


def _mlflow_handler(path: str, route):
    def handler(call: Call) -> httpx.Response:
        body = _request_body(call)
        scope = call.service.scope
        if scope is not None:
            _guard(scope, path, body)
        answer = route(call.service.store, body)
        if scope is not None:
            answer = _in_scope(scope, path, answer)
        if isinstance(answer, Path):
            return artifacts.file_response(answer, body.get("artifact_file_path", ""))
        return mlflow_json(answer)

    return handler


def _health(call: Call) -> httpx.Response:
    return httpx.Response(200, content=b"OK", headers={"Content-Type": "text/plain"})


def build_router() -> Router:
    router = Router()
    for (method, path), route in ROUTES.items():
        template = API + path.replace(":path}", "*}")
        router.add(ANY_HOST, method, template, _mlflow_handler(path, route))
    artifacts.register(router)
    router.add(ANY_HOST, "GET", "/health", _health)
    return router


@functools.cache
def _routes() -> tuple:
    return tuple(build_router().routes)


def shared_router() -> Router:
    """A router of the tracking routes, built once per process (and in a pipeline's runner before it
    forks its steps' runners): each step's server would otherwise build the same one again."""
    router = Router()
    router.routes = list(_routes())
    return router


@dataclass
class JobView:
    """What a handler sees of the server for one request: the store, and the caller's job's scope."""

    store: TrackingStore
    scope: RunScope | None


class TrackingServer:
    """The tracking API of one workspace's store, served on 127.0.0.1 behind a bearer token.

    With `job_run`, the token reaches that run's scope only (RunScope); without, the workspace's runs.
    With `tokens` (the children's server, shared.py), each request's token names its job, and the
    request reaches that job's scope only."""

    def __init__(self, store: TrackingStore, *, token: str | None = None, job_run: str | None = None,
                 tokens: JobTokens | None = None):
        self.store = store
        self.token = token or secrets.token_urlsafe(32)
        self.scope = RunScope(store, job_run) if job_run else None
        self.tokens = tokens
        self._scopes: dict[str, RunScope] = {}
        self._scopes_lock = threading.Lock()
        self.router = shared_router()
        self._served = None

    def answer(self, request: Request) -> httpx.Response:
        handler, params = self.router.resolve("", request.method, request.url.raw_path.split(b"?")[0].decode())
        return handler(Call(self if self.tokens is None else self._job_view(request), request, params, {}))

    def _job_view(self, request: Request) -> JobView:
        job = self.tokens.job_of(request.headers.get("authorization", "").partition(" ")[2].strip())
        if job is None:  # the policy let no such request in; answered the same way all the same
            raise TrackingError.http(401, "Unauthenticated",
                                     "A valid 'Authorization: Bearer <token>' header is required.")
        with self._scopes_lock:
            scope = self._scopes.get(job) or self._scopes.setdefault(job, RunScope(self.store, job))
        return JobView(self.store, scope)

    @property
    def app(self):
        from cli.local.app import Policy, make_app

        if self.tokens is None:
            policy = Policy(self.token)
        else:
            policy = Policy("", verify=lambda token: self.tokens.job_of(token) is not None)
        return make_app(self._answer_or_not_found, policy=policy, error=TrackingError.http)

    def answer_api(self, request: Request) -> httpx.Response:
        """Answer one request (its path relative to this API's root); errors in MLflow's shape."""
        return self._answer_or_not_found(request)

    def _answer_or_not_found(self, request: Request) -> httpx.Response:
        try:
            return self.answer(request)
        except TrackingError:
            raise
        except ApiError as error:  # no such route (404/405) or an undecodable path (400)
            raise TrackingError.http(error.status, error.code, f"No endpoint {request.method} {request.url.path}"
                                     if error.status in (404, 405) else error.message) from None

    @property
    def url(self) -> str:
        return self._served.url

    @property
    def port(self) -> int:
        return self._served.port

    def start(self, wait: bool = True) -> "TrackingServer":
        from cli.local.serving import serve

        self._served = serve(self.app, name="mlflow-tracking", wait=wait)
        return self

    def shutdown(self) -> None:
        """Stop serving, drop open connections, free the port and close the database."""
        try:
            if self._served is not None:
                self._served.close()
        finally:
            self.store.close()


def start_tracking_server(workspace_dir: Path | None = None, *, store: TrackingStore | None = None,
                          job_run: str | None = None, wait: bool = True) -> tuple[TrackingServer, str]:
    """Serve the tracking API of one workspace (or of an open `store`) on an ephemeral 127.0.0.1 port,
    in a thread.

    `job_run`: limit the server's token to that run and the runs below it. `wait` False: return as
    soon as the port listens (the job's first request waits in the backlog until the loop runs)."""
    server = TrackingServer(store or TrackingStore(workspace_dir), job_run=job_run).start(wait=wait)
    return server, server.url


def job_environment(url: str, run: dict, token: str) -> dict[str, str]:
    """The variables that make a job's `mlflow` calls log to its own run on this server, with its token."""
    return {"MLFLOW_TRACKING_URI": url, "MLFLOW_TRACKING_TOKEN": token, "MLFLOW_RUN_ID": run["info"]["run_id"],
            "MLFLOW_EXPERIMENT_ID": run["info"]["experiment_id"],
            # the client would print links to a web UI, which this server does not have
            "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}
