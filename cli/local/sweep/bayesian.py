"""`sampling_algorithm: bayesian`: optuna's TPE sampler proposes each trial from the results so far.

Chosen by benchmarks/sweep_samplers.py (optuna, scikit-optimize, hyperopt, bayesian-optimization
on a toy sweep-shaped objective): see the pyproject.toml comment for the figures. As on Azure,
bayesian sampling takes choice, uniform and quniform parameters only. Trials still running when the
next one is proposed are treated as the constant liar does (TPE's `constant_liar`), so concurrent
trials do not all get the same proposal.
"""

from __future__ import annotations

import json
from typing import Optional

from cli.local.sweep.space import Distribution, SearchSpaceError, quantize

ALLOWED = ("choice", "uniform", "quniform")


def _to_optuna(distribution: Distribution):
    import optuna

    if distribution.kind == "choice":
        values = distribution.args[0]
        if any(not isinstance(v, (str, int, float, bool)) for v in values):
            raise SearchSpaceError(f"search_space.{distribution.name}: bayesian sampling takes plain choice values")
        return optuna.distributions.CategoricalDistribution(values)
    return optuna.distributions.FloatDistribution(distribution.args[0], distribution.args[1])


class BayesianSampler:
    def __init__(self, space: list[Distribution], goal: str = "maximize", seed: Optional[int] = None):
        for distribution in space:
            if distribution.kind not in ALLOWED:
                raise SearchSpaceError(f"search_space.{distribution.name}: bayesian sampling takes choice, uniform "
                                       f"and quniform parameters only, not {distribution.kind}")
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space = space
        self.distributions = {d.name: _to_optuna(d) for d in space}
        direction = "maximize" if goal.lower() == "maximize" else "minimize"
        self.study = optuna.create_study(direction=direction,
                                         sampler=optuna.samplers.TPESampler(seed=seed, constant_liar=True))
        self.pending: dict[str, list] = {}

    def propose(self) -> Optional[dict]:
        trial = self.study.ask(self.distributions)
        params = {d.name: quantize(trial.params[d.name], d.q) if d.kind == "quniform" else trial.params[d.name]
                  for d in self.space}
        self.pending.setdefault(json.dumps(params, sort_keys=True), []).append(trial)
        return params

    def observe(self, params: dict, value: Optional[float]) -> None:
        from optuna.trial import TrialState

        waiting = self.pending.get(json.dumps(params, sort_keys=True))
        if not waiting:
            return
        trial = waiting.pop(0)
        if value is None:
            self.study.tell(trial, state=TrialState.FAIL)
        else:
            self.study.tell(trial, value)
