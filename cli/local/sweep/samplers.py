"""The sampling algorithms of a sweep: which parameter values the next trial gets.

A sampler proposes one point at a time (`propose()`, None once the space is exhausted) and is told
each trial's result (`observe(params, value)`, value None when the trial gave no metric). Random
and grid ignore results; bayesian (bayesian.py) learns from them.
    random   independent draws, seeded by `seed`; `rule: sobol` takes the points of a scrambled
             Sobol sequence instead (scipy's, seeded too), so few trials still cover the space
    grid     every combination of the `choice` values, in parameter-name order (choice only, as on Azure)
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any, Iterator, Optional

from cli.local.sweep.space import Distribution, SearchSpaceError, parse


class RandomSampler:
    def __init__(self, space: list[Distribution], seed: Optional[int] = None, rule: str = "random",
                 logbase: float = math.e):
        self.space, self.logbase = space, logbase
        self.rng = random.Random(seed)
        self.sobol = None
        if rule.lower() == "sobol":
            from scipy.stats import qmc

            self.sobol = qmc.Sobol(d=len(space), scramble=True, seed=seed)
        elif rule.lower() != "random":
            raise SearchSpaceError(f"sampling_algorithm.rule: '{rule}' is not a rule (random or sobol)")

    def _unit_point(self) -> list[float]:
        if self.sobol is not None:
            return [float(u) for u in self.sobol.random(1)[0]]
        return [self.rng.random() for _ in self.space]

    def _draw_nested(self, distribution: Distribution) -> Any:
        return distribution.from_unit(self.rng.random(), self.logbase, self._draw_nested)

    def propose(self) -> Optional[dict]:
        return {d.name: d.from_unit(u, self.logbase, self._draw_nested) for d, u in zip(self.space, self._unit_point())}

    def observe(self, params: dict, value: Optional[float]) -> None:
        pass


class GridSampler:
    def __init__(self, space: list[Distribution]):
        for distribution in space:
            if distribution.kind != "choice":
                raise SearchSpaceError(f"search_space.{distribution.name}: grid sampling takes only choice "
                                       f"parameters, not {distribution.kind}")
            if any(isinstance(v, dict) for v in distribution.args[0]):
                raise SearchSpaceError(f"search_space.{distribution.name}: grid sampling takes plain choice values")
        names = [d.name for d in space]
        self._points: Iterator[tuple] = itertools.product(*(d.args[0] for d in space))
        self._names = names
        self.size = math.prod(len(d.args[0]) for d in space)

    def propose(self) -> Optional[dict]:
        point = next(self._points, None)
        return None if point is None else dict(zip(self._names, point))

    def observe(self, params: dict, value: Optional[float]) -> None:
        pass


def _logbase(value) -> float:
    if value is None or (isinstance(value, str) and value.lower() == "e"):
        return math.e
    try:
        base = float(value)
    except (TypeError, ValueError):
        base = 0.0
    if base <= 0 or base == 1:
        raise SearchSpaceError(f"sampling_algorithm.logbase: {value!r} is not a positive number other than 1 (or 'e')")
    return base


def make_sampler(algorithm: dict, search_space: dict, goal: str = "maximize"):
    """The sampler a REST `samplingAlgorithm` names, over the REST `searchSpace`."""
    space = parse(search_space)
    kind = (algorithm or {}).get("samplingAlgorithmType", "Random").lower()
    if kind == "random":
        seed = algorithm.get("seed")
        return RandomSampler(space, seed=int(seed) if seed is not None else None, rule=algorithm.get("rule") or "random",
                             logbase=_logbase(algorithm.get("logbase")))
    if kind == "grid":
        return GridSampler(space)
    if kind == "bayesian":
        from cli.local.sweep.bayesian import BayesianSampler

        return BayesianSampler(space, goal=goal)
    raise SearchSpaceError(f"sampling_algorithm: '{algorithm.get('samplingAlgorithmType')}' is not random, grid or bayesian")
