"""Local pipeline overhead per step and the wall time of an unchanged re-run, on a fresh ML_HOME.

    python benchmarks/pipelines.py [--steps 100] [--shapes chain,fanout]

For each shape, a pipeline of --steps trivial inline command steps (`echo <i> > out/x.txt`, each
reading the previous step's output in the chain; all reading one root step's output in the fan-out):
1. `ml job create -f pipeline.yml --stream` (create to Completed, whole process), force_rerun so
   every step runs, against running the same commands directly in a shell, one after another
   (chain) or all at once (fan-out): overhead per step = (ml - direct) / steps (target <= 50 ms).
2. The same pipeline created again unchanged: every step reused (target <= 2 s for 100 steps).
Printed, never asserted: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENVIRONMENT = "azureml://registries/azureml/environments/sklearn-1.5/versions/1"


def pipeline_spec(steps: int, shape: str) -> str:
    lines = ["$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json", "type: pipeline",
             f"display_name: bench-{shape}-{steps}", "jobs:"]
    for i in range(steps):
        lines += [f"  s{i}:", f"    command: echo {i} > ${{{{outputs.out}}}}/x.txt" +
                  (" && cat ${{inputs.x}}/x.txt" if i else ""),
                  f"    environment: {ENVIRONMENT}", "    outputs:", "      out:"]
        if i:
            upstream = f"s{i - 1}" if shape == "chain" else "s0"
            lines += ["    inputs:", f"      x: ${{{{parent.jobs.{upstream}.outputs.out}}}}"]
    return "\n".join(lines) + "\n"


def direct(steps: int, shape: str, folder: Path) -> float:
    """The same commands without ml: in sequence (chain) or all at once after the first (fan-out)."""
    outs = [folder / f"d{i}" for i in range(steps)]
    for out in outs:
        out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    subprocess.run(["bash", "-c", f"echo 0 > {outs[0]}/x.txt"], check=True)
    commands = [f"echo {i} > {outs[i]}/x.txt && cat {outs[i - 1 if shape == 'chain' else 0]}/x.txt"
                for i in range(1, steps)]
    if shape == "chain":
        for command in commands:
            subprocess.run(["bash", "-c", command], check=True, stdout=subprocess.DEVNULL)
    else:
        running = [subprocess.Popen(["bash", "-c", c], stdout=subprocess.DEVNULL) for c in commands]
        for process in running:
            process.wait()
    return time.perf_counter() - start


def timed_create(spec: Path, env: dict, *overrides: str) -> float:
    sets = [arg for o in overrides for arg in ("--set", o)]
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cli", "job", "create", "-f", str(spec), *sets, "--stream",
                             "-o", "none"], env=env, capture_output=True, text=True, cwd=spec.parent)
    took = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"the pipeline failed ({result.returncode}): {result.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--shapes", default="chain,fanout")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ml-bench-pipelines-"))
    # bytecode as an installed ml has it (kept out of the checkout): without it, every interpreter
    # (`ml`, the pipeline's runner, its children's tracking server) compiles our modules again
    env = {**os.environ, "ML_HOME": str(home / "ml"), "PYTHONPATH": str(REPO), "NO_COLOR": "1",
           "PYTHONPYCACHEPREFIX": str(home / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    warm = home / "warm.yml"  # the environment is built once, and the bytecode written, outside the measurements
    warm.write_text(pipeline_spec(1, "chain"))
    timed_create(warm, env)
    for shape in args.shapes.split(","):
        spec = home / f"{shape}.yml"
        spec.write_text(pipeline_spec(args.steps, shape))
        ran = timed_create(spec, env, "settings.force_rerun=true")
        plain = direct(args.steps, shape, home / f"direct-{shape}")
        rerun = timed_create(spec, env)
        print(f"{shape:7s} {args.steps} steps: ml {ran:7.2f} s, directly {plain:6.2f} s,"
              f" overhead {1000 * (ran - plain) / args.steps:6.1f} ms per step (target <= 50);"
              f" unchanged re-run {rerun:5.2f} s (target <= 2)")


if __name__ == "__main__":
    main()
