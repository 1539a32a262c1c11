"""Fit y = a*x + b by gradient descent on data made here; log params, loss per epoch and the model.

Logs with the `mlflow` package when it is installed, else with MLflow's REST API directly, using
the MLFLOW_TRACKING_URI / MLFLOW_RUN_ID / MLFLOW_EXPERIMENT_ID the job is started with.
"""

import argparse
import json
import os
import random
import time
import urllib.request


def make_data(n=200, seed=7):
    rng = random.Random(seed)
    xs = [rng.uniform(-1, 1) for _ in range(n)]
    return xs, [3.0 * x + 0.5 + rng.gauss(0, 0.1) for x in xs]


def fit(xs, ys, epochs, lr, on_epoch):
    a = b = 0.0
    n = len(xs)
    for epoch in range(epochs):
        errors = [a * x + b - y for x, y in zip(xs, ys)]
        a -= lr * 2 * sum(e * x for e, x in zip(errors, xs)) / n
        b -= lr * 2 * sum(errors) / n
        on_epoch(epoch, sum(e * e for e in errors) / n)
    return a, b


class RestLogger:
    """The few MLflow REST calls this script needs."""

    def __init__(self):
        self.uri = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
        self.run = os.environ["MLFLOW_RUN_ID"]
        self.experiment = os.environ.get("MLFLOW_EXPERIMENT_ID", "0")

    def _call(self, method, path, data, content_type="application/json"):
        request = urllib.request.Request(self.uri + path, data=data, method=method,
                                         headers={"Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def log_params(self, params):
        body = {"run_id": self.run, "params": [{"key": k, "value": str(v)} for k, v in params.items()]}
        self._call("POST", "/api/2.0/mlflow/runs/log-batch", json.dumps(body).encode())

    def log_metric(self, key, value, step):
        body = {"run_id": self.run, "key": key, "value": value, "step": step,
                "timestamp": int(time.time() * 1000)}
        self._call("POST", "/api/2.0/mlflow/runs/log-metric", json.dumps(body).encode())

    def log_text(self, text, name):
        path = f"/api/2.0/mlflow-artifacts/artifacts/{self.experiment}/{self.run}/artifacts/{name}"
        self._call("PUT", path, text.encode(), "application/octet-stream")


class PackageLogger:
    def __init__(self, mlflow):
        self.mlflow = mlflow

    def log_params(self, params):
        self.mlflow.log_params(params)

    def log_metric(self, key, value, step):
        self.mlflow.log_metric(key, value, step=step)

    def log_text(self, text, name):
        self.mlflow.log_text(text, name)


def logger():
    try:
        import mlflow
    except ImportError:
        return RestLogger() if os.environ.get("MLFLOW_TRACKING_URI", "").startswith("http") else None
    return PackageLogger(mlflow)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    args = parser.parse_args()

    log = logger()
    if log is None:
        print("no MLflow tracking available: training without logging")
    xs, ys = make_data()
    if log:
        log.log_params({"epochs": args.epochs, "learning_rate": args.learning_rate, "rows": len(xs)})

    def on_epoch(epoch, loss):
        print(f"epoch {epoch:3d}  loss {loss:.5f}")
        if log:
            log.log_metric("loss", loss, epoch)

    a, b = fit(xs, ys, args.epochs, args.learning_rate, on_epoch)
    print(f"fitted y = {a:.3f} * x + {b:.3f}")
    os.makedirs("outputs", exist_ok=True)
    model = json.dumps({"a": a, "b": b})
    with open(os.path.join("outputs", "model.json"), "w") as handle:
        handle.write(model)
    if log:
        log.log_text(model, "model/model.json")


if __name__ == "__main__":
    main()
