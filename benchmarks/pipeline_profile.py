"""Where a local pipeline's time goes: cProfile of the pipeline's runner, and optionally of every step's runner.

    python benchmarks/pipeline_profile.py PIPELINE.yml [--set settings.force_rerun=true] [--steps-profile DIR]

Creates the pipeline job on $ML_HOME's local workspace (as `ml job create` does) but runs its runner
in this process under cProfile, and prints the top of the profile. With --steps-profile, each step's
runner (a fork of this one) writes its own profile to DIR/<job>.prof; they are printed merged.
Printed, never asserted.

What it showed on the 100-step benchmarks/pipelines.py shapes (2 shared cores, before the changes
that followed; wall times from the runners' logs):
- force-rerun chain, ~140 ms per step: the pipeline's runner notices a step's end by polling every
  20 ms (7 polls a step) and submits the next in ~30 ms (the PUT through the local app ~12 ms, the
  fork ~11 ms, the reuse key and the body ~6 ms); the step's runner spends ~40 ms from Starting to
  its command: filtering the submitter's environment (fnmatch compiles its ~110 patterns again in
  every fork: ~50% of it), starting its MLflow tracking server (~25 ms, waiting for uvicorn to
  listen), building the workspace service's router (~10 ms), reading the curated environment's
  definition (~15 ms); and after Completed ~190 ms stopping the tracking server (off the critical
  path, but CPU the next step competes with).
- fan-out, ~90 ms per step: the same costs; 99 steps start at once, so the two cores are the limit.
- unchanged re-run, 1.6-2.9 s for 100 steps, of which the runner's reuse pass is only 0.15-0.4 s:
  `ml job create` ~1.4 s (interpreter and spec ~0.4 s, then 100 component PUTs ~6 ms each), the
  pipeline runner's interpreter start ~0.6 s, and `--stream` reading each reused step's run details
  (which also makes the step's folder) ~1.5 s.

After the changes (same load): a chain step costs ~40 ms in the pipeline's runner (the step's PUT:
handler, contract check, job folder, fork) and ~45-80 ms in its own runner (five status writes, the
tracking server, launching `bash -c`); the pipeline's runner wakes within ~1 ms of a step's end. An
unchanged re-run is `ml job create` (~0.9 s with its 100 component PUTs), the runner's interpreter
start (~0.5 s) and a reuse pass of ~0.2 s.

Then (timestamps in the runners' logs, a 100-step chain on two idle cores, ~42 ms a step): a step's
own tracking server cost ~25 ms before its command, mostly its thread contending with the runner's
SQLite writes for the interpreter; the fork, the child opening the workspace and forking its watchdog
~15 ms. With one tracking server per parent (cli/local/tracking/shared.py) and spare runners forked
ahead (cli/local/runner/forked.py), a chain step is ~35 ms: the parent's wake and step key ~3 ms, the
step's PUT ~5 ms, the spare's start to Starting ~5 ms, Starting to Running ~10 ms (inputs ~3, tracking
run ~3, launch ~1.5), the command and the last status writes ~5 ms.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec")
    parser.add_argument("--set", action="append", default=[], dest="sets")
    parser.add_argument("--steps-profile", help="a folder for each step runner's profile")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    import cli.local.runner as runners
    from cli.app import main as ml
    from cli.local.runner import forked
    from cli.local.runner import run as run_module

    caught: list[str] = []
    spawn = runners.spawn

    def catch_first(home, workspace, job):  # the pipeline's own runner runs here, the steps' as forks
        if not caught:
            caught.append(job)
            return 0
        return spawn(home, workspace, job)

    runners.spawn = catch_first
    if args.steps_profile:
        Path(args.steps_profile).mkdir(parents=True, exist_ok=True)
        step_main = run_module.main

        def profiled(argv, canceled_early=None, service=None):
            profile = cProfile.Profile()
            profile.enable()
            try:
                return step_main(argv, canceled_early, service)
            finally:
                profile.disable()
                profile.dump_stats(str(Path(args.steps_profile) / f"{argv[2]}.prof"))

        run_module.main = profiled
    started = time.perf_counter()
    if ml(["job", "create", "-f", args.spec, *[a for s in args.sets for a in ("--set", s)], "-o", "none"]):
        raise SystemExit("ml job create failed")
    print(f"create: {time.perf_counter() - started:.2f} s", file=sys.stderr)
    forked.mark_runner()
    runner = run_module.Runner(Path(os.environ["ML_HOME"]), "local", caught[0])
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(runner.run)
    print(f"pipeline runner: {time.perf_counter() - started:.2f} s", file=sys.stderr)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    if args.steps_profile:
        found = [str(p) for p in Path(args.steps_profile).glob(f"{caught[0]}_*.prof")]
        if found:
            print(f"---- the {len(found)} step runners, merged")
            merged = pstats.Stats(*found)
            merged.files = []  # not one header line per step
            merged.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
