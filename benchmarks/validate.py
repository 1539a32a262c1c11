"""Whole-process wall time and peak memory of `ml` validation, beside the official SDK's.

    python benchmarks/validate.py [--runs 11] [--sdk-python /path/to/python-with-azure-ai-ml]

Prints, per case, the median wall time over --runs fresh processes and the peak RSS, and, when an
SDK interpreter is given, the same work through azure-ai-ml and the ratio (SDK / ml). Targets:
command job <= 100 ms and <= 40 MB, pipeline job <= 150 ms, whole corpus <= 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "conformance"
COMMAND_JOB = REPO / "specs" / "examples" / "hello-world" / "job.yml"
PIPELINE_JOB = REPO / "specs" / "examples" / "pipeline" / "pipeline.yml"

SDK_LOAD_JOB = "import sys\nfrom azure.ai.ml import load_job\nload_job(sys.argv[1])\n"
SDK_CORPUS = REPO / "tests" / "conformance" / "sdk_oracle.py"


def measure(argv: list[str], runs: int, env: dict) -> tuple[float, float]:
    """Median wall seconds and max peak RSS (MB) over `runs` fresh processes."""
    times, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=REPO)
        _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) not in (0, 4):
            raise SystemExit(f"{' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    return statistics.median(times), max(peaks)


def ml_command() -> list[str]:
    return [sys.executable, "-m", "cli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--sdk-python", help="a Python interpreter with azure-ai-ml installed")
    args = parser.parse_args()
    # A user's installation has bytecode caches; without them every run recompiles our modules.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO)
    subprocess.run(ml_command() + ["validate", str(REPO / "specs"), "-o", "none"], env=env, capture_output=True)

    baseline, baseline_mb = measure([sys.executable, "-c", "pass"], args.runs, env)
    print(f"python start-up alone: {baseline * 1000:.0f} ms, {baseline_mb:.0f} MB")
    floor, floor_mb = measure([sys.executable, "-c", "import typer, yaml"], args.runs, env)
    print(f"importing typer and yaml alone (the floor of any ml call): {floor * 1000:.0f} ms, {floor_mb:.0f} MB")
    cases = [
        ("command job", ml_command() + ["job", "validate", "-f", str(COMMAND_JOB), "-o", "none"], [str(COMMAND_JOB)], 0.100),
        ("pipeline job", ml_command() + ["job", "validate", "-f", str(PIPELINE_JOB), "-o", "none"], [str(PIPELINE_JOB)], 0.150),
    ]
    if CORPUS.is_dir():
        cases.append(("whole corpus", ml_command() + ["validate", str(CORPUS), "-o", "none"], None, 1.5))
    else:
        print(f"(corpus case skipped: {CORPUS} is absent)")
    print(f"{'case':<14} {'ml':>10} {'peak':>8} {'target':>8}   {'sdk':>10} {'peak':>8} {'ratio':>7}")
    for name, argv, sdk_args, target in cases:
        runs = args.runs if name != "whole corpus" else max(3, args.runs // 3)
        wall, peak = measure(argv, runs, env)
        line = f"{name:<14} {wall * 1000:>8.0f}ms {peak:>6.0f}MB {target * 1000:>6.0f}ms"
        if args.sdk_python:
            if sdk_args is None:
                sdk_argv = [args.sdk_python, str(SDK_CORPUS), str(CORPUS), "--out", os.devnull]
                sdk_runs = 1
            else:
                sdk_argv = [args.sdk_python, "-c", SDK_LOAD_JOB, *sdk_args]
                sdk_runs = max(3, args.runs // 3)
            sdk_wall, sdk_peak = measure(sdk_argv, sdk_runs, {**os.environ})
            line += f"   {sdk_wall * 1000:>8.0f}ms {sdk_peak:>6.0f}MB {sdk_wall / wall:>6.1f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
