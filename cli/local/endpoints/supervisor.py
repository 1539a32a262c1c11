"""Keeps an endpoint's scoring workers equal to what the store says, inside the router process.

A deployment's "generation" is the hash of its body (model, code, environment, settings, instance count).
A new generation is built beside the live one (venv, model folder, workers started and probed ready), then
swapped in, and the old workers are stopped once their in-flight requests have answered: an update drops no
request. A worker that exits, or fails its liveness probe failure_threshold times, is restarted and the
restart is logged and counted in the deployment's properties (`WorkerRestarts`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cli.local.endpoints import serving_site
from cli.local.endpoints.router import Routing
from cli.rest.common import duration_seconds

@dataclass
class Worker:
    process: subprocess.Popen
    port: int
    token: str
    log: Path
    unix: str = ""  # the name of its abstract Unix socket, the router's way in (Linux), else ""
    inflight: int = 0
    failures: int = 0
    next_probe: float = 0.0  # time.monotonic() of its next liveness probe (0: not yet scheduled)
    idle: list = field(default_factory=list)  # kept-alive connections of the router to this worker


@dataclass
class Generation:
    key: str
    workers: list = field(default_factory=list)
    timeout_s: float = 5.0
    launch: object = None  # how to start one more worker of this generation (a restart)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generation_key(body: dict) -> str:
    props = {k: v for k, v in (body.get("properties") or {}).items() if k not in ("provisioningState", "properties")}
    return hashlib.sha256(json.dumps([props, body.get("sku")], sort_keys=True).encode()).hexdigest()[:16]


class Supervisor:
    def __init__(self, home: Path, workspace: str, endpoint: str, router):
        from cli.local.service import LocalWorkspaceService

        self.home, self.workspace, self.endpoint, self.router = Path(home), workspace, endpoint, router
        self.service = LocalWorkspaceService(self.home, workspace)
        self.endpoint_id = self.service.arm_id("onlineEndpoints", endpoint)
        self.live: dict[str, Generation] = {}
        self.building: dict[str, str] = {}  # deployment -> generation key being built
        self.lock = threading.Lock()

    # ---- the loop

    def reconcile(self) -> bool:
        """One pass; False when the endpoint no longer exists."""
        store = self.service.store
        endpoint = store.get(self.endpoint_id)
        if endpoint is None:
            return False
        records = {r.name: r for r in store.list("onlineEndpoints/deployments", self.endpoint_id, archived=None)}
        for name, record in records.items():
            key = generation_key(record.body)
            live = self.live.get(name)
            if (live is None or live.key != key) and self.building.get(name) != key:
                self.building[name] = key
                threading.Thread(target=self._build, args=(name, record.body, key), daemon=True).start()
        for name in [n for n in self.live if n not in records]:
            with self.lock:
                gone = self.live.pop(name)
            self._publish(endpoint.body)
            self._stop(gone.workers)
        self._check_health(records)
        self._publish(endpoint.body)
        return True

    def publish_now(self) -> None:
        """Publish the endpoint's stored routing (traffic, mirror, auth) at once, between passes."""
        endpoint = self.service.store.get(self.endpoint_id)
        if endpoint is not None:
            self._publish(endpoint.body)

    def _publish(self, endpoint_body: dict) -> None:
        props = endpoint_body.get("properties") or {}
        with self.lock:
            self.router.routing = Routing(props.get("authMode", "Key"), props.get("traffic"), props.get("mirrorTraffic"),
                                          dict(self.live))

    # ---- building a generation

    def _log(self, deployment: str, line: str) -> None:
        path = self.router.root / deployment / "deployment.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {line}\n")

    def _build(self, name: str, body: dict, key: str) -> None:
        try:
            generation = self._start_generation(name, body, key)
        except Exception as exc:  # whatever failed, the deployment says so (Failed, with the reason)
            self._log(name, f"generation {key} failed: {exc}")
            self._set_state(name, key, "Failed", str(exc))
            if self.building.get(name) == key:
                self.building.pop(name, None)
            return
        if self.building.get(name) != key or self.service.store.get(self.endpoint_id) is None:
            self._stop(generation.workers)  # superseded while it was built
            return
        with self.lock:
            old = self.live.get(name)
            self.live[name] = generation
        endpoint = self.service.store.get(self.endpoint_id)
        if endpoint is not None:
            self._publish(endpoint.body)
        self.building.pop(name, None)
        self._set_state(name, key, "Succeeded")
        self._log(name, f"generation {key} is live ({len(generation.workers)} worker(s))")
        if old is not None:
            self._drain(old)

    def _start_generation(self, name: str, body: dict, key: str) -> Generation:
        from cli.local.runner import environment, job_env
        from cli.local.runner.data import DataResolver

        props = body.get("properties") or {}
        self._log(name, f"building generation {key}")
        resolver = DataResolver(self.service)
        folder = self.router.root / name / key
        folder.mkdir(parents=True, exist_ok=True)
        model_id, models = props.get("model"), folder / "azureml-models"
        if model_id:
            record = self.service.store.get(model_id)
            if record is None:
                raise RuntimeError(f"model {model_id.rsplit('/models/', 1)[-1]} does not exist in this workspace")
            source = resolver.local_path(record.body["properties"]["modelUri"])
            models.mkdir(exist_ok=True)
            _place_model(source, models / source.name)
        code = props.get("codeConfiguration") or {}
        say = lambda line: self._log(name, line)  # noqa: E731
        if model_id and not code.get("codeId") and not props.get("environmentId"):
            python_env = _mlflow_environment(self.home, models, say)  # a no-code MLflow deployment
        else:
            python_env = environment.prepare(self.service, props.get("environmentId"), self.home, progress=say)
        for notice in python_env.notices:
            self._log(name, notice)
        env = python_env.apply(job_env.filtered(os.environ))
        if model_id:
            env["AZUREML_MODEL_DIR"] = str(models)
        cwd = folder
        if code.get("codeId"):
            record = self.service.store.get(code["codeId"])
            if record is None:
                raise RuntimeError(f"code {code['codeId']} does not exist in this workspace")
            cwd = resolver.local_path(record.body["properties"]["codeUri"])
            env["ML_SCORING_SCRIPT"] = str(cwd / code.get("scoringScript", "score.py"))
        elif not model_id:
            raise RuntimeError("a deployment needs a scoring script (code_configuration) or an MLflow model")
        settings = props.get("requestSettings") or {}
        timeout_ms = _millis(settings.get("requestTimeout"), 5000)
        package_root = str(Path(__file__).resolve().parents[3])
        site = serving_site.folders(self.home, python_env.bin_dir / "python", lambda line: self._log(name, line))
        env.update({"PYTHONPATH": package_root, "ML_SERVING_SITE": site,
                    "ML_MAX_CONCURRENT": str(settings.get("maxConcurrentRequestsPerInstance") or 1),
                    "ML_REQUEST_TIMEOUT_MS": str(timeout_ms), "AZUREML_ENTRY_SCRIPT": env.get("ML_SCORING_SCRIPT", ""),
                    "PYTHONUNBUFFERED": "1"})
        env.update({k: str(v) for k, v in (props.get("environmentVariables") or {}).items()})
        python = str(python_env.bin_dir / "python")
        count = int((body.get("sku") or {}).get("capacity") or 1)
        generation = Generation(key, timeout_s=timeout_ms / 1000)

        def launch(index: int) -> Worker:
            port, token = _free_port(), secrets.token_urlsafe(24)
            # the router talks to its workers over Unix sockets where there are abstract ones (no file to
            # clean up): a quarter less CPU per request than loopback TCP (benchmarks/endpoints.py); the
            # TCP port stays for probes and for measuring a worker alone. Both demand the token.
            unix = f"ml-worker-{secrets.token_hex(8)}" if sys.platform == "linux" else ""
            log = folder / f"worker-{index}.log"
            with open(log, "ab") as handle:
                process = subprocess.Popen([python, "-m", "cli.local.endpoints.worker"], cwd=str(cwd),
                                           env={**env, "ML_WORKER_PORT": str(port), "ML_WORKER_TOKEN": token,
                                                "ML_WORKER_UNIX": unix},
                                           stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
                                           start_new_session=True)
            return Worker(process, port, token, log, unix)

        generation.launch = launch
        workers = [launch(i) for i in range(count)]
        probe = props.get("readinessProbe") or {}
        try:
            for worker in workers:
                self._wait_ready(worker, probe)
        except Exception:
            self._stop(workers)
            raise
        generation.workers = workers
        return generation

    def _wait_ready(self, worker: Worker, probe: dict) -> None:
        """The readiness probe: initial delay, then GET / every period until it answers 200."""
        import httpx

        time.sleep(min(duration_seconds(probe.get("initialDelay")) or 0, 600))
        period = max(0.05, min(duration_seconds(probe.get("period")) or 0.1, 0.25))
        timeout = duration_seconds(probe.get("timeout")) or 2
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if worker.process.poll() is not None:
                tail = worker.log.read_text(errors="replace")[-1500:]
                raise RuntimeError(f"the scoring worker exited with code {worker.process.returncode} at start:\n{tail}")
            try:
                if httpx.get(f"http://127.0.0.1:{worker.port}/", timeout=timeout).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(period)
        raise RuntimeError("the scoring worker did not become ready in 600 s")

    # ---- health and restarts

    def _check_health(self, records: dict) -> None:
        for name, generation in list(self.live.items()):
            record = records.get(name)
            probe = ((record.body.get("properties") or {}).get("livenessProbe") or {}) if record else {}
            for index, worker in enumerate(list(generation.workers)):
                if worker.process.poll() is None and not self._liveness_failed(worker, probe):
                    continue
                reason = (f"exited with code {worker.process.returncode}" if worker.process.poll() is not None
                          else "failed its liveness probe")
                self._log(name, f"worker {index} (pid {worker.process.pid}) {reason}; restarting it")
                self._stop([worker])
                try:
                    fresh = generation.launch(index)
                    self._wait_ready(fresh, {})
                except Exception as exc:
                    self._log(name, f"worker {index} could not be restarted: {exc}")
                    continue
                workers = list(generation.workers)
                workers[index] = fresh
                generation.workers = workers
                self._count_restart(name)

    def _liveness_failed(self, worker: Worker, probe: dict) -> bool:
        """The liveness probe as Azure's: GET /live after initial_delay, every period; failure_threshold
        failures in a row (no answer within timeout, or not 200) fail it."""
        if not probe:
            return False
        import httpx

        now = time.monotonic()
        if not worker.next_probe:
            worker.next_probe = now + (duration_seconds(probe.get("initialDelay")) or 0)
        if now < worker.next_probe:
            return False
        worker.next_probe = now + max(duration_seconds(probe.get("period")) or 10, 0.1)
        try:
            ok = httpx.get(f"http://127.0.0.1:{worker.port}/live",
                           timeout=duration_seconds(probe.get("timeout")) or 2).status_code == 200
        except httpx.TransportError:
            ok = False
        worker.failures = 0 if ok else worker.failures + 1
        return worker.failures >= int(probe.get("failureThreshold") or 30)

    def _count_restart(self, name: str) -> None:
        store = self.service.store
        with store.transaction() as conn:
            record = store.get(self.service.arm_id("onlineEndpoints", self.endpoint, "deployments", name), conn)
            if record is None:
                return
            body = json.loads(json.dumps(record.body))
            bag = body["properties"].setdefault("properties", {})
            bag["WorkerRestarts"] = str(int(bag.get("WorkerRestarts", "0")) + 1)
            store.upsert(conn, record.id, "onlineEndpoints/deployments", self.endpoint_id, name, body)

    # ---- state and stopping

    def _set_state(self, name: str, key: str, state: str, reason: str | None = None) -> None:
        store = self.service.store
        with store.transaction() as conn:
            record = store.get(self.service.arm_id("onlineEndpoints", self.endpoint, "deployments", name), conn)
            if record is None or generation_key(record.body) != key:
                return  # deleted or changed meanwhile: a newer generation will report
            body = json.loads(json.dumps(record.body))
            body["properties"]["provisioningState"] = state
            bag = body["properties"].setdefault("properties", {})
            if reason:
                bag["FailureReason"] = reason[-2000:]
            else:
                bag.pop("FailureReason", None)
            store.upsert(conn, record.id, "onlineEndpoints/deployments", self.endpoint_id, name, body)

    def _drain(self, generation: Generation) -> None:
        """Stop an old generation once every request it took has answered (at most its timeout + 5 s)."""
        time.sleep(0.5)  # requests that picked a worker just before the swap are counted by now
        deadline = time.monotonic() + generation.timeout_s + 5
        while time.monotonic() < deadline and any(w.inflight for w in generation.workers):
            time.sleep(0.05)
        self._stop(generation.workers)

    def _stop(self, workers: list) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for worker in workers:
                try:
                    os.killpg(worker.process.pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and any(w.process.poll() is None for w in workers):
                time.sleep(0.05)

    def stop_all(self) -> None:
        with self.lock:
            generations = list(self.live.values())
            self.live.clear()
        for generation in generations:
            self._stop(generation.workers)


def _mlflow_environment(home: Path, models: Path, say):
    """The venv of a no-code MLflow deployment, from the model's own requirements."""
    from cli.local.endpoints import mlflow_environment, mlflow_scorer
    from cli.local.environments import builder
    from cli.local.runner.environment import PythonEnvironment

    root = Path(mlflow_scorer.model_root(str(models)))
    wanted = mlflow_environment.definition(root)
    built = builder.ensure(wanted, builder.environments_root(home), say)
    notices = wanted.notices + built.notices
    notices.append(f"{'built' if built.built_now else 'reusing'} environment {wanted.label}"
                   f" (Python {built.python}): {built.venv}")
    return PythonEnvironment(built.venv / "bin", notices, built.venv, built.build_log)


def _place_model(source: Path, target: Path) -> None:
    """The model's files under AZUREML_MODEL_DIR as real entries (scripts walk it with os.walk, which does
    not enter a linked folder): hard links to the workspace's copy, a copy where links cannot be made."""
    import shutil

    if target.is_symlink():
        target.unlink()
    if target.exists():
        return
    if source.is_file():
        _link_or_copy(str(source), str(target))
    else:
        shutil.copytree(source, target, copy_function=_link_or_copy)


def _link_or_copy(source: str, target: str) -> None:
    import shutil

    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _millis(value: str | None, default: int) -> int:
    import re

    match = re.fullmatch(r"PT([\d.]+)S", value or "")
    if match:
        return int(float(match[1]) * 1000)
    seconds = duration_seconds(value)
    return default if seconds is None else seconds * 1000

