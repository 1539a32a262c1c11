"""Building a job environment: ours (uv) beside `python -m venv` + `pip install`, and what a built one costs a job.

    python benchmarks/environments.py [--environment sklearn-1.5] [--repeat 5]

1. Cold build of a curated environment from its published definition: ours, with an empty uv cache and
   an empty environments folder, then `python3.X -m venv` + `pip install -r` of the very requirements
   ours installed (pins already relaxed where they had no wheel), with an empty pip cache. Both
   download everything from the package index. Target: ours >= 3x faster.
2. What a cached environment adds to a job: a fresh process that imports the runner's environment
   module and prepares the built environment (definition, content hash, cache check), the median of
   --repeat runs; and a warm call in one process. Target: <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cli.local.environments import builder, curated, pythons  # noqa: E402


def ours(name: str, root: Path, cache: Path) -> tuple[float, Path]:
    os.environ["UV_CACHE_DIR"] = str(cache)
    started = time.perf_counter()
    built = builder.ensure(curated.definition(name), root, lambda line: print(f"  {line}", file=sys.stderr))
    return time.perf_counter() - started, built.venv


def venv_and_pip(python: Path, requirements: Path, folder: Path, cache: Path) -> float:
    # pip as it comes: this machine's pip.conf (local wheel folders, a constraints file) left out, like uv's
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_")) or k == "PIP_CERT"}
    env["PIP_CONFIG_FILE"] = os.devnull
    started = time.perf_counter()
    subprocess.run([str(python), "-m", "venv", str(folder)], check=True, env=env)
    subprocess.run([str(folder / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "--cache-dir", str(cache), "-r", str(requirements)], check=True, env=env)
    return time.perf_counter() - started


PREPARE = """
import sys, time
if sys.argv[3] == "runner":  # what the runner has loaded anyway before it prepares the environment
    import cli.local.service, cli.local.runner.binding, cli.local.runner.data, cli.local.runner.launch
    import cli.local.runner.state
started = time.perf_counter()
from cli.local.runner.environment import prepare
python = prepare(None, sys.argv[1], sys.argv[2])
elapsed = time.perf_counter() - started
assert python.notices[-1].startswith("reusing"), python.notices
print(elapsed)
"""


def cached_cost(environment_id: str, home: Path, root: Path, repeat: int) -> tuple[float, float, float]:
    """(fresh process: import + prepare, the same in a runner with its other modules loaded, warm prepare)."""
    # bytecode as an installed ml has it, kept out of the checkout
    env = {**os.environ, "ML_ENVIRONMENTS_DIR": str(root), "PYTHONPATH": str(REPO),
           "PYTHONPYCACHEPREFIX": str(home / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    def once(mode: str) -> float:
        return float(subprocess.run([sys.executable, "-c", PREPARE, environment_id, str(home), mode], env=env,
                                    check=True, capture_output=True, text=True).stdout)

    once("bare")  # writes the bytecode
    bare = statistics.median(once("bare") for _ in range(repeat))
    runner = statistics.median(once("runner") for _ in range(repeat))
    os.environ["ML_ENVIRONMENTS_DIR"] = str(root)
    from cli.local.runner.environment import prepare

    prepare(None, environment_id, home)
    started = time.perf_counter()
    for _ in range(repeat):
        prepare(None, environment_id, home)
    return bare, runner, (time.perf_counter() - started) / repeat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environment", default="sklearn-1.5", help="a curated environment's short name")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-pip", action="store_true", help="only ours (the pip build takes minutes)")
    parser.add_argument("--cached-only", action="store_true",
                        help="only the cached figures (builds with the usual uv cache first)")
    args = parser.parse_args()
    definition = curated.definition(args.environment)
    python, warning = pythons.choose(definition.python)
    print(f"environment AzureML-{args.environment}: Python {python.label} ({python.path}),"
          f" {len(definition.requirements)} requirements" + (f"; {warning}" if warning else ""))
    with tempfile.TemporaryDirectory(prefix="ml-env-bench-") as scratch:
        scratch = Path(scratch)
        cache = Path(os.environ.get("UV_CACHE_DIR") or Path.home() / ".cache" / "uv") if args.cached_only \
            else scratch / "uv-cache"
        ours_seconds, venv = ours(args.environment, scratch / "envs", cache)
        if not args.cached_only:
            print(f"cold build, ours (uv, empty cache):            {ours_seconds:7.1f} s")
        if not args.skip_pip and not args.cached_only:
            pip_seconds = venv_and_pip(python.path, venv / "requirements.txt", scratch / "pip-venv",
                                       scratch / "pip-cache")
            print(f"cold build, python -m venv + pip (empty cache): {pip_seconds:7.1f} s")
            print(f"ratio: ours is {pip_seconds / ours_seconds:.1f}x faster (target >= 3x)")
        bare, runner, warm = cached_cost(f"azureml:AzureML-{args.environment}@latest", scratch / "home",
                                         scratch / "envs", args.repeat)
        print(f"cached environment, added to a job's runner (import + prepare, median of {args.repeat}):"
              f" {runner * 1000:.1f} ms (target <= 50 ms)")
        print(f"  the same in a bare interpreter (json, hashlib, subprocess... not yet loaded): {bare * 1000:.1f} ms")
        print(f"  prepare() alone, warm process: {warm * 1000:.2f} ms")
        shutil.rmtree(scratch / "uv-cache", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
