"""Early termination of sweep trials, on the primary metric's series as each trial logs it.

Every time a trial logs the primary metric is one interval (Azure's definition). A policy is
evaluated for a trial at its interval n when n >= delay_evaluation and n is a multiple of
evaluation_interval (0 counts as 1), comparing the trial with every trial that has reached n:
    bandit               stop when the trial's best value so far is outside the slack of the best
                         trial's at n: maximize: best_T * (1 + slack_factor) < best (or
                         best_T + slack_amount < best); minimize mirrored.
    median_stopping      stop when the trial's best value so far is worse than the median of the
                         other trials' running averages over their first n values.
    truncation_selection stop when the trial's value at n is among the lowest truncation_percentage
                         percent (rounded down) of all trials' values at n.
`verdict()` is pure: series in, the reason to stop (or None) out.
"""

from __future__ import annotations

import math
from statistics import median
from typing import Mapping, Optional, Sequence

POLICIES = ("Bandit", "MedianStopping", "TruncationSelection")


def due(policy: dict, n: int) -> bool:
    """Whether interval n (1-based) is one at which the policy is evaluated."""
    interval = int(policy.get("evaluationInterval") or 0) or 1
    return n >= max(1, int(policy.get("delayEvaluation") or 0)) and n % interval == 0


def _better(goal: str):
    return max if goal.lower() == "maximize" else min


def _bandit(policy: dict, maximize: bool, mine: float, best: float) -> Optional[str]:
    factor, amount = policy.get("slackFactor"), policy.get("slackAmount")
    if factor:
        limit = best / (1 + factor) if maximize else best * (1 + factor)
        slack = f"slack_factor {factor}"
    elif amount:
        limit = best - amount if maximize else best + amount
        slack = f"slack_amount {amount}"
    else:  # no slack: anything short of the best
        limit, slack = best, "no slack"
    worse = mine < limit if maximize else mine > limit
    return f"best {mine:g} is outside the {slack} of the best trial's {best:g}" if worse else None


def verdict(policy: Optional[dict], goal: str, trial: str, series: Mapping[str, Sequence[float]], n: int) -> Optional[str]:
    """Why `trial` stops at its interval n (its first n values of series[trial]), or None to go on.

    series: each trial's primary-metric values in the order logged (NaN values left out)."""
    if not policy or policy.get("policyType") not in POLICIES or not due(policy, n):
        return None
    own = list(series.get(trial, ()))[:n]
    if len(own) < n:
        return None
    maximize = goal.lower() == "maximize"
    better = _better(goal)
    peers = {name: list(values)[:n] for name, values in series.items() if len(values) >= n}
    if len(peers) < 2:
        return None  # nothing to compare with yet
    kind = policy["policyType"]
    where = f"at interval {n}"
    if kind == "Bandit":
        best = better(better(values) for values in peers.values())
        reason = _bandit(policy, maximize, better(own), best)
    elif kind == "MedianStopping":
        averages = [sum(values) / n for name, values in peers.items() if name != trial]
        middle = median(averages)
        mine = better(own)
        reason = (f"best {mine:g} is worse than the median {middle:g} of the other trials' running averages"
                  if (mine < middle if maximize else mine > middle) else None)
    else:
        percentage = float(policy.get("truncationPercentage") or 0)
        cut = math.floor(len(peers) * percentage / 100)
        # the lowest performers first; ties keep trial-name order so a decision is repeatable
        ranked = sorted(peers, key=lambda name: (peers[name][n - 1] if maximize else -peers[name][n - 1], name))
        reason = (f"value {own[n - 1]:g} is in the lowest {percentage:g}% of {len(peers)} trials"
                  if trial in ranked[:cut] else None)
    return f"{kind} policy {where}: {reason}" if reason else None
