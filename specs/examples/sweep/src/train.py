"""Fit y = 3x + 0.5 by gradient descent with momentum; log the loss of every epoch with MLflow.

The sweep's objective is this `loss` (minimize). Logs with the `mlflow` package when it is installed,
else with MLflow's REST API, using the MLFLOW_TRACKING_URI / MLFLOW_RUN_ID / MLFLOW_TRACKING_TOKEN the job is started with.
"""

import argparse
import json
import os
import random
import time
import urllib.request


def log_metric(key, value, step):
    try:
        import mlflow
    except ImportError:
        body = {"run_id": os.environ["MLFLOW_RUN_ID"], "key": key, "value": value, "step": step,
                "timestamp": int(time.time() * 1000)}
        request = urllib.request.Request(os.environ["MLFLOW_TRACKING_URI"].rstrip("/") + "/api/2.0/mlflow/runs/log-metric",
                                         data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": "Bearer " + os.environ.get("MLFLOW_TRACKING_TOKEN", "")})
        urllib.request.urlopen(request, timeout=30).read()
        return
    mlflow.log_metric(key, value, step=step)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--learning-rate", type=float, required=True)
    parser.add_argument("--momentum", type=float, default=0.0)
    parser.add_argument("--seconds-per-epoch", type=float, default=0.0, help="to watch early termination act")
    args = parser.parse_args()

    rng = random.Random(7)
    xs = [rng.uniform(-1, 1) for _ in range(200)]
    ys = [3.0 * x + 0.5 + rng.gauss(0, 0.1) for x in xs]
    a = b = va = vb = 0.0
    for epoch in range(args.epochs):
        errors = [a * x + b - y for x, y in zip(xs, ys)]
        loss = sum(e * e for e in errors) / len(xs)
        print(f"epoch {epoch:3d}  loss {loss:.5f}", flush=True)
        log_metric("loss", loss, epoch)
        va = args.momentum * va - args.learning_rate * 2 * sum(e * x for e, x in zip(errors, xs)) / len(xs)
        vb = args.momentum * vb - args.learning_rate * 2 * sum(errors) / len(xs)
        a, b = a + va, b + vb
        time.sleep(args.seconds_per_epoch)
    print(f"fitted y = {a:.3f} * x + {b:.3f} (learning rate {args.learning_rate:g}, momentum {args.momentum:g})")


if __name__ == "__main__":
    main()
