"""The executor of pipeline jobs (see job_kinds.py): each step runs as a child job once its inputs exist.

- A step starts when every step whose outputs it reads has completed; steps run concurrently, each
  child taking its compute's slots (so at most `max_instances` at once on a compute).
- Outputs pass by reference: a downstream input is `azureml://jobs/<upstream child>/outputs/<o>`,
  read where the upstream step wrote it.
- A failed step fails the pipeline: running steps are canceled and nothing more starts, unless
  `settings.continue_on_step_failure`, where every step not downstream of a failure still runs.
- Reuse (pipeline_reuse.py): a deterministic step equal to an earlier completed one is recorded as
  reused (no runner) unless `settings.force_rerun`.
- The pipeline's log (user_logs/std_log.txt) gets a line per step status change, which
  `ml job stream` shows; the pipeline's outputs end up pointing at the step outputs bound to them.
"""

from __future__ import annotations

from cli.local.runner.children import REUSED_FROM_KEY, REUSED_KEY
from cli.local.runner.errors import JobError
from cli.local.runner.pipeline_reuse import ReuseIndex, step_key
from cli.local.runner.pipeline_steps import Bindings, child_body, compute_of, load_steps
from cli.local.runner.state import TERMINAL
from cli.local.store import utcnow

POLL_SECONDS = 0.02
HOLD_SECONDS = 0.1  # at most this long (and one step key) in one transaction recording reused steps


def _flag(settings: dict, key: str) -> bool:
    return str(settings.get(key, False)).lower() == "true"


def _template(uri: str, child: str, port: str) -> str:
    """An output path's `${{name}}` is the step's job name; `${{output_name}}` the output's."""
    return uri.replace("${{name}}", child).replace("${{output_name}}", port)


class PipelineRun:
    def __init__(self, runner, props: dict):
        self.runner, self.props = runner, props
        self.children = runner.children
        self.settings = props.get("settings") or {}
        self.log_path = runner.folder.user_logs / "std_log.txt"
        self.child_names: dict[str, str] = {}  # step -> child job name (or the job it reused)
        self.status: dict[str, str] = {}
        self.reuse = ReuseIndex(runner.service.root)

    def say(self, line: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"{utcnow()} {line}\n")

    def run(self) -> tuple[str, str]:
        try:
            return self._run()
        finally:
            self.reuse.close()

    def _run(self) -> tuple[str, str]:
        steps = load_steps(self.runner.store, self.props)
        keep_going = _flag(self.settings, "continue_on_step_failure")
        force = _flag(self.settings, "force_rerun")
        bindings = Bindings(self.props, self.child_names, _template)
        running: dict[str, str] = {}  # step -> child
        keys: dict[str, str] = {}
        blocked: set = set()
        self.say(f"pipeline with {len(steps)} steps: {', '.join(steps)}")
        while True:
            if self.runner.cancel_signaled or self.runner.store_cancel_requested():
                self.say("cancel requested: canceling the running steps")
                self.children.cancel_all()
                return "Canceled", ""
            failed = [s for s, status in self.status.items() if status in ("Failed", "Canceled")]
            if failed and not keep_going:
                if running:
                    self.children.cancel_all()
                return "Failed", self.why(failed[0])
            progress = True
            try:
                while progress:  # a reused step makes its downstream steps ready in the same pass
                    progress = self.schedule(steps, bindings, running, keys, blocked, force)
            except BaseException as error:
                self.children.release_records(error)
                raise
            self.children.release_records()  # reused steps are written in one transaction
            if not running:  # nothing runs and nothing more can start
                break
            self.children.pause(POLL_SECONDS)  # until a step's runner records its outcome (or a while)
            for name, status in self.children.statuses(list(running.values())).items():
                step = next(s for s, c in running.items() if c == name)
                if status in TERMINAL or status == "Deleted":
                    del running[step]
                    self.status[step] = "Failed" if status == "Deleted" else status
                    self.say(f"step {step}: {status}")
                    if status == "Completed" and step in keys:
                        self.reuse.remember(keys[step], name)
        failed = [s for s, status in self.status.items() if status != "Completed"]
        self.bind_pipeline_outputs()
        if failed:
            return "Failed", self.why(failed[0])
        if blocked:
            return "Failed", f"step {sorted(blocked)[0]} did not start: a step it needs did not complete"
        return "Completed", ""

    def why(self, step: str) -> str:
        """`step <name> failed: <the step job's reason>`."""
        body = self.children.body(self.child_names.get(step, "")) or {}
        reason = ((body.get("properties") or {}).get("properties") or {}).get("FailureReason")
        return f"step {step} {self.status[step].lower()}" + (f": {reason}" if reason else "")

    def schedule(self, steps, bindings, running, keys, blocked, force) -> bool:
        """Start (or reuse) every step whose inputs exist; True when a step was reused."""
        reused = False
        for name, step in steps.items():
            if name in self.status or name in running or name in blocked:
                continue
            if any(self.status.get(up) in ("Failed", "Canceled") or up in blocked for up in step.needs):
                blocked.add(name)
                self.say(f"step {name}: not started (a step it needs did not complete)")
                continue
            if not all(self.status.get(up) == "Completed" for up in step.needs):
                continue
            child = f"{self.runner.job}_{name}"
            self.child_names[name] = child
            compute = compute_of(step, self.props)
            if compute and "/" not in compute:  # a compute named by a pipeline input: its ARM id
                compute = self.runner.service.arm_id("computes", compute)
            body = child_body(step, child, self.props, bindings, compute)
            self.children.release_records(held_for=HOLD_SECONDS)  # a step key may hash much data: not for long
            key = (step_key(body, step.component, self.runner.resolver())
                   if step.kind in ("command", "parallel", "sweep") else None)
            earlier = (self.reuse.find(key, self.runner.store, self.runner.service.workspace_id)
                       if key and step.deterministic and not force else None)
            if earlier:
                self.record_reused(name, child, body, earlier)
                reused = True
                continue
            self.children.submit(child, body)
            running[name] = child
            if key and step.deterministic:
                keys[name] = key
            self.say(f"step {name}: submitted as job {child}")
        return reused

    def record_reused(self, name: str, child: str, body: dict, earlier: str) -> None:
        """Record `child` as done by `earlier`: its outputs are the earlier job's, by reference."""
        from cli.local.runner import data

        earlier_body = self.children.body(earlier) or {}
        outputs = {}
        for port, spec in (body.get("outputs") or {}).items():
            before = ((earlier_body.get("properties") or {}).get("outputs") or {}).get(port) or {}
            if port in data.ARTIFACT_OUTPUTS and not before.get("uri"):  # the earlier job's artifact root
                outputs[port] = {**spec, "uri": f"azureml://jobs/{earlier}/outputs/{port}"}
            else:
                outputs[port] = {**spec, "uri": data.output_uri(earlier, port, before)}
            outputs[port].pop("assetName", None)  # registered by the step that made it
            outputs[port].pop("assetVersion", None)
        self.children.hold_records()
        self.children.record_finished(child, {**body, "outputs": outputs},
                                      **{REUSED_KEY: "true", REUSED_FROM_KEY: earlier})
        self.child_names[name] = child
        self.status[name] = "Completed"
        self.say(f"step {name}: reused the outputs of job {earlier}")

    def bind_pipeline_outputs(self) -> None:
        """Point each pipeline output at the step output bound to it."""
        from cli.local.runner import data
        from cli.local.runner.pipeline_steps import PARENT_OUTPUT

        found = {}
        for step, node in (self.props.get("jobs") or {}).items():
            child = self.child_names.get(step)
            body = self.children.body(child) if child else None
            if body is None or self.status.get(step) != "Completed":
                continue
            for port, value in (node.get("outputs") or {}).items():
                match = PARENT_OUTPUT.match(str((value or {}).get("value") or ""))
                spec = (body["properties"].get("outputs") or {}).get(port)
                if match and spec is not None:
                    found[match[1]] = data.output_uri(child, port, spec)
        if found:
            self.runner.set_outputs(found)


def run(runner, props: dict) -> tuple[str, str]:
    """Run the pipeline job `props` through `runner` (a run.Runner); (outcome, reason)."""
    try:
        return PipelineRun(runner, props).run()
    except JobError as error:
        with open(runner.folder.user_logs / "std_log.txt", "a", encoding="utf-8") as log:
            log.write(f"{utcnow()} {error}\n")
        return "Failed", str(error)
