"""Which library drives `sampling_algorithm: bayesian`: optuna, scikit-optimize, hyperopt and
bayesian-optimization side by side, with plain random sampling as the floor.

Prints, for each candidate that is importable in the interpreter given by --python:
- import ms: a fresh interpreter importing what an ask/tell loop needs (median of --imports turns;
  the sweep runner pays it once per bayesian sweep, never `ml` itself);
- ms/ask: the mean cost of proposing one point (ask + tell), over a whole run;
- best (mean, worst): the best objective found within --trials evaluations, averaged over --seeds
  seeded runs (and the worst run), on a toy objective shaped like a sweep: Branin on two `uniform`
  parameters plus a `choice` that adds 0, 1 or 3 (minimum 0.397887 with choice "a"), proposed in
  batches of --concurrent points (as trials run max_concurrent_trials at a time: each batch is asked
  before any of it is told).

Run: python benchmarks/sweep_samplers.py --python PY [--trials 30] [--seeds 10] [--concurrent 4]
[--only optuna random ...]
(PY: an interpreter with the candidates installed: pip install optuna scikit-optimize hyperopt
bayesian-optimization). Numbers are for comparing rows on one machine, not absolute.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
import time

IMPORTS = {
    "optuna (TPE)": "import optuna",
    "scikit-optimize (GP)": "import skopt",
    "hyperopt (TPE)": "import hyperopt",
    "bayesian-optimization (GP)": "import bayes_opt",
    "random": "import random",
}

# One seeded run of a candidate, in a child interpreter: prints {"best": ..., "ms_per_ask": ...}.
RUN = textwrap.dedent('''
    import json, math, random, sys, time
    name, seed, trials, concurrent = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    OFFSET = {"a": 0.0, "b": 1.0, "c": 3.0}

    def objective(x, y, c):
        b, cc, r, s, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
        return (y - b * x * x + cc * x - r) ** 2 + s * (1 - t) * math.cos(x) + s + OFFSET[c]

    def run_random():
        rng = random.Random(seed)
        return [objective(rng.uniform(-5, 10), rng.uniform(0, 15), rng.choice("abc")) for _ in range(trials)]

    def run_optuna():
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        space = {"x": optuna.distributions.FloatDistribution(-5, 10), "y": optuna.distributions.FloatDistribution(0, 15),
                 "c": optuna.distributions.CategoricalDistribution(["a", "b", "c"])}
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed, constant_liar=True))
        seen = []
        while len(seen) < trials:
            batch = [study.ask(space) for _ in range(min(concurrent, trials - len(seen)))]
            for trial in batch:
                value = objective(**trial.params)
                study.tell(trial, value)
                seen.append(value)
        return seen

    def run_skopt():
        from skopt import Optimizer
        opt = Optimizer([(-5.0, 10.0), (0.0, 15.0), ["a", "b", "c"]], base_estimator="GP", random_state=seed,
                        n_initial_points=10)
        seen = []
        while len(seen) < trials:
            points = opt.ask(n_points=min(concurrent, trials - len(seen)), strategy="cl_min")
            values = [objective(*p) for p in points]
            opt.tell(points, values)
            seen += values
        return seen

    def run_hyperopt():
        from hyperopt import hp, tpe, Trials, fmin
        import numpy as np
        space = {"x": hp.uniform("x", -5, 10), "y": hp.uniform("y", 0, 15), "c": hp.choice("c", ["a", "b", "c"])}
        seen = []
        def f(p):
            value = objective(p["x"], p["y"], p["c"])
            seen.append(value)
            return value
        fmin(f, space, algo=tpe.suggest, max_evals=trials, trials=Trials(), rstate=np.random.default_rng(seed),
             show_progressbar=False)  # hyperopt has no batched ask: sequential (its best case)
        return seen

    def run_bayes_opt():
        from bayes_opt import BayesianOptimization
        opt = BayesianOptimization(f=None, pbounds={"x": (-5, 10), "y": (0, 15), "c": ("a", "b", "c")},
                                   random_state=seed, verbose=0, allow_duplicate_points=True)
        seen = []
        while len(seen) < trials:
            batch = [opt.suggest() for _ in range(min(concurrent, trials - len(seen)))]
            for point in batch:
                value = objective(point["x"], point["y"], point["c"])
                opt.register(params=point, target=-value)  # it maximises
                seen.append(value)
        return seen

    runs = {"optuna (TPE)": run_optuna, "scikit-optimize (GP)": run_skopt, "hyperopt (TPE)": run_hyperopt,
            "bayesian-optimization (GP)": run_bayes_opt, "random": run_random}
    start = time.perf_counter()
    values = runs[name]()
    elapsed = time.perf_counter() - start
    print(json.dumps({"best": min(values), "ms_per_ask": elapsed * 1000 / len(values)}))
''')


def import_ms(python: str, statement: str, turns: int) -> float | None:
    times = []
    for _ in range(turns):
        start = time.perf_counter()
        if subprocess.run([python, "-c", statement], capture_output=True).returncode != 0:
            return None
        times.append((time.perf_counter() - start) * 1000)
    baseline = []
    for _ in range(turns):
        start = time.perf_counter()
        subprocess.run([python, "-c", "pass"], capture_output=True)
        baseline.append((time.perf_counter() - start) * 1000)
    return statistics.median(times) - statistics.median(baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--concurrent", type=int, default=4)
    parser.add_argument("--imports", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="candidates to run (their first word: optuna, random...)")
    args = parser.parse_args()
    print(f"toy objective: Branin + choice offset, minimum 0.3979; {args.trials} trials in batches of "
          f"{args.concurrent}, {args.seeds} seeds")
    print(f"{'candidate':28s} {'import ms':>9s} {'ms/ask':>8s} {'best mean':>10s} {'best worst':>10s}")
    for name, statement in IMPORTS.items():
        if args.only and name.split()[0] not in args.only:
            continue
        imported = import_ms(args.python, statement, args.imports)
        if imported is None:
            print(f"{name:28s} not installed")
            continue
        bests, costs = [], []
        for seed in range(args.seeds):
            out = subprocess.run([args.python, "-c", RUN, name, str(seed), str(args.trials), str(args.concurrent)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{name:28s} failed: {out.stderr.strip().splitlines()[-1:]}")
                break
            result = json.loads(out.stdout.strip().splitlines()[-1])  # some print on their own
            bests.append(result["best"])
            costs.append(result["ms_per_ask"])
        else:
            print(f"{name:28s} {imported:9.0f} {statistics.mean(costs):8.1f} {statistics.mean(bests):10.3f} "
                  f"{max(bests):10.3f}")


if __name__ == "__main__":
    main()
