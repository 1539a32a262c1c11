"""The runner: owns one job from Queued to its outcome, in its own process (see the package docstring)."""

from __future__ import annotations

import os
import select
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

from cli.redact import redact
from cli.local import ids
from cli.local.runner import binding, data, environment, launch, working
from cli.local.runner.errors import JobError
from cli.local.runner.job_env import filtered as submitter_environment
from cli.local.runner.state import (TERMINAL, JobFolder, current_status, failure, log_tail, process_start,
                                    set_status, write_info)
from cli.local.store import utcnow

POLL_SECONDS = 0.1
QUEUE_POLL_SECONDS = 0.5
STORE_POLL_SECONDS = 1.0


class Canceled(Exception):
    """The job was canceled while the runner was preparing it."""


def log(message: str) -> None:
    print(f"{utcnow()} {redact(message)}", flush=True)  # a SAS in an input URL stays masked


def service_notices(props: dict) -> list[str]:
    """One warning naming the interactive services the job asks for: none runs locally."""
    asked = sorted(f"{name} ({(spec or {}).get('jobServiceType', '?')})"
                   for name, spec in (props.get("services") or {}).items()
                   if (spec or {}).get("jobServiceType") not in ("Tracking", "Studio"))
    if not asked:
        return []
    return [f"warning: services {', '.join(asked)} are not available on the local workspace;"
            " the job runs without them"]


class JobTracking:
    """A command job's MLflow run: its store, and its own server unless its parent serves its children."""

    def __init__(self, store, server=None):
        self.store, self.server = store, server

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()  # closes the store too
        else:
            self.store.close()


class Runner:
    def __init__(self, home: Path, workspace: str, job: str, service=None):
        from cli.local.service import LocalWorkspaceService

        self.home, self.workspace, self.job = Path(home), workspace, job
        self.service = service or LocalWorkspaceService(self.home, workspace)
        self.store = self.service.store
        self.folder = JobFolder.of(self.home, workspace, job)
        self.cancel_signaled = False
        self.processes = []
        self.slots = None
        self.tracking = None
        self.children = None  # a parent job's ChildJobs (execute_parent)

    # ---- status and cancel

    def on_signal(self, signum, frame) -> None:
        self.cancel_signaled = True

    def status(self, status: str, **properties: str) -> None:
        stored = set_status(self.store, self.workspace, self.job, status, **properties)
        log(f"status {status}" + ("" if stored == status else f" not recorded: the job is {stored}"))
        if stored in TERMINAL:
            from cli.local.runner import forked

            forked.tell_parent()  # a parent's runner waiting for this child looks now
        if stored != status and status not in TERMINAL:
            raise Canceled()

    def check_cancel(self) -> None:
        if self.cancel_signaled or current_status(self.store, self.workspace, self.job) in (
                "CancelRequested", "Canceled", "Deleted"):
            raise Canceled()

    # ---- the whole run

    def run(self) -> int:
        self.folder.make()
        self.folder.link_run_artifacts(self.service.blobs.root / ids.DEFAULT_DATASTORE, self.job)
        write_info(self.folder, pid=os.getpid(), start=process_start(os.getpid()))
        record = self.store.get(self.service.arm_id("jobs", self.job))
        if record is None:
            log("the job no longer exists")
            return 1
        props = record.body["properties"]
        tail_logs = [self.folder.user_logs / "std_log.txt", self.folder.user_logs / "std_log_process_0.txt"]
        outcome = "Failed"
        try:
            self.status("Queued")
            self.wait_for_slot(props)
            self.status("Starting")
            outcome, reason, tail_logs = self.execute(props, tail_logs)
            if outcome == "Completed":
                self.status("Finalizing")
                if props.get("jobType") == "Command":  # a parent's outputs are registered by its children
                    self.register_outputs(props)
                self.status("Completed", EndTimeUtc=utcnow())
            elif outcome == "Canceled":
                self.status("Canceled", EndTimeUtc=utcnow())
            else:
                self.status("Failed", **failure(reason, log_tail(tail_logs)))
        except Canceled:
            outcome = "Canceled"
            self.status("Canceled", EndTimeUtc=utcnow())
        except JobError as error:
            log(f"failed: {error}")
            logs = [error.log] if error.log else tail_logs + [self.folder.runner_log]
            self.status("Failed", **failure(str(error), log_tail(logs)))
        except Exception as exc:
            print(redact(traceback.format_exc()), end="", flush=True)
            self.status("Failed", **failure(f"the local runner failed: {type(exc).__name__}: {exc}",
                                            log_tail([self.folder.runner_log])))
        finally:
            self.cleanup(outcome)
        return 0 if outcome == "Completed" else 1

    def cleanup(self, outcome: str) -> None:
        launch.stop(self.processes)
        if self.children is not None and outcome != "Completed":
            self.children.cancel_all()  # a parent that ends leaves none of its children going
        if self.children is not None:
            from cli.local.runner import forked
            from cli.local.tracking import shared

            forked.dismiss_spare()  # no more children: the one waiting for a job ends
            shared.release()  # its children's MLflow server ends with the last of them
        if self.processes:
            working.collect(self.folder.snapshot, self.folder.artifacts, log)
        if self.slots is not None:
            self.slots.release(self.job)
            self.slots.close()
        if self.tracking is not None:
            self.end_tracking(outcome)
        data.remove_inputs(self.folder.inputs)
        self.store.close()

    # ---- queue

    def wait_for_slot(self, props: dict) -> None:
        compute_id = props.get("computeId")
        if not compute_id or props.get("jobType") != "Command":
            return  # the default local pool is unbounded; a parent job's children take the slots
        record = self.store.get(compute_id)
        if record is None:
            raise JobError(f"compute '{compute_id.rsplit('/', 1)[-1]}' does not exist; create it with"
                           " `ml compute create`")
        cprops = record.body["properties"]
        limit = ((cprops.get("properties") or {}).get("scaleSettings") or {}).get("maxNodeCount")
        if limit is None and cprops.get("computeType") == "ComputeInstance":
            limit = 1
        if not limit:
            return
        from cli.local.runner.slots import ComputeSlots

        nodes = min(int((props.get("resources") or {}).get("instanceCount") or 1), int(limit))
        self.slots = ComputeSlots(self.service.root)
        while not self.slots.try_acquire(compute_id, self.job, nodes, int(limit)):
            self.check_cancel()
            time.sleep(QUEUE_POLL_SECONDS)

    # ---- prepare and run the command

    def execute(self, props: dict, tail_logs: list[Path]) -> tuple[str, str, list[Path]]:
        if props.get("jobType") != "Command":
            return self.execute_parent(props)
        self.copy_snapshot(props.get("codeId"))
        working.prepare(self.folder.snapshot)
        self.check_cancel()
        resolver = data.DataResolver(self.service, log)
        literals, paths, env = {}, {}, {}
        for name, spec in (props.get("inputs") or {}).items():
            value = data.prepare_input(resolver, name, spec, self.folder.inputs)
            (literals if spec.get("jobInputType") == "literal" else paths)[f"inputs.{name}"] = value
            env[f"AZURE_ML_INPUT_{name}"] = env[f"AZUREML_PARAMETER_{name}"] = value
            if spec.get("jobInputType") != "literal":
                env[f"AZUREML_DATAREFERENCE_{name}"] = value
        for name, spec in (props.get("outputs") or {}).items():
            path, _ = data.prepare_output(resolver, self.job, name, spec or {})
            paths[f"outputs.{name}"] = path
            env[f"AZURE_ML_OUTPUT_{name}"] = env[f"AZUREML_PARAMETER_{name}"] = path
        command = binding.bind(props["command"], literals, paths)
        self.check_cancel()
        python = environment.prepare(self.service, props.get("environmentId"), self.home, progress=self.notice)
        if python.build_log:
            shutil.copyfile(python.build_log, self.folder.system_logs / "environment_build.log")
        self.check_cancel()
        env = self.job_environment(props, python, env)
        plans = launch.plan(props, command, env, self.folder.user_logs)
        with open(plans[0].log, "ab") as first:
            for notice in [*python.notices, *service_notices(props)]:
                first.write(f"[ml] {notice}\n".encode())
        log(f"command: {command}")
        self.processes = launch.start(plans, self.folder.snapshot)
        write_info(self.folder, groups=launch.groups(self.processes))  # recorded before anyone sees Running
        self.status("Running", StartTimeUtc=utcnow())
        outcome = self.wait(props, plans)
        working.collect(self.folder.snapshot, self.folder.artifacts, log)  # before anyone sees the outcome
        return outcome

    def execute_parent(self, props: dict) -> tuple[str, str, list[Path]]:
        """A job made of child jobs (a pipeline, a sweep): its kind's executor runs them (job_kinds.py)."""
        from cli.local.runner.children import ChildJobs
        from cli.local.runner.job_kinds import executor

        run_children = executor(props.get("jobType"))
        if run_children is None:
            raise JobError(f"{props.get('jobType')} jobs do not run on the local workspace yet")
        self.children = ChildJobs(self.service, self.job, log)
        self.status("Running", StartTimeUtc=utcnow())
        outcome, reason = run_children(self, props)
        return outcome, reason, [self.folder.user_logs / "std_log.txt"]

    def store_cancel_requested(self) -> bool:
        """Whether a cancel was recorded in the store (looked up at most every STORE_POLL_SECONDS / 4)."""
        now = time.monotonic()
        if now - getattr(self, "_last_cancel_check", 0.0) > STORE_POLL_SECONDS / 4:
            self._last_cancel_check = now
            self.cancel_signaled |= current_status(self.store, self.workspace, self.job) == "CancelRequested"
        return self.cancel_signaled

    def resolver(self) -> "data.DataResolver":
        return data.DataResolver(self.service, log)

    def set_outputs(self, uris: dict[str, str]) -> None:
        """Point the job's outputs at `uris` ({output: URI}): a parent job's outputs are its children's."""
        from cli.local.runner.state import job_id

        with self.store.transaction() as conn:
            record = self.store.get(job_id(self.workspace, self.job), conn)
            if record is None:
                return
            props = record.body["properties"]
            outputs = {**(props.get("outputs") or {})}
            for name, uri in uris.items():
                outputs[name] = {**(outputs.get(name) or {"jobOutputType": "uri_folder"}), "uri": uri}
            body = {**record.body, "properties": {**props, "outputs": outputs}}
            self.store.upsert(conn, record.id, "jobs", self.service.workspace_id, record.name, body,
                              archived=record.archived)

    def notice(self, line: str) -> None:
        """A line for the job's log (and the runner's) before the command starts: environment builds."""
        log(line)
        with open(self.folder.user_logs / "std_log.txt", "ab") as job_log:
            job_log.write(f"[ml] {line}\n".encode())

    def copy_snapshot(self, code_id: str | None) -> None:
        snapshot = self.folder.snapshot
        if snapshot.exists():
            shutil.rmtree(snapshot)
        if not code_id:
            snapshot.mkdir(parents=True)
            return
        record = self.store.get(code_id)
        if record is None or not record.body["properties"].get("codeUri"):
            raise JobError(f"code '{code_id}' was not found in this workspace")
        source = data.DataResolver(self.service).local_path(record.body["properties"]["codeUri"])
        if source.is_dir():
            shutil.copytree(source, snapshot)
        elif source.is_file():
            snapshot.mkdir(parents=True)
            shutil.copy2(source, snapshot / source.name)
        else:
            raise JobError(f"the files of code '{code_id}' are missing from {source}")

    def job_environment(self, props: dict, python, job_env: dict[str, str]) -> dict[str, str]:
        experiment = props.get("experimentName") or "Default"
        env = python.apply(submitter_environment(os.environ))  # without credentials: see job_env.py
        env.update(job_env)
        env.update(working.azure_variables(self.service.workspace_id, self.job, experiment,
                                           self.folder.snapshot))
        env["PYTHONUNBUFFERED"] = "1"
        tracking = self.start_tracking(experiment)
        if tracking.get("MLFLOW_EXPERIMENT_ID"):
            env["AZUREML_EXPERIMENT_ID"] = tracking["MLFLOW_EXPERIMENT_ID"]
        env.update(tracking)
        env.update(props.get("environmentVariables") or {})
        return env

    def wait(self, props: dict, plans) -> tuple[str, str, list[Path]]:
        from cli.rest.common import duration_seconds

        limit = (props.get("limits") or {}).get("timeout")
        timeout = duration_seconds(limit) if limit else None  # its pattern compiles in ~5 ms: only when needed
        started = last_store_check = time.monotonic()
        delay = 0.005  # short commands finish in milliseconds: look often at first, then every POLL_SECONDS
        exits = launch.exit_descriptors(self.processes)
        try:
            return self._wait(plans, timeout, started, last_store_check, delay, exits)
        finally:
            for fd in exits.values():
                os.close(fd)

    def _wait(self, plans, timeout, started, last_store_check, delay, exits) -> tuple[str, str, list[Path]]:
        while True:
            codes = [p.poll() for p in self.processes]
            failed = next((i for i, c in enumerate(codes) if c not in (None, 0)), None)
            if failed is not None:
                launch.stop(self.processes)
                which = f"process {failed} " if len(plans) > 1 else ""
                return "Failed", f"the command {which}exited with code {codes[failed]}", [plans[failed].log]
            if all(c == 0 for c in codes):
                return "Completed", "", []
            now = time.monotonic()
            if timeout and now - started > timeout:
                launch.stop(self.processes)
                return "Failed", f"timed out after {timeout} s", [p.log for p in plans]
            if now - last_store_check > STORE_POLL_SECONDS:
                last_store_check = now
                self.cancel_signaled |= current_status(self.store, self.workspace, self.job) == "CancelRequested"
            if self.cancel_signaled:
                launch.stop(self.processes)
                return "Canceled", "", []
            going = [fd for i, fd in exits.items() if codes[i] is None]
            if going:  # woken at once when a process ends, else after `delay` (cancel, timeout, store)
                select.select(going, [], [], delay)
            else:
                time.sleep(delay)
            delay = min(delay * 1.5, POLL_SECONDS)

    # ---- MLflow tracking

    def start_tracking(self, experiment: str) -> dict[str, str]:
        try:
            from cli.local.tracking import shared
            from cli.local.tracking.server import job_environment, start_tracking_server
            from cli.local.tracking.store import TrackingStore
        except ImportError:
            log("no tracking server available: MLFLOW_* variables not set")
            return {}
        children_server = shared.current()  # a child job of a runner that serves its children
        if children_server is not None:
            self.tracking = JobTracking(TrackingStore(self.service.root))
            run = self.tracking.store.create_job_run(self.job, experiment)
            url, token = children_server.url, children_server.token_for(self.job)
        else:
            # the run first, then the server's thread: started first, it would slow every write of the
            # run (both want the interpreter); its token reaches this job only; the port listens at once
            store = TrackingStore(self.service.root)
            run = store.create_job_run(self.job, experiment)
            server, url = start_tracking_server(store=store, job_run=self.job, wait=False)
            self.tracking, token = JobTracking(store, server), server.token
        return {**job_environment(url, run, token), "MLFLOW_EXPERIMENT_NAME": experiment}

    def end_tracking(self, outcome: str) -> None:
        from cli.local.tracking.store import now_ms

        status = {"Completed": "FINISHED", "Canceled": "KILLED"}.get(outcome, "FAILED")
        try:
            self.tracking.store.update_run(self.job, status=status, end_time=now_ms())
        finally:
            self.tracking.close()

    # ---- outputs as assets

    def register_outputs(self, props: dict) -> None:
        if not any(spec and spec.get("assetName") for spec in (props.get("outputs") or {}).values()):
            return
        import httpx

        from cli.client.transports.local import LocalTransport

        with httpx.Client(transport=LocalTransport(self.service), base_url=ids.MANAGEMENT_URL) as client:
            for name, spec in (props.get("outputs") or {}).items():
                if spec and spec.get("assetName"):
                    self.register(client, name, spec)

    def register(self, client, name: str, spec: dict) -> None:
        kind = spec.get("jobOutputType", "uri_folder")
        family, field, type_field = (("models", "modelUri", "modelType") if kind.endswith("_model")
                                     else ("data", "dataUri", "dataType"))
        uri = data.output_uri(self.job, name, spec)
        body = {"properties": {type_field: kind, field: uri, "description": f"output '{name}' of job {self.job}"}}
        base = f"{self.service.workspace_id}/{family}/{spec['assetName']}"
        query = {"api-version": ids.API_VERSION}
        wanted = spec.get("assetVersion")
        for _ in range(1 if wanted else 5):  # another job may take the same next version first
            version = wanted
            if not version:
                container = client.get(base, params=query)
                version = container.json()["properties"].get("nextVersion", "1") if container.status_code == 200 else "1"
            answer = client.put(f"{base}/versions/{version}", params=query, json=body)
            if answer.status_code < 300:
                log(f"registered output '{name}' as {family} {spec['assetName']}:{version}")
                return
            if answer.status_code != 409:
                break
        raise JobError(f"registering output '{name}' as {family} '{spec['assetName']}' failed:"
                       f" {answer.text[:300]}")


def main(argv: list[str], canceled_early: list | None = None, service=None) -> int:
    """Run one job; `service`: its workspace, opened already (a spare forked runner's, forked.py)."""
    if len(argv) != 3:
        print("usage: python -m cli.local.runner <ML_HOME> <workspace> <job>", file=sys.stderr)
        return 2
    from cli.local.runner import forked

    forked.mark_runner()
    runner = Runner(Path(argv[0]), argv[1], argv[2], service)
    signal.signal(signal.SIGTERM, runner.on_signal)
    signal.signal(signal.SIGINT, runner.on_signal)
    runner.cancel_signaled = bool(canceled_early)
    return runner.run()
