"""The sweep's runner: proposes trials, runs each as a child job, stops the ones the early-termination
policy judges, and keeps the best trial on the sweep.

Runs inside the sweep job's own runner (cli.local.runner, kind_sweep.py), so a sweep is canceled,
watched by its watchdog and settled like any job; its trials are children (runner.children).
- At most `limits.max_concurrent_trials` trials run at once (all of them when unset), at most
  `limits.max_total_trials` are started (1000 when unset, Azure's default; grid: the grid's size).
- `limits.timeout` ends the sweep Canceled, its running trials canceled; `limits.trial_timeout`
  becomes each trial's own timeout.
- Each poll reads the running trials' primary metric from the workspace's tracking store; each new
  interval (one logged value) is put to the early-termination policy, and a trial it stops is
  canceled with the reason in its properties (`EarlyTerminationReason`).
- As trials end, the sweep's string properties get `best_child_run_id`, `score` (its best primary
  metric) and `best_hyperparameters` (JSON), so `ml job show` gives them while the sweep runs.
The sweep ends Completed when its trials have ended and one completed or logged the primary metric
(a trial stopped early or timed out still has a score), Failed when none did.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Optional

from cli.local.sweep import early_termination
from cli.local.sweep.trials import metric_series, score, trial_properties

POLL_SECONDS = 0.1
DEFAULT_MAX_TOTAL = 1000
TERMINAL = ("Completed", "Failed", "Canceled", "Deleted")


@dataclass
class Trial:
    name: str
    params: dict
    status: str = "NotStarted"
    series: list = field(default_factory=list)
    judged: int = 0  # intervals already put to the policy
    stopped: Optional[str] = None  # the early-termination reason
    told: bool = False  # the sampler has its result


def _seconds(duration) -> Optional[float]:
    from cli.rest.common import duration_seconds

    return float(duration_seconds(duration)) if duration else None


class Sweep:
    def __init__(self, runner, props: dict, log):
        from cli.local.sweep.samplers import GridSampler, make_sampler
        from cli.local.tracking.store import TrackingStore

        self.runner, self.props, self.log = runner, props, log
        objective = props.get("objective") or {}
        self.metric, self.goal = objective.get("primaryMetric"), (objective.get("goal") or "maximize").lower()
        limits = props.get("limits") or {}
        self.policy = props.get("earlyTermination")
        algorithm = props.get("samplingAlgorithm") or {}
        if self.policy and algorithm.get("samplingAlgorithmType", "").lower() == "bayesian":
            raise ValueError("bayesian sampling does not support early termination policies (as on Azure)")
        self.sampler = make_sampler(algorithm, props.get("searchSpace") or {}, self.goal)
        self.max_total = int(limits.get("maxTotalTrials") or DEFAULT_MAX_TOTAL)
        if isinstance(self.sampler, GridSampler):
            self.max_total = min(self.max_total, self.sampler.size)
        self.max_concurrent = int(limits.get("maxConcurrentTrials") or self.max_total)
        self.timeout, self.trial_timeout = _seconds(limits.get("timeout")), _seconds(limits.get("trialTimeout"))
        self.tracking = TrackingStore(runner.service.root)
        self.trials: list[Trial] = []
        self.exhausted = False
        self.best: Optional[Trial] = None

    # ---- the loop

    def run(self) -> tuple[str, str]:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        self.log(f"sweep: {self.sampler.__class__.__name__.removesuffix('Sampler').lower()} sampling, up to "
                 f"{self.max_total} trials, {self.max_concurrent} at a time; objective: {self.goal} {self.metric}")
        try:
            while True:
                self.runner.check_cancel()
                self.start_trials()
                self.follow_trials()
                running = [t for t in self.trials if t.status not in TERMINAL]
                if not running and (self.exhausted or len(self.trials) >= self.max_total):
                    return self.outcome()
                if deadline is not None and time.monotonic() > deadline:
                    self.log(f"sweep: timed out after {self.timeout:g} s; canceling {len(running)} running trials")
                    self.runner.children.cancel_all()
                    self.follow_trials()
                    return "Canceled", f"timed out after {self.timeout:g} s"
                time.sleep(POLL_SECONDS)
        finally:
            self.tracking.close()

    def start_trials(self) -> None:
        running = sum(t.status not in TERMINAL for t in self.trials)
        while not self.exhausted and running < self.max_concurrent and len(self.trials) < self.max_total:
            params = self.sampler.propose()
            if params is None:
                self.exhausted = True
                return
            trial = Trial(f"{self.runner.job}_{len(self.trials)}", params)
            self.runner.children.submit(trial.name, trial_properties(self.props, params, self.trial_timeout))
            self.trials.append(trial)
            running += 1
            shown = ", ".join(f"{k}={v}" for k, v in params.items())
            self.log(f"sweep: trial {trial.name} started: {shown}")

    def follow_trials(self) -> None:
        going = [t for t in self.trials if t.status not in TERMINAL]
        if not going:
            return
        statuses = self.runner.children.statuses([t.name for t in going])
        for trial in going:
            trial.series = metric_series(self.tracking, trial.name, self.metric)
            trial.status = statuses.get(trial.name, trial.status)
        self.judge(going)
        for trial in going:
            if trial.status in TERMINAL:
                self.finished(trial)

    def judge(self, trials: list[Trial]) -> None:
        """Put each new interval of the running trials to the early-termination policy."""
        if not self.policy:
            return
        series = {t.name: t.series for t in self.trials}
        for trial in trials:
            while trial.stopped is None and trial.status not in TERMINAL and trial.judged < len(trial.series):
                if self.awaits_peers(trial, trial.judged + 1):
                    break  # judged at that interval once a slower trial has reached it too
                trial.judged += 1
                reason = early_termination.verdict(self.policy, self.goal, trial.name, series, trial.judged)
                if reason:
                    trial.stopped = reason
                    self.stop(trial, reason)

    def awaits_peers(self, trial: Trial, n: int) -> bool:
        """Whether `trial`'s interval n has no other trial to compare with yet, though a running one
        may still reach it: a trial ahead of the others is judged when they catch up, as on Azure,
        not let through because it logged first."""
        if not early_termination.due(self.policy, n):
            return False
        reached = [t for t in self.trials if t is not trial and len(t.series) >= n]
        return not reached and any(t is not trial and t.status not in TERMINAL for t in self.trials)

    def stop(self, trial: Trial, reason: str) -> None:
        from cli.local import jobs_hook
        from cli.local.runner.state import set_status

        runner = self.runner
        self.log(f"sweep: trial {trial.name} stopped early: {reason}")
        if set_status(runner.store, runner.workspace, trial.name, "CancelRequested",
                      EarlyTerminationReason=reason) == "CancelRequested":
            jobs_hook.on_job_cancel_requested(trial.name, runner.home, runner.workspace)

    def finished(self, trial: Trial) -> None:
        if trial.told:
            return
        trial.told = True
        value = score(trial.series, self.goal)
        self.sampler.observe(trial.params, value)
        shown = f"{self.metric}={value:g}" if value is not None else f"no {self.metric} logged"
        self.log(f"sweep: trial {trial.name} {trial.status}: {shown}")
        if value is None:
            return
        current = self.best_value()
        if current is None or (value > current if self.goal == "maximize" else value < current):
            self.best = trial
            self.record_best()

    def best_value(self) -> Optional[float]:
        return score(self.best.series, self.goal) if self.best else None

    def record_best(self) -> None:
        from cli.local.runner.state import set_status

        runner, best = self.runner, self.best
        self.log(f"sweep: best so far {best.name}: {self.metric}={self.best_value():g}")
        set_status(runner.store, runner.workspace, runner.job, "Running", best_child_run_id=best.name,
                   score=repr(self.best_value()), best_hyperparameters=json.dumps(best.params, sort_keys=True))

    def outcome(self) -> tuple[str, str]:
        completed = [t for t in self.trials if t.status == "Completed"]
        self.log(f"sweep: {len(self.trials)} trials ended: " + ", ".join(
            f"{n} {s}" for s in ("Completed", "Failed", "Canceled")
            if (n := sum(t.status == s for t in self.trials))))
        if not self.trials:
            return "Failed", "the sweep started no trial"
        if not completed and self.best is None:  # a trial that was stopped or timed out may still have scored
            first = self.trials[0].name
            return "Failed", f"no trial completed (see ml job show -n {first} for the first one's failure)"
        if self.best is None:
            self.log(f"sweep: warning: no trial logged the primary metric '{self.metric}' (log it with "
                     f"mlflow.log_metric)")
        return "Completed", ""
