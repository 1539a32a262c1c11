"""A local sweep's concurrency and total time, against running its trial command as single jobs.

    python benchmarks/sweeps.py [--trials 20] [--concurrent 4] [--seconds 1]

1. One trial as a command job (`ml job create --stream`, create to Completed, whole process), 5 times
   in a row (warm: the environment is built and the code uploaded first): "rounds of one trial".
2. A sweep of --trials trials, --concurrent at a time, of the same command (random sampling of one
   uniform parameter; each trial sleeps --seconds and logs its metric through MLflow), created with
   `ml job create --stream`: the total time, the most trials running at once and the mean number
   running (from the trials' own start and end times), against trials/concurrent rounds of one trial.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRIAL = '''import json, os, sys, time, urllib.request
x, seconds = float(sys.argv[1]), float(sys.argv[2])
time.sleep(seconds)
body = {"run_id": os.environ["MLFLOW_RUN_ID"], "key": "score", "value": x, "step": 0, "timestamp": int(time.time() * 1000)}
urllib.request.urlopen(urllib.request.Request(os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/runs/log-metric",
    data=json.dumps(body).encode(), headers={"Content-Type": "application/json",
    "Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"]}), timeout=30).read()
'''
ENVIRONMENT = "azureml:AzureML-sklearn-1.5@latest"


def ml(*args: str, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"ml {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-500:]}")
    return result


def timed(*args: str, env: dict) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = ml(*args, env=env)
    return time.perf_counter() - start, result


def _time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ml-bench-") as scratch:
        folder = Path(scratch)
        env = {**os.environ, "ML_HOME": str(folder / "home"), "PYTHONPATH": str(REPO)}
        for name in ("ML_WORKSPACE", "ML_RESOURCE_GROUP", "ML_SUBSCRIPTION", "ML_TARGET"):
            env.pop(name, None)
        (folder / "src").mkdir()
        (folder / "src" / "trial.py").write_text(TRIAL)
        (folder / "job.yml").write_text(f"command: python trial.py 0.5 {args.seconds}\ncode: src\n"
                                        f"environment: {ENVIRONMENT}\n")
        (folder / "sweep.yml").write_text(json.dumps({
            "type": "sweep",
            "trial": {"command": f"python trial.py ${{{{search_space.x}}}} {args.seconds}", "code": "src",
                      "environment": ENVIRONMENT},
            "search_space": {"x": {"type": "uniform", "min_value": 0, "max_value": 1}},
            "sampling_algorithm": {"type": "random", "seed": 1},
            "objective": {"goal": "maximize", "primary_metric": "score"},
            "limits": {"max_total_trials": args.trials, "max_concurrent_trials": args.concurrent}}))
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        ml("job", "create", "-f", str(folder / "job.yml"), "--stream", "-o", "none", env=env)  # warm
        rounds = -(-args.trials // args.concurrent)
        singles = [timed("job", "create", "-f", str(folder / "job.yml"), "--stream", "-o", "none", env=env)[0]
                   for _ in range(rounds)]
        print(f"one trial as a command job (sleep {args.seconds}s), create -> Completed: median "
              f"{statistics.median(singles):.2f} s; {rounds} rounds in a row: {sum(singles):.2f} s")

        total, result = timed("job", "create", "-f", str(folder / "sweep.yml"), "--stream", "--query", "name",
                              "-o", "tsv", env=env)
        name = result.stdout.splitlines()[-1]
        trials = json.loads(ml("job", "list", "--parent-job-name", name, env=env).stdout)
        spans = [(_time(t["properties"]["StartTimeUtc"]), _time(t["properties"]["EndTimeUtc"])) for t in trials]
        peak = max(sum(start <= moment < end for start, end in spans) for moment, _ in spans)
        busy = sum(end - start for start, end in spans)
        span = max(end for _, end in spans) - min(start for start, _ in spans)
        outcomes = {s: [t["status"] for t in trials].count(s) for s in {t["status"] for t in trials}}
        print(f"sweep of {args.trials} trials, max_concurrent_trials {args.concurrent}: {outcomes}")
        print(f"most running at once: {peak} (limit {args.concurrent}); mean running: {busy / span:.2f} "
              f"(trials' running time {busy:.1f} s over {span:.1f} s)")
        print(f"sweep total (create -> Completed, --stream): {total:.2f} s vs {rounds} rounds of one trial: "
              f"{sum(singles):.2f} s (ratio {total / sum(singles):.2f})")


if __name__ == "__main__":
    main()
