"""Latency of a few official-SDK calls through `ml local serve`, beside the same REST calls in-process.

    python benchmarks/serve.py [--repeat 30] [--oracle /opt/oracle/bin/python]

Starts `ml local serve` on a temp ML_HOME holding one data asset and one model, then prints the median
and p90 latency (ms) of each call three ways: the REST request answered in-process (LocalHome.handle,
what LocalTransport does), the same request as plain httpx through the served HTTPS proxy (TLS and the
gateway), and the SDK call (azure-ai-ml in its own interpreter, token cached after a warm-up call).
Nothing is asserted: the numbers show what the proxy costs and what the SDK adds on top.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "serve")]

WS = "benchws"
SUB_RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local"
WS_PATH = f"{SUB_RG}/providers/Microsoft.MachineLearningServices/workspaces/{WS}"
API = "api-version=2025-12-01"
# (label, the REST path the SDK call sends, the SDK call)
CALLS = [
    ("workspaces.get", f"{WS_PATH}?{API}", f"client.workspaces.get('{WS}')"),
    ("data.get", f"{WS_PATH}/data/table/versions/1?{API}", "client.data.get('table', version='1')"),
    ("models.list", f"{WS_PATH}/models?{API}", "list(client.models.list())"),
    ("jobs.list", f"{WS_PATH}/jobs?{API}", "list(client.jobs.list())"),
]

SDK_SCRIPT = """
import json, os, sys, time
from azure.ai.ml import MLClient
from azure.identity import DefaultAzureCredential
client = MLClient(DefaultAzureCredential(), os.environ["ML_SUBSCRIPTION"], os.environ["ML_RESOURCE_GROUP"],
                  os.environ["ML_WORKSPACE"])
calls, repeat = json.loads(sys.argv[1]), int(sys.argv[2])
out = {}
for label, code in calls:
    eval(code)  # warm: token, metadata, the SDK's lazy imports
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        eval(code)
        times.append(time.perf_counter() - start)
    out[label] = times
print(json.dumps(out))
"""


def _stats(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"{statistics.median(ordered) * 1000:8.1f} {p90 * 1000:7.1f}"


def _prepare(home: Path, work: Path) -> None:
    env = {**os.environ, "ML_HOME": str(home), "PYTHONPATH": str(REPO)}
    (work / "table.csv").write_text("a,b\n1,2\n")
    (work / "model").mkdir()
    (work / "model" / "model.pkl").write_text("weights")
    for args in (("data", "create", "-n", "table", "-p", "table.csv", "--type", "uri_file"),
                 ("model", "create", "-n", "clf", "-p", "model", "--type", "custom_model")):
        subprocess.run([sys.executable, "-m", "cli", *args, "-w", WS, "-o", "none"], cwd=work, env=env, check=True)


def _in_process(home: Path, repeat: int) -> dict:
    import httpx

    from cli.local.home import LocalHome

    local = LocalHome(home, WS)
    out = {}
    try:
        for label, path, _ in CALLS:
            request = lambda: httpx.Request("GET", f"https://management.ml.invalid{path}")  # noqa: E731
            local.handle(request()).read()
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                local.handle(request()).read()
                times.append(time.perf_counter() - start)
            out[label] = times
    finally:
        local.close()
    return out


def _served_httpx(env: dict, repeat: int) -> dict:
    import httpx
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential(env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"],
                                        authority=env["AZURE_AUTHORITY_HOST"], proxies={"https": env["HTTPS_PROXY"]},
                                        connection_verify=env["REQUESTS_CA_BUNDLE"])
    token = credential.get_token("https://management.ml.invalid/.default").token
    verify = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
    out = {}
    with httpx.Client(proxy=env["HTTPS_PROXY"], verify=verify, trust_env=False, timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        for label, path, _ in CALLS:
            url = f"https://management.ml.invalid{path}"
            client.get(url).raise_for_status()
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                client.get(url).raise_for_status()
                times.append(time.perf_counter() - start)
            out[label] = times
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--oracle", default=os.environ.get("ML_ORACLE_PYTHON") or "/opt/oracle/bin/python")
    options = parser.parse_args()
    from served import start

    with tempfile.TemporaryDirectory() as tmp_text:
        tmp = Path(tmp_text)
        home, work = tmp / "home", tmp / "work"
        work.mkdir()
        _prepare(home, work)
        os.environ["ML_HOME"] = str(home)
        served = start(WS, tmp, env={"ML_HOME": str(home)})
        try:
            in_process = _in_process(home, options.repeat)
            over_https = _served_httpx(served.env, options.repeat)
            sdk = None
            if Path(options.oracle).is_file():
                done = subprocess.run([options.oracle, "-c", SDK_SCRIPT, json.dumps([(c[0], c[2]) for c in CALLS]),
                                       str(options.repeat)], env=served.client_env(), capture_output=True, text=True,
                                      timeout=600)
                if done.returncode == 0:
                    sdk = json.loads(done.stdout.strip().splitlines()[-1])
                else:
                    print(f"the SDK run failed: {done.stderr[-1500:]}", file=sys.stderr)
        finally:
            served.stop()
    print(f"{options.repeat} calls each; median and p90 in ms")
    print(f"{'call':16} {'in-process':>16} {'httpx via serve':>16} {'SDK via serve':>16}")
    for label, _, _ in CALLS:
        sdk_text = _stats(sdk[label]) if sdk else "   (no SDK)     "
        print(f"{label:16} {_stats(in_process[label])} {_stats(over_https[label])} {sdk_text}")


if __name__ == "__main__":
    main()
