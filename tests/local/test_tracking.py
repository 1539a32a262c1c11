"""The MLflow-compatible tracking server, driven by the real mlflow client in real job processes."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time

import httpx
import pytest

from cli.local.tracking import summary
from cli.local.tracking.errors import TrackingError
from cli.local.tracking.server import job_environment, start_tracking_server
from cli.local.tracking.store import MIGRATIONS, TrackingStore

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no calls home from the test process
mlflow = pytest.importorskip("mlflow", reason="mlflow-skinny (the test extra) is not installed")
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402


@pytest.fixture
def workspace(isolated_home):
    return isolated_home / "workspaces" / "local"


@pytest.fixture
def tracking(workspace, monkeypatch):
    server, url = start_tracking_server(workspace)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)  # artifact downloads resolve against it
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", server.token)  # what the mlflow client sends as a bearer
    yield server, url
    server.shutdown()


@pytest.fixture
def http(tracking):
    """Plain HTTP calls to the tracking server, with its token."""
    with httpx.Client(headers={"Authorization": f"Bearer {tracking[0].token}"}, timeout=30) as client:
        yield client


@pytest.fixture
def client(tracking):
    return MlflowClient(tracking_uri=tracking[1])


def run_job(url: str, run: dict, script: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `script` as a local job's process would run: its run named by the environment."""
    token = os.environ["MLFLOW_TRACKING_TOKEN"]
    env = {**os.environ, **job_environment(url, run, token), "MLFLOW_DISABLE_TELEMETRY": "true",
           "NO_PROXY": "127.0.0.1", **(extra_env or {})}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


TRAINING_SCRIPT = """
    import mlflow
    with mlflow.start_run() as run:
        assert run.info.run_id == "{job}", run.info.run_id
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({{"epochs": 5, "optimizer": "adam"}})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.set_tag("stage", "train")
        with open("notes.txt", "w") as f:
            f.write("hello from the job")
        mlflow.log_artifact("notes.txt")
        mlflow.log_dict({{"layers": [64, 32]}}, "config/model.json")
        with mlflow.start_run(run_name="fold-0", nested=True) as child:
            mlflow.log_metric("acc", 0.75, step=1)
            mlflow.log_text("fold zero", "fold.txt")
            print("CHILD", child.info.run_id)
"""


def test_a_job_script_logs_through_the_real_client(tracking, client, workspace, tmp_path):
    server, url = tracking
    run = server.store.create_job_run("sleepy_job_1", "my-experiment")
    result = subprocess_cwd(tmp_path, lambda: run_job(url, run, TRAINING_SCRIPT.format(job="sleepy_job_1")))
    child_id = result.stdout.split("CHILD ")[1].split()[0]
    store = server.store

    assert store.params("sleepy_job_1") == {"lr": "0.1", "epochs": "5", "optimizer": "adam"}
    history = store.metric_history("sleepy_job_1", "loss")
    assert [(m["step"], m["value"]) for m in history] == [(s, 1.0 / (s + 1)) for s in range(5)]
    assert store.latest_metrics("sleepy_job_1") == {"loss": 0.2}
    job_folder = workspace / "jobs" / "sleepy_job_1"
    assert (job_folder / "artifacts" / "notes.txt").read_text() == "hello from the job"
    assert json.loads((job_folder / "artifacts" / "config" / "model.json").read_text()) == {"layers": [64, 32]}
    assert (job_folder / "runs" / child_id / "artifacts" / "fold.txt").read_text() == "fold zero"

    got = client.get_run("sleepy_job_1")
    assert got.info.status == "FINISHED" and got.info.run_name == "sleepy_job_1"
    assert got.info.experiment_id == client.get_experiment_by_name("my-experiment").experiment_id
    assert got.data.params == {"lr": "0.1", "epochs": "5", "optimizer": "adam"}
    assert got.data.metrics == {"loss": 0.2}
    assert got.data.tags["stage"] == "train"
    assert [(m.step, m.value) for m in client.get_metric_history("sleepy_job_1", "loss")] == \
        [(s, 1.0 / (s + 1)) for s in range(5)]
    assert [(a.path, a.is_dir) for a in client.list_artifacts("sleepy_job_1")] == \
        [("config", True), ("notes.txt", False)]
    assert [a.path for a in client.list_artifacts("sleepy_job_1", "config")] == ["config/model.json"]
    downloaded = client.download_artifacts("sleepy_job_1", "notes.txt", str(tmp_path / "down"))
    assert open(downloaded).read() == "hello from the job"

    child = client.get_run(child_id)
    assert child.data.tags["mlflow.parentRunId"] == "sleepy_job_1"
    assert child.info.run_name == "fold-0" and child.data.metrics == {"acc": 0.75}
    found = client.search_runs([got.info.experiment_id], "tags.mlflow.parentRunId = 'sleepy_job_1'")
    assert [r.info.run_id for r in found] == [child_id]


def subprocess_cwd(folder, call):
    """Run `call` with `folder` as the working directory (scripts write their files there)."""
    previous = os.getcwd()
    os.chdir(folder)
    try:
        return call()
    finally:
        os.chdir(previous)


def test_a_param_cannot_change_value(client, tracking):
    run = tracking[0].store.create_job_run("job_params")
    client.log_param("job_params", "lr", "0.1")
    client.log_param("job_params", "lr", "0.1")  # the same value again is allowed, as in MLflow
    with pytest.raises(MlflowException) as caught:
        client.log_param("job_params", "lr", "0.2")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Changing param values is not allowed" in caught.value.message
    assert client.get_run(run["info"]["run_id"]).data.params == {"lr": "0.1"}


def test_a_batch_with_a_changed_param_stores_nothing(tracking):
    store = tracking[0].store
    store.create_job_run("job_batch")
    store.log_batch("job_batch", params=[{"key": "a", "value": "1"}])
    with pytest.raises(TrackingError):
        store.log_batch("job_batch", metrics=[{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}],
                        params=[{"key": "a", "value": "2"}], tags=[{"key": "t", "value": "x"}])
    assert store.latest_metrics("job_batch") == {} and "t" not in store.get_run("job_batch")["data"]["tags"]


def test_an_unknown_run_is_resource_does_not_exist(http, client, tracking):
    with pytest.raises(MlflowException) as caught:
        client.get_run("no_such_run")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    response = http.post(f"{tracking[1]}/api/2.0/mlflow/runs/log-metric",
                         json={"run_id": "no_such_run", "key": "m", "value": 1, "timestamp": 1})
    assert response.status_code == 404
    assert response.json() == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run with id=no_such_run not found"}


@pytest.mark.parametrize("path, body, status, code", [
    ("runs/log-metric", b"{not json", 400, "INVALID_PARAMETER_VALUE"),
    ("runs/log-metric", b"[1, 2]", 400, "INVALID_PARAMETER_VALUE"),
    ("runs/log-metric", b'{"run_id": "job_x", "key": "m", "value": "high", "timestamp": 1}', 400, "INVALID_PARAMETER_VALUE"),
    ("runs/log-parameter", b'{"run_id": "job_x"}', 400, "INVALID_PARAMETER_VALUE"),
    ("runs/search", b'{"experiment_ids": ["0"], "filter": "metrics.m >"}', 400, "INVALID_PARAMETER_VALUE"),
    ("runs/no-such-verb", b"{}", 404, "ENDPOINT_NOT_FOUND"),
])
def test_bad_requests_answer_in_mlflows_error_shape(http, tracking, path, body, status, code):
    tracking[0].store.create_job_run("job_x")
    response = http.post(f"{tracking[1]}/api/2.0/mlflow/{path}", content=body,
                         headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["error_code"]) == (status, code)
    assert "Traceback" not in response.text


def test_artifact_paths_cannot_leave_the_run_folder(http, tracking, workspace):
    store = tracking[0].store
    run = store.create_job_run("job_art", "exp")  # experiment 1, not the Default (0)
    (workspace / "secret.txt").write_text("no")
    base = f"{tracking[1]}/api/2.0/mlflow-artifacts/artifacts/{run['info']['experiment_id']}/job_art/artifacts"
    response = http.get(f"{base}/%2E%2E/%2E%2E/%2E%2E/secret.txt")
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    response = http.put(f"{tracking[1]}/api/2.0/mlflow-artifacts/artifacts/0/job_art/artifacts/x.txt", content=b"x")
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"  # the run is not in experiment 0
    assert http.get(f"{base}/missing.txt").status_code == 404


def test_a_chunked_upload_is_stored_whole(http, tracking, client):
    run = tracking[0].store.create_job_run("job_chunked", "exp")
    url = (f"{tracking[1]}/api/2.0/mlflow-artifacts/artifacts/{run['info']['experiment_id']}"
           "/job_chunked/artifacts/data/blob.bin")
    pieces = [bytes([n]) * 70_000 for n in range(5)]
    response = http.put(url, content=iter(pieces))  # no length known: chunked transfer encoding
    assert response.status_code == 200
    assert http.get(url).content == b"".join(pieces)
    assert [(a.path, a.file_size) for a in client.list_artifacts("job_chunked", "data")] == [("data/blob.bin", 350_000)]


def test_logged_dataset_inputs_come_back_with_the_run(http, tracking, client):
    tracking[0].store.create_job_run("job_inputs")
    dataset = {"name": "iris", "digest": "abc123", "source_type": "local", "source": '{"uri": "iris.csv"}'}
    response = http.post(f"{tracking[1]}/api/2.0/mlflow/runs/log-inputs", json={
        "run_id": "job_inputs", "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "train"}],
                                              "dataset": dataset}]})
    assert response.status_code == 200
    [got] = client.get_run("job_inputs").inputs.dataset_inputs
    assert (got.dataset.name, got.dataset.digest, got.tags[0].value) == ("iris", "abc123", "train")


def test_search_filters_orders_and_pages(client, tracking):
    experiment = client.create_experiment("sweep")
    for index, acc in enumerate([0.5, 0.9, 0.7]):
        run = client.create_run(experiment, run_name=f"trial-{index}", tags={"family": f"cnn-{index}"})
        client.log_metric(run.info.run_id, "acc", acc)
        client.log_param(run.info.run_id, "index", str(index))
    best = client.search_runs([experiment], "metrics.acc > 0.6", order_by=["metrics.acc DESC"])
    assert [r.data.params["index"] for r in best] == ["1", "2"]
    first = client.search_runs([experiment], "tags.family LIKE 'cnn-%' AND attributes.status = 'RUNNING'",
                               order_by=["params.index ASC"], max_results=2)
    assert [r.info.run_name for r in first] == ["trial-0", "trial-1"] and first.token
    rest = client.search_runs([experiment], "tags.family LIKE 'cnn-%'", order_by=["params.index ASC"],
                              max_results=2, page_token=first.token)
    assert [r.info.run_name for r in rest] == ["trial-2"] and not rest.token
    assert [e.name for e in client.search_experiments(filter_string="name = 'sweep'")] == ["sweep"]


def test_metrics_keep_nan_and_the_latest_step(client, tracking):
    tracking[0].store.create_job_run("job_nan")
    client.log_metric("job_nan", "loss", float("nan"), step=3)
    client.log_metric("job_nan", "loss", 0.5, step=1)  # a late write of an earlier step is not the latest
    client.log_metric("job_nan", "lr", float("inf"), step=0)
    metrics = client.get_run("job_nan").data.metrics
    assert math.isnan(metrics["loss"]) and metrics["lr"] == math.inf
    assert [m.step for m in client.get_metric_history("job_nan", "loss")] == [3, 1]


def test_log_model_appends_to_the_model_history_tag(http, tracking):
    tracking[0].store.create_job_run("job_model")
    for flavor in ("sklearn", "pytorch"):
        response = http.post(f"{tracking[1]}/api/2.0/mlflow/runs/log-model",
                             json={"run_id": "job_model", "model_json": json.dumps({"flavors": {flavor: {}}})})
        assert response.status_code == 200
    tags = tracking[0].store.get_run("job_model")["data"]["tags"]
    history = json.loads(next(t["value"] for t in tags if t["key"] == "mlflow.log-model.history"))
    assert history == [{"flavors": {"sklearn": {}}}, {"flavors": {"pytorch": {}}}]


WRITER_SCRIPT = """
    import mlflow
    worker = {worker}
    with mlflow.start_run():
        mlflow.log_param(f"worker_{{worker}}", worker)
        for step in range(50):
            mlflow.log_metric("shared", worker * 1000 + step, step=worker * 1000 + step)
            mlflow.log_metric(f"own_{{worker}}", step, step=step)
        with mlflow.start_run(nested=True):
            mlflow.log_metric("child", worker)
"""


@pytest.mark.slow
def test_four_concurrent_writer_processes_lose_nothing(tracking):
    server, url = tracking
    token = server.token
    run = server.store.create_job_run("job_parallel")
    env = {**os.environ, **job_environment(url, run, token), "MLFLOW_DISABLE_TELEMETRY": "true"}
    writers = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER_SCRIPT.format(worker=w))], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(4)]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err[-3000:]
    store = server.store
    shared = store.metric_history("job_parallel", "shared")
    assert sorted(m["step"] for m in shared) == sorted(w * 1000 + s for w in range(4) for s in range(50))
    for worker in range(4):
        assert [m["step"] for m in store.metric_history("job_parallel", f"own_{worker}")] == list(range(50))
    assert store.params("job_parallel") == {f"worker_{w}": str(w) for w in range(4)}
    children, _ = store.search_runs([run["info"]["experiment_id"]], "tags.mlflow.parentRunId = 'job_parallel'")
    assert sorted(c["data"]["metrics"][0]["value"] for c in children) == [0, 1, 2, 3]


def test_summary_reads_latest_metrics_and_params(workspace):
    store = TrackingStore(workspace)
    store.create_job_run("job_sum")
    store.log_batch("job_sum", metrics=[{"key": "loss", "value": v, "timestamp": 1, "step": s}
                                        for s, v in enumerate([0.9, 0.4])],
                    params=[{"key": "lr", "value": "0.01"}])
    store.close()
    assert summary.latest_metrics(workspace, "job_sum") == {"loss": 0.4}
    assert summary.params(workspace, "job_sum") == {"lr": "0.01"}
    assert summary.latest_metrics(workspace, "job_never_logged") == {}


def test_a_version_1_database_migrates_keeping_its_data(workspace):
    workspace.mkdir(parents=True)
    with sqlite3.connect(workspace / "tracking.db") as conn:  # as the first release left it
        conn.executescript(MIGRATIONS[0] + """;
            CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);
            INSERT INTO experiments VALUES (1, 'exp', 'mlflow-artifacts:/1', 'active', 5, 5);
            INSERT INTO runs VALUES ('job_old', 1, 'job_old', '', 'FINISHED', 5, 6, 'active', 'jobs/job_old/artifacts');
            INSERT INTO params VALUES ('job_old', 'lr', '0.1');""")
    conn.close()
    store = TrackingStore(workspace)
    assert store.get_run("job_old")["info"]["status"] == "FINISHED" and store.params("job_old") == {"lr": "0.1"}
    model = store.create_logged_model("1", "m", source_run_id="job_old")["info"]
    folder = workspace / "jobs" / "job_old" / "models" / model["model_id"] / "artifacts"
    assert store.model_artifact_dir(model["model_id"]) == folder
    assert store._read("SELECT version FROM schema_version")[0]["version"] == len(MIGRATIONS)
    store.close()


def test_the_store_refuses_a_newer_schema(workspace):
    store = TrackingStore(workspace)
    store._conn.execute("UPDATE schema_version SET version = 99")
    store.close()
    with pytest.raises(TrackingError, match="schema version 99"):
        TrackingStore(workspace)


def test_shutdown_frees_the_port(workspace):
    server, url = start_tracking_server(workspace)
    assert httpx.get(f"{url}/health", headers={"Authorization": f"Bearer {server.token}"}).text == "OK"
    port = server.port
    server.shutdown()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def test_a_server_started_without_waiting_answers_its_first_request_and_keeps_its_job_scope(workspace):
    # a job's server starts without waiting for its loop: the port listens at once, requests queue
    server, url = start_tracking_server(workspace, job_run="job-a", wait=False)
    try:
        with httpx.Client(headers={"Authorization": f"Bearer {server.token}"}, timeout=30) as client:
            assert client.get(f"{url}/health").text == "OK"
            assert client.get(f"{url}/health", headers={"Authorization": "Bearer another-token"}).status_code == 401
            server.store.create_job_run("job-b", "Default")
            refused = client.get(f"{url}/api/2.0/mlflow/runs/get", params={"run_id": "job-b"})
            assert refused.status_code == 403 and refused.json()["error_code"] == "PERMISSION_DENIED"
    finally:
        server.shutdown()
    never_started, _ = start_tracking_server(workspace, wait=False)
    never_started.shutdown()  # closing before its loop ran frees the port too
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", never_started.port), timeout=2)


PYFUNC_SCRIPT = """
    import time
    import mlflow
    from mlflow.pyfunc import PythonModel

    class AddN(PythonModel):
        def __init__(self, n):
            self.n = n

        def predict(self, context, model_input, params=None):
            return [x + self.n for x in model_input]

    with mlflow.start_run():
        mlflow.log_param("n", 3)
        mlflow.log_metric("score", 0.5)
        started = time.perf_counter()
        info = mlflow.pyfunc.log_model(name="adder", python_model=AddN(3), pip_requirements=["cloudpickle"])
        print("MODEL", info.model_id, "SECONDS", round(time.perf_counter() - started, 3))
"""


needs_pandas = pytest.mark.skipif(importlib.util.find_spec("pandas") is None,
                                  reason="pandas (the test extra) is not installed; mlflow.pyfunc imports it")


@needs_pandas
def test_pyfunc_log_model_through_the_real_client(tracking, client, workspace, tmp_path):
    server, url = tracking
    run = server.store.create_job_run("job_pyfunc", "models-exp")
    result = subprocess_cwd(tmp_path, lambda: run_job(url, run, PYFUNC_SCRIPT))
    model_id = result.stdout.split("MODEL ")[1].split()[0]
    print("log_model seconds:", result.stdout.split("SECONDS ")[1].split()[0])
    experiment = run["info"]["experiment_id"]

    model = client.get_logged_model(model_id)
    assert (model.name, model.source_run_id, model.experiment_id) == ("adder", "job_pyfunc", experiment)
    assert model.status.to_int() == 2  # READY: the upload finished
    assert model.params == {"n": "3"}  # the run's params when it was logged
    assert [(m.key, m.value, m.model_id) for m in model.metrics] == [("score", 0.5, model_id)]
    assert len(client.get_metric_history("job_pyfunc", "score")) == 1  # linking it logged no second copy
    assert [o.model_id for o in client.get_run("job_pyfunc").outputs.model_outputs] == [model_id]

    files = {f.path for f in client.list_logged_model_artifacts(model_id)}
    assert {"MLmodel", "python_model.pkl", "requirements.txt"} <= files
    on_disk = workspace / "jobs" / "job_pyfunc" / "models" / model_id / "artifacts"
    assert {p.name for p in on_disk.iterdir()} == files
    local = mlflow.artifacts.download_artifacts(f"models:/{model_id}", dst_path=str(tmp_path / "down"))
    assert "python_function" in open(os.path.join(local, "MLmodel")).read()
    assert list(mlflow.pyfunc.load_model(f"models:/{model_id}").predict([1, 2])) == [4, 5]

    search = mlflow.search_logged_models
    assert [m.model_id for m in search(experiment_ids=[experiment], output_format="list")] == [model_id]
    assert [m.name for m in search(experiment_ids=[experiment], filter_string="name = 'adder' AND params.n = '3'",
                                   output_format="list")] == ["adder"]
    assert search(experiment_ids=[experiment], filter_string="metrics.score > 0.9", output_format="list") == []


def test_logged_model_tags_params_status_and_deletion(client, tracking):
    store = tracking[0].store
    experiment = client.create_experiment("lm")
    run = client.create_run(experiment)
    first = client.create_logged_model(experiment, "first", run.info.run_id, tags={"team": "a"}, params={"lr": "0.1"})
    second = client.create_logged_model(experiment, "second", model_type="agent")
    assert first.status.to_int() == 1 and first.tags["team"] == "a"  # PENDING until finalized
    assert store.model_artifact_dir(second.model_id).parent.parent.name == "mlflow-models"  # no run made it

    client.set_logged_model_tags(first.model_id, {"stage": "dev", "a/b": "slash"})
    client.delete_logged_model_tag(first.model_id, "a/b")
    client.log_model_params(first.model_id, {"epochs": "5"})
    with pytest.raises(MlflowException, match="Changing param values is not allowed"):
        client.log_model_params(first.model_id, {"lr": "0.2"})
    client.finalize_logged_model(first.model_id, "READY")
    got = client.get_logged_model(first.model_id)
    assert got.tags == {"team": "a", "stage": "dev"} and got.params == {"lr": "0.1", "epochs": "5"}
    assert got.status.to_int() == 2

    client.log_metric(run.info.run_id, "acc", 0.8, model_id=first.model_id)
    client.log_metric(run.info.run_id, "acc", 0.6, model_id=second.model_id)
    ranked = client.search_logged_models([experiment], order_by=[{"field_name": "metrics.acc", "ascending": False}])
    assert [m.name for m in ranked] == ["first", "second"]
    assert [m.name for m in client.search_logged_models([experiment], "model_type = 'agent'")] == ["second"]
    page = client.search_logged_models([experiment], max_results=1)
    assert len(page) == 1 and page.token
    assert len(client.search_logged_models([experiment], max_results=1, page_token=page.token)) == 1

    client.delete_logged_model(second.model_id)
    with pytest.raises(MlflowException) as caught:
        client.get_logged_model(second.model_id)
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert [m.name for m in client.search_logged_models([experiment])] == ["first"]


@pytest.mark.parametrize("method, path, body, status, code", [
    ("GET", "logged-models/m-missing", None, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("PATCH", "logged-models/{model}", {"status": "DONE"}, 400, "INVALID_PARAMETER_VALUE"),
    ("POST", "logged-models", {"name": "no experiment"}, 400, "INVALID_PARAMETER_VALUE"),
    ("POST", "logged-models", {"experiment_id": "42"}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("POST", "logged-models/search", {"experiment_ids": ["0"], "order_by": [{"field_name": "params.x"}]},
     400, "INVALID_PARAMETER_VALUE"),
    ("DELETE", "logged-models/{model}/tags/nope", None, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("GET", "logged-models/{model}/artifacts/files?artifact_file_path=../../../tracking.db", None,
     400, "INVALID_PARAMETER_VALUE"),
    ("POST", "runs/outputs", {"run_id": "job_lm", "models": [{"model_id": "m-missing"}]}, 404,
     "RESOURCE_DOES_NOT_EXIST"),
])
def test_logged_model_errors_answer_in_mlflows_shape(http, tracking, method, path, body, status, code):
    store = tracking[0].store
    store.create_job_run("job_lm")
    model = store.create_logged_model("0", "m", source_run_id="job_lm")["info"]["model_id"]
    response = http.request(method, f"{tracking[1]}/api/2.0/mlflow/{path.format(model=model)}", json=body)
    assert (response.status_code, response.json()["error_code"]) == (status, code)
    assert "Traceback" not in response.text


def test_logged_model_artifact_endpoints_list_and_serve_files(http, tracking):
    store, url = tracking[0].store, tracking[1]
    store.create_job_run("job_files")
    model = store.create_logged_model("0", "m", source_run_id="job_files")["info"]
    base = f"{url}/api/2.0/mlflow-artifacts/artifacts/0/models/{model['model_id']}/artifacts"
    assert http.put(f"{base}/sub/weights.bin", content=b"w" * 10).status_code == 200
    api = f"{url}/api/2.0/mlflow/logged-models/{model['model_id']}/artifacts"
    listed = http.get(f"{api}/directories", params={"artifact_directory_path": "sub"}).json()
    assert listed == {"root_uri": model["artifact_uri"],
                      "files": [{"path": "sub/weights.bin", "is_dir": False, "file_size": 10}]}
    assert http.get(f"{api}/files", params={"artifact_file_path": "sub/weights.bin"}).content == b"w" * 10


@needs_pandas
@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                    reason="scikit-learn (the test extra) is not installed; mlflow.autolog() needs a library to patch")
def test_autolog_records_a_sklearn_fit(tracking, client, tmp_path):
    server, url = tracking
    run = server.store.create_job_run("job_autolog")
    result = subprocess_cwd(tmp_path, lambda: run_job(url, run, """
        import time
        import mlflow
        import numpy
        from sklearn.linear_model import LinearRegression
        mlflow.autolog()
        with mlflow.start_run():
            started = time.perf_counter()
            LinearRegression().fit(numpy.array([[0.0], [1.0], [2.0], [3.0]]), numpy.array([0.0, 1.0, 2.0, 3.1]))
            print("FIT SECONDS", round(time.perf_counter() - started, 3))
    """))
    print("autolog fit seconds:", result.stdout.split("FIT SECONDS ")[1].split()[0])
    got = client.get_run("job_autolog")
    assert got.data.params["fit_intercept"] == "True"
    assert 0.99 < got.data.metrics["training_r2_score"] <= 1.0
    assert [i.dataset.source_type for i in got.inputs.dataset_inputs] == ["code"]  # the training arrays
    [output] = got.outputs.model_outputs
    model = client.get_logged_model(output.model_id)
    assert model.source_run_id == "job_autolog" and model.status.to_int() == 2
    assert {m.key for m in model.metrics} >= {"training_score", "training_r2_score"}
    assert "model.pkl" in {f.path for f in client.list_logged_model_artifacts(model.model_id)}
    import numpy
    predicted = mlflow.pyfunc.load_model(f"models:/{model.model_id}").predict(numpy.array([[4.0]]))
    assert abs(predicted[0] - 4.1) < 0.2


# ---- the children's server (cli.local.tracking.shared): one process, a token per job


def test_job_tokens_name_their_job_and_nothing_else():
    from cli.local.tracking.shared import JobTokens

    tokens = JobTokens()
    token = tokens.token_for("pipe_1_s0")
    assert tokens.job_of(token) == "pipe_1_s0"
    job, _, mac = token.rpartition(".")
    assert tokens.job_of(f"pipe_1_s1.{mac}") is None  # another job's name under this one's signature
    assert tokens.job_of(token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    assert JobTokens().job_of(token) is None  # another parent's secret
    assert tokens.job_of("") is None and tokens.job_of(mac) is None and tokens.job_of(f".{mac}") is None


def test_the_childrens_server_keeps_each_job_to_its_runs_and_ends_with_its_lifeline(workspace, tmp_path):
    from cli.local.tracking.shared import SharedTracking

    store = TrackingStore(workspace)
    try:
        shared = SharedTracking(workspace)
        port = int(shared.url.rsplit(":", 1)[1])
        for job in ("job_a", "job_b"):
            store.create_job_run(job, "exp")
        script = """
            import mlflow
            mlflow.log_metric("loss", 0.25)
            mlflow.log_param("who", "a")
        """
        run = {"info": {"run_id": "job_a", "experiment_id": store.get_experiment_by_name("exp")["experiment_id"]}}
        env = {**os.environ, **job_environment(shared.url, run, shared.token_for("job_a")),
               "MLFLOW_DISABLE_TELEMETRY": "true", "NO_PROXY": "127.0.0.1"}
        result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env, capture_output=True,
                                text=True, timeout=20)
        assert result.returncode == 0, result.stderr[-2000:]
        logged = store.get_run("job_a")["data"]
        assert [(m["key"], m["value"]) for m in logged["metrics"]] == [("loss", 0.25)]
        assert {"key": "who", "value": "a"} in logged["params"]
        with httpx.Client(base_url=shared.url, timeout=30) as http:
            as_a = {"Authorization": f"Bearer {shared.token_for('job_a')}"}
            refused = http.get("/api/2.0/mlflow/runs/get", params={"run_id": "job_b"}, headers=as_a)
            assert refused.status_code == 403 and refused.json()["error_code"] == "PERMISSION_DENIED"
            found = http.post("/api/2.0/mlflow/runs/search", json={"experiment_ids": [run["info"]["experiment_id"]]},
                              headers=as_a).json()["runs"]
            assert [r["info"]["run_id"] for r in found] == ["job_a"]
            forged = shared.token_for("job_a").rpartition(".")[2]
            for header in ({}, {"Authorization": f"Bearer job_b.{forged}"}, {"Authorization": "Bearer job_b"}):
                answer = http.get("/api/2.0/mlflow/runs/get", params={"run_id": "job_b"}, headers=header)
                assert answer.status_code == 401, header
        shared.release()  # nobody else holds the lifeline: the server ends and frees its port
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
            except OSError:
                break
            assert time.monotonic() < deadline, "the children's server outlived its lifeline"
            time.sleep(0.05)
    finally:
        store.close()
