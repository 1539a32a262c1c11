"""A sweep's search space as the REST body holds it (`["uniform", [0.1, 0.5]]`), and the draws from it.

Each distribution reads Azure's definitions (Hyperdrive's parameter expressions):
    choice(values)                      one of the values (a dict value may hold nested distributions)
    randint(upper)                      an integer in [0, upper)
    uniform(lo, hi)                     uniform in [lo, hi]
    quniform(lo, hi, q)                 round(uniform(lo, hi) / q) * q
    loguniform(lo, hi)                  logbase ** uniform(lo, hi)    (logbase e unless the algorithm says)
    qloguniform(lo, hi, q)              round(logbase ** uniform(lo, hi) / q) * q
    normal(mu, sigma)                   normal with mean mu and deviation sigma
    qnormal(mu, sigma, q)               round(normal(mu, sigma) / q) * q
    lognormal(mu, sigma)                logbase ** normal(mu, sigma)
    qlognormal(mu, sigma, q)            round(logbase ** normal(mu, sigma) / q) * q
Every draw goes through `from_unit`: a point of [0, 1) per parameter becomes a value by the inverse
of the distribution's CDF, so random and Sobol sampling share one mapping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

KINDS = ("choice", "randint", "uniform", "quniform", "loguniform", "qloguniform",
         "normal", "qnormal", "lognormal", "qlognormal")
_ARITY = {"randint": 1, "uniform": 2, "loguniform": 2, "normal": 2, "lognormal": 2,
          "quniform": 3, "qloguniform": 3, "qnormal": 3, "qlognormal": 3}
_EDGE = 1e-12  # keeps the inverse normal CDF finite at the cube's corners


class SearchSpaceError(ValueError):
    """A search space entry that cannot be sampled; the message names the parameter."""


@dataclass(frozen=True)
class Distribution:
    name: str
    kind: str
    args: tuple  # (values,) for choice; the numbers of the REST form otherwise

    @property
    def q(self) -> float | None:
        return self.args[2] if self.kind.startswith("q") else None

    def from_unit(self, u: float, logbase: float = math.e, nested=None) -> Any:
        """The value at quantile `u` in [0, 1). `nested(distribution)` draws a choice's nested ones."""
        if self.kind == "choice":
            values = self.args[0]
            value = values[min(int(u * len(values)), len(values) - 1)]
            if isinstance(value, dict) and nested is not None:
                return {k: nested(v) if isinstance(v, Distribution) else v for k, v in value.items()}
            return value
        if self.kind == "randint":
            return min(int(u * self.args[0]), int(self.args[0]) - 1)
        if self.kind.removeprefix("q") in ("uniform", "loguniform"):
            lo, hi = self.args[0], self.args[1]
            raw = lo + u * (hi - lo)
        else:
            mu, sigma = self.args[0], self.args[1]
            raw = NormalDist(mu, sigma).inv_cdf(min(max(u, _EDGE), 1 - _EDGE)) if sigma > 0 else mu
        if self.kind.removeprefix("q").startswith("log"):
            raw = logbase ** raw
        return quantize(raw, self.q) if self.q else raw


def quantize(value: float, q: float) -> float:
    """round(value / q) * q, kept an int when q is one (Hyperdrive reports 16, not 16.0)."""
    result = round(value / q) * q
    return int(result) if float(q).is_integer() else result


def _distribution(name: str, rest) -> Distribution:
    if not (isinstance(rest, list) and len(rest) == 2 and isinstance(rest[0], str) and isinstance(rest[1], list)):
        raise SearchSpaceError(f"search_space.{name}: expected [kind, [arguments]], got {rest!r}")
    kind, args = rest[0].lower(), rest[1]
    if kind == "choice":
        if len(args) != 1 or not isinstance(args[0], list) or not args[0]:
            raise SearchSpaceError(f"search_space.{name}: choice needs a non-empty list of values")
        values = [{k: _nested(f"{name}.{k}", v) for k, v in value.items()} if isinstance(value, dict) else value
                  for value in args[0]]
        return Distribution(name, kind, (values,))
    if kind not in _ARITY:
        raise SearchSpaceError(f"search_space.{name}: unknown distribution '{rest[0]}' (known: {', '.join(KINDS)})")
    if len(args) != _ARITY[kind] or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
        raise SearchSpaceError(f"search_space.{name}: {kind} takes {_ARITY[kind]} numbers, got {args!r}")
    if kind == "randint" and args[0] < 1:
        raise SearchSpaceError(f"search_space.{name}: randint needs an upper bound of at least 1")
    if kind.removeprefix("q") in ("uniform", "loguniform") and args[0] > args[1]:
        raise SearchSpaceError(f"search_space.{name}: min_value {args[0]} is above max_value {args[1]}")
    if kind.removeprefix("q") in ("normal", "lognormal") and args[1] < 0:
        raise SearchSpaceError(f"search_space.{name}: sigma must not be negative")
    if kind.startswith("q") and args[2] <= 0:
        raise SearchSpaceError(f"search_space.{name}: q must be positive")
    return Distribution(name, kind, tuple(args))


def _nested(name: str, value):
    """A value inside a choice's dict: a distribution when it has the REST form, else itself."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and value[0].lower() in KINDS:
        return _distribution(name, value)
    return value


def parse(search_space: dict) -> list[Distribution]:
    """The REST `searchSpace` as distributions, in name order (so a seed draws the same points)."""
    if not isinstance(search_space, dict) or not search_space:
        raise SearchSpaceError("a sweep needs a search_space with at least one parameter")
    return [_distribution(name, search_space[name]) for name in sorted(search_space)]
