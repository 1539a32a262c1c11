"""Sweep jobs on the local workspace, end to end through `ml`: trials run as child jobs (real runner
processes), their objective comes from the MLflow metrics they log, limits and early termination act
on them, and `ml job show` gives the best trial."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime
from pathlib import Path

import yaml

from tests.commands.job_helpers import CURATED, create, shown, wait_for
from tests.conftest import REPO, run_ml

EXAMPLE = REPO / "specs" / "examples" / "sweep" / "sweep.yml"

# A trial that logs `score` = x * (epoch + 1) once per epoch through MLflow's REST API (with the
# job's token), sleeping between epochs; `--fail` makes it exit 3 before logging anything.
TRIAL = '''
import argparse, json, os, sys, time, urllib.request
p = argparse.ArgumentParser()
p.add_argument("--x", type=float, required=True)
p.add_argument("--epochs", type=int, default=1)
p.add_argument("--sleep", type=float, default=0.0)
p.add_argument("--fail", default="no")
a = p.parse_args()
if a.fail == "yes":
    sys.exit(3)
for epoch in range(a.epochs):
    body = {"run_id": os.environ["MLFLOW_RUN_ID"], "key": "score", "value": a.x * (epoch + 1), "step": epoch,
            "timestamp": int(time.time() * 1000)}
    urllib.request.urlopen(urllib.request.Request(
        os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/runs/log-metric", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"]}),
        timeout=30).read()
    print("epoch", epoch, "x", a.x, "sweep variable", os.environ.get("AZUREML_SWEEP_x"), flush=True)
    time.sleep(a.sleep)
'''


def sweep_file(folder: Path, command: str, search_space: dict, **fields) -> Path:
    (folder / "src").mkdir(exist_ok=True)
    (folder / "src" / "trial.py").write_text(TRIAL)
    spec = {"$schema": "https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json", "type": "sweep",
            "trial": {"command": command, "code": "src", "environment": CURATED},
            "search_space": search_space, "objective": {"goal": "maximize", "primary_metric": "score"},
            "sampling_algorithm": "random", "limits": {"max_total_trials": 4, "max_concurrent_trials": 2}, **fields}
    path = folder / "sweep.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def trials_of(name: str) -> list[dict]:
    result = run_ml("job", "list", "--parent-job-name", name)
    assert result.returncode == 0, result.stderr
    return sorted(json.loads(result.stdout), key=lambda job: int(job["name"].rsplit("_", 1)[1]))


def _time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def most_at_once(trials: list[dict]) -> int:
    """The most trials Running at one time, from their start and end times."""
    spans = [(_time(t["properties"]["StartTimeUtc"]), _time(t["properties"]["EndTimeUtc"])) for t in trials]
    return max(sum(start <= moment < end for start, end in spans) for moment, _ in spans)


def test_the_example_sweep_runs_its_trials_as_children_and_show_gives_the_best(tmp_path):
    result = run_ml("job", "create", "-f", str(EXAMPLE), "--set", "limits.max_total_trials=4",
                    "--set", "limits.max_concurrent_trials=2", "--set", "inputs.epochs=6", "--stream",
                    "--query", "name", "-o", "tsv", timeout=300)
    assert result.returncode == 0, result.stderr
    name = result.stdout.splitlines()[-1]
    assert "sweep: random sampling, up to 4 trials, 2 at a time; objective: minimize loss" in result.stdout
    trials = trials_of(name)
    assert [t["name"] for t in trials] == [f"{name}_{i}" for i in range(4)]
    assert most_at_once(trials) <= 2
    job = shown(name)
    assert job["status"] == "Completed" and job["type"] == "sweep"
    best = job["best_trial"]
    for trial in trials:
        params = json.loads(trial["properties"]["hyperparameters"])
        assert set(params) == {"learning_rate", "momentum"}
        # loguniform(-6, -1): e**uniform(-6, -1)
        assert math.exp(-6) <= params["learning_rate"] <= math.exp(-1) and params["momentum"] in (0.0, 0.5, 0.9)
    history = run_ml("job", "show", "-n", best["name"], "--query", "properties.hyperparameters", "-o", "tsv")
    assert json.loads(history.stdout) == best["parameters"]
    assert set(best["metric"]) == {"loss"} and best["metric"]["loss"] < 3.5
    table = run_ml("job", "show", "-n", name, "-o", "table").stdout.splitlines()
    assert table[0].split() == ["Name", "Status", "Objective", "Trials", "BestTrial", "BestMetric", "BestParameters"]
    parameters = ", ".join(f"{k}={v:g}" for k, v in sorted(best["parameters"].items()))
    assert table[2].split() == [name, "Completed", "minimize", "loss", "4", best["name"],
                                f"loss={best['metric']['loss']:g}", *parameters.split()]


def test_grid_runs_every_combination_once_and_bounds_concurrency(tmp_path):
    spec = sweep_file(tmp_path, "python trial.py --x ${{search_space.x}} --sleep ${{search_space.sleep}}",
                      {"x": {"type": "choice", "values": [1, 2, 3]}, "sleep": {"type": "choice", "values": [0.5]}},
                      sampling_algorithm="grid", limits={"max_total_trials": 10, "max_concurrent_trials": 2})
    name = create(spec)
    assert wait_for(name, timeout=180) == "Completed"
    trials = trials_of(name)
    assert sorted(json.loads(t["properties"]["hyperparameters"])["x"] for t in trials) == [1, 2, 3]
    assert all(t["status"] == "Completed" for t in trials) and most_at_once(trials) <= 2
    job = shown(name)
    assert job["best_trial"]["parameters"] == {"x": 3, "sleep": 0.5} and job["best_trial"]["metric"] == {"score": 3.0}
    log = run_ml("job", "stream", "-n", f"{name}_0")
    assert "sweep variable 1" in log.stdout  # AZUREML_SWEEP_<name> is set too


def test_truncation_selection_stops_the_worst_trial_as_it_logs(tmp_path):
    spec = sweep_file(tmp_path, "python trial.py --x ${{search_space.x}} --epochs 12 --sleep 0.5",
                      {"x": {"type": "choice", "values": [1, 5]}}, sampling_algorithm="grid",
                      limits={"max_total_trials": 2, "max_concurrent_trials": 2},
                      early_termination={"type": "truncation_selection", "truncation_percentage": 50,
                                         "evaluation_interval": 1, "delay_evaluation": 2})
    name = create(spec)
    assert wait_for(name, timeout=180) == "Completed"
    trials = {json.loads(t["properties"]["hyperparameters"])["x"]: t for t in trials_of(name)}
    assert trials[5]["status"] == "Completed"
    assert trials[1]["status"] == "Canceled"
    reason = trials[1]["properties"]["EarlyTerminationReason"]
    assert reason.startswith("TruncationSelection policy at interval ") and "lowest 50% of 2 trials" in reason
    assert shown(name)["best_trial"]["metric"] == {"score": 60.0}


def test_a_failing_trial_does_not_fail_the_sweep_but_all_failing_do(tmp_path):
    spec = sweep_file(tmp_path, "python trial.py --x 1 --fail ${{search_space.fail}}",
                      {"fail": {"type": "choice", "values": ["yes", "no"]}}, sampling_algorithm="grid")
    name = create(spec)
    assert wait_for(name, timeout=120) == "Completed"
    assert sorted(t["status"] for t in trials_of(name)) == ["Completed", "Failed"]
    spec = sweep_file(tmp_path, "python trial.py --x 1 --fail ${{search_space.fail}}",
                      {"fail": {"type": "choice", "values": ["yes"]}}, sampling_algorithm="grid")
    name = create(spec)
    assert wait_for(name, timeout=120) == "Failed"
    assert "no trial completed" in shown(name)["properties"]["FailureReason"]


def test_sweep_timeout_cancels_it_and_its_trials(tmp_path):
    spec = sweep_file(tmp_path, "python trial.py --x ${{search_space.x}} --epochs 100 --sleep 0.5",
                      {"x": {"type": "uniform", "min_value": 0, "max_value": 1}},
                      limits={"max_total_trials": 2, "max_concurrent_trials": 2, "timeout": 4})
    name = create(spec)
    assert wait_for(name, timeout=60) == "Canceled"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(t["status"] != "Canceled" for t in trials_of(name)):
        time.sleep(0.2)
    assert [t["status"] for t in trials_of(name)] == ["Canceled", "Canceled"]


def test_canceling_a_sweep_cancels_its_running_trials(tmp_path):
    spec = sweep_file(tmp_path, "python trial.py --x ${{search_space.x}} --epochs 100 --sleep 0.5",
                      {"x": {"type": "uniform", "min_value": 0, "max_value": 1}})
    name = create(spec)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(t["status"] == "Running" for t in trials_of(name)):
        time.sleep(0.2)
    assert run_ml("job", "cancel", "-n", name).returncode == 0
    assert wait_for(name, timeout=20) == "Canceled"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(t["status"] not in ("Canceled",) for t in trials_of(name)):
        time.sleep(0.2)
    assert {t["status"] for t in trials_of(name)} == {"Canceled"}


def test_trial_timeout_ends_a_trial_that_runs_too_long(tmp_path):
    spec = sweep_file(tmp_path, "python trial.py --x 1 --epochs 100 --sleep ${{search_space.sleep}}",
                      {"sleep": {"type": "choice", "values": [1.0]}}, sampling_algorithm="grid",
                      limits={"max_total_trials": 1, "trial_timeout": 3})
    name = create(spec)
    assert wait_for(name, timeout=90) == "Completed"  # it logged a score before it timed out
    trial = trials_of(name)[0]
    assert trial["status"] == "Failed" and "timed out" in trial["properties"]["FailureReason"]


def test_bayesian_sampling_learns_from_the_trials(tmp_path):
    spec = sweep_file(tmp_path, "python trial.py --x ${{search_space.x}}",
                      {"x": {"type": "quniform", "min_value": 0, "max_value": 10, "q": 1}},
                      sampling_algorithm="bayesian", limits={"max_total_trials": 6, "max_concurrent_trials": 3})
    name = create(spec)
    assert wait_for(name, timeout=180) == "Completed"
    xs = [json.loads(t["properties"]["hyperparameters"])["x"] for t in trials_of(name)]
    assert len(xs) == 6 and all(float(x).is_integer() and 0 <= x <= 10 for x in xs)
    assert shown(name)["best_trial"]["metric"]["score"] == max(xs)


def test_a_search_space_the_algorithm_cannot_sample_fails_the_sweep_saying_why(tmp_path):
    spec = sweep_file(tmp_path, "python trial.py --x ${{search_space.x}}",
                      {"x": {"type": "normal", "mu": 0, "sigma": 1}}, sampling_algorithm="grid")
    name = create(spec)
    assert wait_for(name, timeout=60) == "Failed"
    assert shown(name)["properties"]["FailureReason"] == (
        "search_space.x: grid sampling takes only choice parameters, not normal")
    spec = sweep_file(tmp_path, "python trial.py --x ${{search_space.y}}",
                      {"x": {"type": "choice", "values": [1]}}, sampling_algorithm="grid")
    refused = run_ml("job", "create", "-f", str(spec))  # the spec check finds this one before anything runs
    assert refused.returncode != 0 and "trial.command: '${{search_space.y}}' names no search_space key" in refused.stderr
