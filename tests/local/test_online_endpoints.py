"""Online endpoints on the local workspace: real routers and scoring workers on 127.0.0.1, through `ml`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_ml

SCORE = '''import json, os, time
def init():
    global factor
    factor = float(open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "factor.txt")).read())
    print("init done", flush=True)
def run(raw_data):
    data = json.loads(raw_data)
    if data.get("sleep"):
        time.sleep(data["sleep"])
    if data.get("crash"):
        os._exit(3)
    if data.get("freeze"):  # alive but answering nothing, probes included
        import signal
        os.kill(os.getpid(), signal.SIGSTOP)
    print("scored", data.get("tag", ""), flush=True)
    return {"result": [x * factor for x in data["data"]], "pid": os.getpid(), "env": os.environ.get("GREETING")}
'''


def _deployment(root: Path, name: str, factor: str, extra: str = "") -> Path:
    (root / "model").mkdir(parents=True, exist_ok=True)
    (root / "model" / "factor.txt").write_text(factor)
    (root / "code").mkdir(exist_ok=True)
    (root / "code" / "score.py").write_text(SCORE)
    spec = root / f"{name}.yml"
    spec.write_text(f"""$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: {name}
endpoint_name: ep1
model:
  path: ./model
code_configuration:
  code: ./code
  scoring_script: score.py
environment:
  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest
instance_type: Standard_DS3_v2
instance_count: 1
environment_variables:
  GREETING: hello-{name}
{extra}""")
    return spec


def ml(*args, cwd=None, ok=True):
    result = run_ml(*args, cwd=cwd, timeout=300)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def endpoint(tmp_path, isolated_home, request):
    """An endpoint `ep1` (auth_mode key, or the one the test passes indirectly); deleted at the end, which
    stops its router and workers."""
    mode = getattr(request, "param", "key")
    spec = tmp_path / "endpoint.yml"
    spec.write_text("$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\n"
                    f"name: ep1\nauth_mode: {mode}\n")
    ml("online-endpoint", "create", "-f", str(spec), "-o", "none")
    yield tmp_path
    ml("online-endpoint", "delete", "-n", "ep1", "--yes")
    assert not (isolated_home / "workspaces" / "local" / "endpoints" / "ep1").exists()


def _post(uri, key, body, **headers):
    return httpx.post(uri, json=body, headers={"Authorization": f"Bearer {key}", **headers}, timeout=30)


def test_endpoint_scores_with_keys_traffic_header_and_logs(endpoint):
    root = endpoint
    blue, green = _deployment(root / "b", "blue", "2"), _deployment(root / "g", "green", "10")
    created = json.loads(ml("online-deployment", "create", "-f", str(blue), "--all-traffic").stdout)
    assert created["provisioning_state"] == "Succeeded" and created["instance_count"] == 1
    ml("online-deployment", "create", "-f", str(green), "-o", "none")
    uri = ml("online-endpoint", "show", "-n", "ep1", "--query", "scoring_uri", "-o", "tsv").stdout.strip()
    assert uri.startswith("http://127.0.0.1:") and uri.endswith("/score")
    keys = json.loads(ml("online-endpoint", "get-credentials", "-n", "ep1").stdout)

    request = root / "request.json"
    request.write_text('{"data": [1, 2]}')
    answer = json.loads(ml("online-endpoint", "invoke", "-n", "ep1", "--request-file", str(request)).stdout)
    assert answer["result"] == [2.0, 4.0] and answer["env"] == "hello-blue"
    answer = json.loads(ml("online-endpoint", "invoke", "-n", "ep1", "--request-file", str(request),
                           "--deployment-name", "green").stdout)
    assert answer["result"] == [10.0, 20.0]

    # no credential, a wrong one: 401 and never scored; the secondary key works too
    assert httpx.post(uri, json={"data": [1]}).status_code == 401
    assert _post(uri, "wrong", {"data": [1]}).status_code == 401
    assert _post(uri, keys["secondaryKey"], {"data": [1]}).status_code == 200

    # the split: 0/100 then 90/10 sends to both
    ml("online-endpoint", "update", "-n", "ep1", "--set", "traffic.blue=90", "traffic.green=10", "-o", "none")
    seen = {_post(uri, keys["primaryKey"], {"data": [1]}).headers["azureml-model-deployment"] for _ in range(80)}
    assert seen == {"blue", "green"}
    # an update is in force when the CLI returns
    ml("online-endpoint", "update", "-n", "ep1", "--traffic", "blue=0 green=100", "-o", "none")
    assert {_post(uri, keys["primaryKey"], {"data": [1]}).headers["azureml-model-deployment"] for _ in range(5)} == {"green"}
    ml("online-endpoint", "update", "-n", "ep1", "--traffic", "blue=90 green=10", "-o", "none")
    # header routing to a deployment that does not exist
    assert _post(uri, keys["primaryKey"], {"data": [1]}, **{"azureml-model-deployment": "red"}).status_code == 404

    # regenerate: the old primary key stops working at once
    ml("online-endpoint", "regenerate-keys", "-n", "ep1", "--key-type", "primary")
    assert _post(uri, keys["primaryKey"], {"data": [1]}).status_code == 401
    fresh = json.loads(ml("online-endpoint", "get-credentials", "-n", "ep1").stdout)["primaryKey"]
    assert fresh != keys["primaryKey"] and _post(uri, fresh, {"data": [1]}).status_code == 200

    logs = ml("online-deployment", "get-logs", "-n", "blue", "-e", "ep1").stdout
    assert "init done" in logs and "is live" in logs
    tail = ml("online-deployment", "get-logs", "-n", "blue", "-e", "ep1", "--lines", "3").stdout
    assert tail.splitlines() == logs.splitlines()[-3:]

    # a deployment with traffic cannot be deleted; with none it can
    assert ml("online-deployment", "delete", "-n", "green", "-e", "ep1", "--yes", ok=False).returncode != 0
    ml("online-endpoint", "update", "-n", "ep1", "--traffic", "blue=100", "-o", "none")
    ml("online-deployment", "delete", "-n", "green", "-e", "ep1", "--yes")
    names = ml("online-deployment", "list", "-e", "ep1", "--query", "[].name", "-o", "tsv").stdout.split()
    assert names == ["blue"]


def _logs(name: str) -> str:
    return ml("online-deployment", "get-logs", "-n", name, "-e", "ep1").stdout


def test_mirror_traffic_limits_and_timeouts(endpoint):
    root = endpoint
    limits = "request_settings:\n  request_timeout_ms: 1000\n  max_concurrent_requests_per_instance: 1\n"
    ml("online-deployment", "create", "-f", str(_deployment(root / "b", "blue", "2", limits)), "--all-traffic",
       "-o", "none")
    ml("online-deployment", "create", "-f", str(_deployment(root / "g", "green", "3")), "-o", "none")
    ml("online-endpoint", "update", "-n", "ep1", "--mirror-traffic", "green=100", "-o", "none")
    uri = ml("online-endpoint", "show", "-n", "ep1", "--query", "scoring_uri", "-o", "tsv").stdout.strip()
    key = json.loads(ml("online-endpoint", "get-credentials", "-n", "ep1").stdout)["primaryKey"]

    answer = _post(uri, key, {"data": [1], "tag": "mirrored-1"})
    assert answer.json()["result"] == [2.0] and answer.headers["azureml-model-deployment"] == "blue"
    deadline = time.monotonic() + 10
    while "mirrored-1" not in _logs("green") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "scored mirrored-1" in _logs("green")  # the copy was scored; the caller got blue's answer

    # request_timeout_ms -> 408; while the one allowed request runs, another -> 429
    assert _post(uri, key, {"data": [1], "sleep": 2}).status_code == 408
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        slow = pool.submit(_post, uri, key, {"data": [1], "sleep": 0.8})
        time.sleep(0.3)
        busy = pool.submit(_post, uri, key, {"data": [1]})
        assert busy.result().status_code == 429
        assert slow.result().status_code == 200


@pytest.mark.parametrize("endpoint", ["aml_token"], indirect=True)
def test_aml_token_endpoint(endpoint):
    ml("online-deployment", "create", "-f", str(_deployment(endpoint / "b", "blue", "2")), "--all-traffic", "-o", "none")
    uri = ml("online-endpoint", "show", "-n", "ep1", "--query", "scoring_uri", "-o", "tsv").stdout.strip()
    credentials = json.loads(ml("online-endpoint", "get-credentials", "-n", "ep1").stdout)
    assert credentials["tokenType"] == "Bearer" and credentials["expiryTimeUtc"] > time.time() + 3000
    assert _post(uri, credentials["accessToken"], {"data": [1]}).status_code == 200
    expiry, _, signature = credentials["accessToken"].partition(".")
    assert _post(uri, f"{int(expiry) + 10}.{signature}", {"data": [1]}).status_code == 401  # tampered
    assert _post(uri, f"{int(time.time()) - 5}.{signature}", {"data": [1]}).status_code == 401  # expired
    # no keys for a token endpoint, as on Azure
    assert ml("online-endpoint", "regenerate-keys", "-n", "ep1", ok=False).returncode != 0
    request = endpoint / "request.json"
    request.write_text('{"data": [4]}')
    assert json.loads(ml("online-endpoint", "invoke", "-n", "ep1", "--request-file", str(request)).stdout)["result"] == [8.0]


def test_update_replaces_workers_without_dropping_requests_and_crashed_workers_restart(endpoint):
    import threading

    blue = _deployment(endpoint / "b", "blue", "2")
    ml("online-deployment", "create", "-f", str(blue), "--all-traffic", "-o", "none")
    uri = ml("online-endpoint", "show", "-n", "ep1", "--query", "scoring_uri", "-o", "tsv").stdout.strip()
    key = json.loads(ml("online-endpoint", "get-credentials", "-n", "ep1").stdout)["primaryKey"]

    statuses, results, stop = [], set(), threading.Event()

    def load():
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                answer = client.post(uri, json={"data": [1]}, headers={"Authorization": f"Bearer {key}"})
                statuses.append(answer.status_code)
                if answer.status_code == 200:
                    results.add(answer.json()["result"][0])

    thread = threading.Thread(target=load)
    thread.start()
    try:
        (endpoint / "b" / "model" / "factor.txt").write_text("5")  # a new model version: new workers
        updated = json.loads(ml("online-deployment", "update", "-f", str(blue)).stdout)
        assert updated["provisioning_state"] == "Succeeded"
        time.sleep(1.0)
    finally:
        stop.set()
        thread.join()
    assert statuses and set(statuses) == {200}, sorted(set(statuses))
    assert results == {2.0, 5.0}

    # a worker that dies is restarted, and the deployment says so
    assert _post(uri, key, {"data": [1], "crash": True}).status_code == 502
    deadline = time.monotonic() + 30
    while _post(uri, key, {"data": [1]}).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _post(uri, key, {"data": [1]}).json()["result"] == [5.0]
    shown = json.loads(ml("online-deployment", "show", "-n", "blue", "-e", "ep1").stdout)
    assert shown["properties"]["WorkerRestarts"] == "1"
    assert "exited with code 3; restarting it" in _logs("blue")


def _mlflow_model(folder: Path) -> Path:
    """A scikit-learn model saved as MLflow does, with a signature and its pinned requirements."""
    from importlib.metadata import version

    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 1.0, 2.0, 2.0]})
    model = LinearRegression().fit(frame, frame["a"] * 2 + frame["b"])
    path = folder / "mlflow-model"
    mlflow.sklearn.save_model(model, str(path), signature=infer_signature(frame, model.predict(frame)),
                              serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
                              pip_requirements=[f"{name}=={version(name)}" for name in
                                                ("mlflow-skinny", "scikit-learn", "pandas", "numpy", "scipy")])
    return path


def test_mlflow_model_without_scoring_script_checks_its_signature(endpoint):
    _mlflow_model(endpoint)
    spec = endpoint / "mlflow.yml"
    spec.write_text("name: mlflow\nendpoint_name: ep1\nmodel:\n  path: ./mlflow-model\n  type: mlflow_model\n"
                    "instance_type: Standard_DS3_v2\ninstance_count: 1\n")
    created = json.loads(ml("online-deployment", "create", "-f", str(spec), "--all-traffic").stdout)
    assert created["provisioning_state"] == "Succeeded", created
    uri = ml("online-endpoint", "show", "-n", "ep1", "--query", "scoring_uri", "-o", "tsv").stdout.strip()
    key = json.loads(ml("online-endpoint", "get-credentials", "-n", "ep1").stdout)["primaryKey"]

    expected = [pytest.approx(2 * 4.0 + 1.0), pytest.approx(2 * 1.0 + 2.0)]
    payloads = [  # Azure's input_data (pandas split, rows), MLflow's dataframe_split and dataframe_records
        {"input_data": {"columns": ["a", "b"], "index": [0, 1], "data": [[4.0, 1.0], [1.0, 2.0]]}},
        {"input_data": [[4.0, 1.0], [1.0, 2.0]]},
        {"dataframe_split": {"columns": ["a", "b"], "data": [[4.0, 1.0], [1.0, 2.0]]}},
        {"dataframe_records": [{"a": 4.0, "b": 1.0}, {"a": 1.0, "b": 2.0}]},
    ]
    for payload in payloads:
        answer = _post(uri, key, payload)
        assert answer.status_code == 200 and answer.json() == expected, (payload, answer.text)

    # the signature: a missing column is the caller's 400, with MLflow's reason; so is a body of no known shape
    wrong = _post(uri, key, {"input_data": {"columns": ["a", "c"], "data": [[4.0, 1.0]]}})
    assert wrong.status_code == 400 and "b" in wrong.json()["message"], wrong.text
    assert _post(uri, key, {"rows": [1, 2]}).status_code == 400
    logs = _logs("mlflow")
    assert "inputs checked against its signature" in logs and "the MLflow model's requirements" in logs


def test_two_instances_both_serve_and_logs_by_container(endpoint):
    spec = _deployment(endpoint / "b", "blue", "2")
    spec.write_text(spec.read_text().replace("instance_count: 1", "instance_count: 2"))
    created = json.loads(ml("online-deployment", "create", "-f", str(spec), "--all-traffic").stdout)
    assert created["instance_count"] == 2 and created["provisioning_state"] == "Succeeded"
    uri = ml("online-endpoint", "show", "-n", "ep1", "--query", "scoring_uri", "-o", "tsv").stdout.strip()
    key = json.loads(ml("online-endpoint", "get-credentials", "-n", "ep1").stdout)["primaryKey"]
    pids = {_post(uri, key, {"data": [1]}).json()["pid"] for _ in range(10)}
    assert len(pids) == 2  # both workers answer

    def logs(*extra):
        return ml("online-deployment", "get-logs", "-n", "blue", "-e", "ep1", *extra).stdout

    server = logs("--container", "inference-server")
    assert "==> worker-0.log <==" in server and "==> worker-1.log <==" in server and server.count("init done") == 2
    assert "is live" not in server
    initializer = logs("--container", "storage-initializer")
    assert "is live (2 worker(s))" in initializer and "==> worker" not in initializer
    assert logs("-c", "inference-server", "--lines", "2").splitlines() == server.splitlines()[-2:]
    assert logs().splitlines() == (initializer + server).splitlines()
    wrong = ml("online-deployment", "get-logs", "-n", "blue", "-e", "ep1", "--container", "sidecar", ok=False)
    assert wrong.returncode != 0 and "containerType 'sidecar'" in wrong.stderr and "Traceback" not in wrong.stderr


def test_a_worker_failing_its_liveness_probe_is_restarted(endpoint):
    probe = "liveness_probe:\n  initial_delay: 1\n  period: 1\n  timeout: 1\n  failure_threshold: 2\n"
    ml("online-deployment", "create", "-f", str(_deployment(endpoint / "b", "blue", "2", probe)), "--all-traffic",
       "-o", "none")
    uri = ml("online-endpoint", "show", "-n", "ep1", "--query", "scoring_uri", "-o", "tsv").stdout.strip()
    key = json.loads(ml("online-endpoint", "get-credentials", "-n", "ep1").stdout)["primaryKey"]
    first = _post(uri, key, {"data": [1]}).json()["pid"]
    with pytest.raises(httpx.TimeoutException):  # the worker stops (SIGSTOP) while scoring this one
        httpx.post(uri, json={"data": [1], "freeze": True}, headers={"Authorization": f"Bearer {key}"}, timeout=1)
    deadline, answer = time.monotonic() + 30, None
    while time.monotonic() < deadline:
        answer = _post(uri, key, {"data": [1]})
        if answer.status_code == 200:
            break
        time.sleep(0.2)
    assert answer.status_code == 200 and answer.json()["pid"] != first
    assert "failed its liveness probe; restarting it" in _logs("blue")
    shown = json.loads(ml("online-deployment", "show", "-n", "blue", "-e", "ep1").stdout)
    assert shown["properties"]["WorkerRestarts"] == "1"
