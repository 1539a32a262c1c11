"""Where a scoring worker calls the script's run(): on the event loop's thread, or in its thread pool.

A hop to a pool thread and back costs a trivial script more than the rest of its answer (benchmarks/
endpoints.py: about 60 µs of CPU a request, half the worker's). It buys what request_settings promise:
while run() works in a thread, the loop still answers 429 beyond max_concurrent_requests_per_instance and
408 at request_timeout_ms. A run() that has answered within CHEAP_S for PROOF calls in a row is called
inline: a request arriving meanwhile waits at most about that long, where the pool would have answered
429, and no run() so far came near the timeout. One slow call sends run() back to the pool, and it must
prove itself twice as long before it comes back (a slow inline call that passes the timeout answers 408
when it returns: Python cannot stop it sooner). In the pool, a run() that took up to ten times CHEAP_S on
the clock but under CHEAP_S of its thread's CPU most likely waited for the GIL behind other requests: it
neither counts as cheap nor breaks the streak.
"""

from __future__ import annotations

CHEAP_S = 0.002
PROOF = 64
MOST_PROOF = 1 << 16


class Placement:
    def __init__(self, timeout_s: float):
        self.cheap_s = min(CHEAP_S, timeout_s / 100)
        self.needed = PROOF
        self.streak = 0

    @property
    def inline(self) -> bool:
        return self.streak >= self.needed

    def observe(self, seconds: float, cpu_seconds: float | None = None) -> None:
        """Record how long one run() took on the clock (inf: timed out) and in its thread's CPU time."""
        if seconds < self.cheap_s:
            self.streak += 1
            return
        if cpu_seconds is not None and cpu_seconds < self.cheap_s and seconds < 10 * self.cheap_s:
            return
        if self.inline:
            self.needed = min(self.needed * 2, MOST_PROOF)
        self.streak = 0
