"""Local job overhead and compute concurrency, on a fresh temporary ML_HOME.

    python benchmarks/jobs.py [--runs 5] [--jobs 20] [--max-instances 4] [--seconds 1]

1. `ml job create -f echo.yml --stream` (create to Completed, whole process) against running
   `echo hello world` directly: median wall times and the difference (target: <= 0.3 s added).
2. --jobs jobs of `sleep --seconds` on a compute with --max-instances: every job completes, the
   statuses sampled meanwhile never show more than max-instances running, and the total time is
   compared with jobs/max-instances rounds of one job.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = """command: {command}
code: src
environment: azureml:AzureML-sklearn-1.5@latest
{extra}"""
ACTIVE = ("Starting", "Running", "Finalizing")


def ml(*args: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise SystemExit(f"ml {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return result


def wall(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def spec(folder: Path, command: str, extra: str = "") -> Path:
    (folder / "src").mkdir(exist_ok=True)
    (folder / "src" / "keep.txt").write_text("-\n")
    path = folder / f"job-{abs(hash((command, extra)))}.yml"
    path.write_text(SPEC.format(command=command, extra=extra))
    return path


def overhead(folder: Path, env: dict, runs: int) -> None:
    job = spec(folder, "echo hello world")
    ml("job", "create", "-f", str(job), "--stream", "-o", "none", env=env)  # warm: code uploaded once
    with_ml = [wall([sys.executable, "-m", "cli", "job", "create", "-f", str(job), "--stream", "-o", "none"], env)
               for _ in range(runs)]
    direct = [wall(["sh", "-c", "echo hello world"], env) for _ in range(runs)]
    ml_s, direct_s = statistics.median(with_ml), statistics.median(direct)
    print(f"echo job, create -> Completed (--stream), median of {runs}: {ml_s:.3f} s")
    print(f"echo hello world directly, median of {runs}:              {direct_s:.3f} s")
    print(f"added by ml: {ml_s - direct_s:.3f} s (target <= 0.3 s)"
          f"  [min {min(with_ml) - direct_s:.3f} s, max {max(with_ml) - direct_s:.3f} s]")


def concurrency(folder: Path, env: dict, jobs: int, max_instances: int, seconds: float) -> None:
    from cli.client.context import resolve_target
    from cli.targets import make_client

    os.environ["ML_HOME"] = env["ML_HOME"]  # the runners this process starts inherit it
    ml("compute", "create", "-n", "bench", "--type", "amlcompute", "--max-instances", str(max_instances), env=env)
    job = spec(folder, f"python -c 'import time; time.sleep({seconds})'", "compute: azureml:bench\n")
    single_start = time.perf_counter()
    ml("job", "create", "-f", str(job), "--stream", "-o", "none", env=env)
    single = time.perf_counter() - single_start

    from cli.operations.job import create
    from cli.spec.loader import load_spec

    # Created in this process, so the timing is the runners' and not that of `jobs` CLI start-ups.
    client = make_client(resolve_target(env=env), env=env)
    data = load_spec(job, group="job").data
    start = time.perf_counter()
    names = [create(client, data)["name"] for _ in range(jobs)]
    wanted, peak, samples = set(names), 0, 0
    while True:
        statuses = {item["name"]: item["properties"]["status"]
                    for item in client.list(client.workspace.job(), {"listViewType": "All"})
                    if item["name"] in wanted}
        samples += 1
        peak = max(peak, sum(1 for s in statuses.values() if s in ACTIVE))
        if all(s in ("Completed", "Failed", "Canceled") for s in statuses.values()) and len(statuses) == jobs:
            break
        time.sleep(0.05)
    total = time.perf_counter() - start
    client.close()
    outcomes = {s: list(statuses.values()).count(s) for s in set(statuses.values())}
    rounds = -(-jobs // max_instances)
    print(f"{jobs} jobs of sleep {seconds}s on a compute with max_instances {max_instances}: {outcomes}")
    print(f"most running at once (of {samples} samples): {peak} (limit {max_instances})")
    print(f"total {total:.2f} s (in-process creates included) vs {rounds} rounds of one job "
          f"({single:.2f} s each, create to Completed): {rounds * single:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--max-instances", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="ml-bench-") as scratch:
        folder = Path(scratch)
        env = {**os.environ, "ML_HOME": str(folder / "home"), "PYTHONPATH": str(REPO)}
        for name in ("ML_WORKSPACE", "ML_RESOURCE_GROUP", "ML_SUBSCRIPTION", "ML_TARGET"):
            env.pop(name, None)
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        overhead(folder, env, args.runs)
        concurrency(folder, env, args.jobs, args.max_instances, args.seconds)


if __name__ == "__main__":
    main()
