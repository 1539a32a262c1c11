"""Local online endpoints, measured: ml's scoring worker and router against azureml-inference-server-http.

Prints:
- requests/s and p50/p99 latency of one deployment with one worker under wrk (16 connections), for a
  trivial score.py and for the online example's scikit-learn score.py, through ml's router (what a user
  calls), straight to ml's worker, and to azureml-inference-server-http (`azmlinfsrv`, one worker) serving
  the same score.py and model;
- the router's added latency: p50 of sequential requests (one connection) through the router minus
  straight to the worker;
- the traffic split: how 1,000 invokes at blue 90 / green 10 were routed;
- time from `ml online-deployment create` to the first answer (environment already built).

Needs wrk on PATH (apt-get install wrk) and, for the comparison, a venv with azureml-inference-server-http,
scikit-learn and joblib: `--aish /path/to/venv` (made with `uv venv X && uv pip install --python X/bin/python
azureml-inference-server-http scikit-learn joblib`); without it those rows are left out.
Run: python benchmarks/endpoints.py [--aish VENV] [--seconds 10]. Numbers compare rows on one machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "specs" / "examples" / "online-endpoint"
TRIVIAL = "def init():\n    pass\n\n\ndef run(raw_data):\n    return {'ok': True}\n"
SKLEARN_ENV = "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"


def ml(home: Path, *args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "ML_HOME": str(home),
                   "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))}
    result = subprocess.run([sys.executable, "-m", "cli", *args], env=env, cwd=cwd, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"ml {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def wrk(url: str, body: str, token: str | None, seconds: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of wrk with 16 connections, 2 threads."""
    script = Path(tempfile.mkdtemp()) / "post.lua"
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    script.write_text("wrk.method = 'POST'\nwrk.body = " + json.dumps(body) + "\n"
                      + "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items()))
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        print(f"  (!) {non2xx[1]} non-2xx answers from {url}")

    def pct(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return rate, pct("50"), pct("99")


def sequential_p50(url: str, body: str, token: str | None, count: int = 500) -> float:
    import httpx

    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    times = []
    with httpx.Client() as client:
        for _ in range(count):
            started = time.perf_counter()
            client.post(url, content=body, headers=headers).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def deployment_spec(folder: Path, name: str, model: Path, code: Path) -> Path:
    spec = folder / f"{name}.yml"
    spec.write_text(f"name: {name}\nendpoint_name: bench\nmodel:\n  path: {model}\ncode_configuration:\n"
                    f"  code: {code}\n  scoring_script: score.py\nenvironment: {SKLEARN_ENV}\n"
                    "instance_type: Standard_DS3_v2\ninstance_count: 1\nrequest_settings:\n"
                    "  max_concurrent_requests_per_instance: 64\n")
    return spec


def start_worker(home: Path, python: Path, code: Path, model_dir: Path) -> tuple[subprocess.Popen, str, str]:
    """ml's scoring worker on its own (no router), as the router starts it."""
    from cli.local.endpoints import serving_site

    port, token = free_port(), secrets.token_urlsafe(16)
    env = {**os.environ, "PYTHONPATH": str(REPO), "ML_SERVING_SITE": serving_site.folders(home, python, print),
           "ML_SCORING_SCRIPT": str(code / "score.py"), "AZUREML_MODEL_DIR": str(model_dir),
           "ML_WORKER_PORT": str(port), "ML_WORKER_TOKEN": token, "ML_MAX_CONCURRENT": "64"}
    log = home / f"direct-worker-{port}.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen([str(python), "-m", "cli.local.endpoints.worker"], cwd=code, env=env,
                                   stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/")
    print(f"  direct worker: {log.read_text().strip()}", file=sys.stderr)
    return process, f"http://127.0.0.1:{port}/score", token


def start_aish(venv: Path, code: Path, model_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "AZUREML_MODEL_DIR": str(model_dir), "WORKER_COUNT": "1"}
    process = subprocess.Popen([str(venv / "bin" / "azmlinfsrv"), "--entry_script", str(code / "score.py"),
                                "--model_dir", str(model_dir), "--port", str(port)], cwd=code, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/", timeout=180)
    return process, f"http://127.0.0.1:{port}/score"


def stop(process: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def measure(kind: str, targets: dict, body: str, seconds: int, rounds: int) -> dict:
    """wrk on each target (name -> (url, token)), interleaved, `rounds` times: name -> [(req/s, p50, p99)]."""
    results = {name: [] for name in targets}
    for round_ in range(rounds):
        for name, (url, token) in targets.items():
            results[name].append(wrk(url, body, token, seconds))
            print(f"  {kind} round {round_ + 1}: {name}: {results[name][-1][0]:.0f} req/s", file=sys.stderr, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aish", type=Path, help="venv with azureml-inference-server-http, scikit-learn, joblib")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="each measurement this many times, interleaved "
                        "(the machine may be shared: compare the ratios of one round)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not on PATH (apt-get install wrk)")
    sys.path.insert(0, str(REPO))
    work = Path(tempfile.mkdtemp(prefix="ml-bench-endpoints-"))
    home = work / "home"
    models = work / "models"  # AZUREML_MODEL_DIR of the servers started here: it holds model/model.pkl
    model = models / "model"
    model.mkdir(parents=True)
    (model / "model.pkl").write_bytes(b"placeholder: trained below, in the deployment's own environment")
    codes = {"trivial": work / "trivial", "sklearn": EXAMPLE / "score"}
    codes["trivial"].mkdir()
    (codes["trivial"] / "score.py").write_text(TRIVIAL)
    body = (EXAMPLE / "sample-request.json").read_text()
    (work / "endpoint.yml").write_text("name: bench\nauth_mode: key\n")
    ml(home, "online-endpoint", "create", "-f", str(work / "endpoint.yml"), "-o", "none")
    rows = []
    try:
        started = time.monotonic()
        ml(home, "online-deployment", "create", "-f", str(deployment_spec(work, "warm", model, codes["trivial"])),
           "-o", "none")
        first_build = time.monotonic() - started
        uri = ml(home, "online-endpoint", "show", "-n", "bench", "--query", "scoring_uri", "-o", "tsv").strip()
        key = json.loads(ml(home, "online-endpoint", "get-credentials", "-n", "bench"))["primaryKey"]
        venv = Path(re.search(r"environment \S+ \(Python [\d.]+\): (\S+)",
                              ml(home, "online-deployment", "get-logs", "-n", "warm", "-e", "bench"))[1])
        # the example's model, trained by its job's script in the environment that serves it
        subprocess.run([str(venv / "bin" / "python"), str(EXAMPLE / "train" / "train.py"), "--model", str(model)],
                       check=True, capture_output=True)
        model_dir = models
        for kind in ("trivial", "sklearn"):
            import httpx

            name = f"{kind[:5]}"
            started = time.monotonic()
            ml(home, "online-deployment", "create", "-f", str(deployment_spec(work, name, model, codes[kind])),
               "-o", "none")
            while httpx.post(uri, content=body, headers={"Authorization": f"Bearer {key}",
                                                         "azureml-model-deployment": name}).status_code != 200:
                time.sleep(0.01)
            to_first = time.monotonic() - started
            ml(home, "online-endpoint", "update", "-n", "bench", "--traffic", f"{name}=100", "-o", "none")
            servers = []
            try:
                worker, worker_url, token = start_worker(home, venv / "bin" / "python", codes[kind], model_dir)
                servers.append(worker)
                targets = {"router": (uri, key), "worker": (worker_url, token)}
                if args.aish:
                    server, aish_url = start_aish(args.aish, codes[kind], model_dir)
                    servers.append(server)
                    targets["aish"] = (aish_url, None)
                results = measure(kind, targets, body, args.seconds, args.rounds)
                added = [sequential_p50(uri, body, key) - sequential_p50(worker_url, body, token)
                         for _ in range(args.rounds)]
            finally:
                for server in servers:
                    stop(server)
            rows.append((kind, to_first, results, added))

        # the split, measured over 1,000 invokes at 90/10
        ml(home, "online-endpoint", "update", "-n", "bench", "--traffic", "trivi=90 sklea=10", "-o", "none")
        import httpx

        counts = {}
        with httpx.Client() as client:
            for _ in range(1000):
                answer = client.post(uri, content=body, headers={"Authorization": f"Bearer {key}"})
                counts[answer.headers["azureml-model-deployment"]] = counts.get(answer.headers["azureml-model-deployment"], 0) + 1
    finally:
        ml(home, "online-endpoint", "delete", "-n", "bench", "--yes")
        shutil.rmtree(work, ignore_errors=True)

    labels = {"router": "ml, through the router (user path)", "worker": "ml worker, direct (no router)",
              "aish": "azureml-inference-server-http"}
    print(f"\nfirst deployment (environment {'built' if first_build > 60 else 'reused'}): {first_build:.1f} s to Succeeded")
    print(f"one deployment, one worker, wrk 16 connections, {args.seconds} s per run, {args.rounds} interleaved rounds")
    for kind, to_first, results, added in rows:
        print(f"\n{kind} score.py{'':25} " + " | ".join(f"{'round ' + str(r + 1):^24}" for r in range(args.rounds)))
        print(f"{'':38} " + " | ".join(f"{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}" for _ in range(args.rounds)))
        for name, runs in results.items():
            print(f"{labels[name]:38} " + " | ".join(f"{r[0]:8.0f}{r[1]:8.2f}{r[2]:8.2f}" for r in runs))
        if "aish" in results:
            for name in ("router", "worker"):
                print(f"{'ratio ' + name + ' / azmlinfsrv':38} " + " | ".join(
                    f"{ml_[0] / ai[0]:7.2f}x req/s p99 {ml_[2] / ai[2]:4.2f}x"
                    for ml_, ai in zip(results[name], results["aish"])))
        print(f"{'router added p50 under load (ms)':38} " + " | ".join(
            f"{r[1] - w[1]:24.2f}" for r, w in zip(results["router"], results["worker"])))
        print(f"{'router added p50, one connection (ms)':38} " + " | ".join(f"{a:24.2f}" for a in added))
        print(f"create -> first answer: {to_first:.1f} s")
    total = sum(counts.values())
    print(f"\nsplit over {total} invokes at 90/10: " + ", ".join(f"{k} {100 * v / total:.1f}%" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
