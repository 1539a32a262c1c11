"""Child jobs: the jobs a parent job's runner starts (pipeline steps, sweep trials, parallel nodes).

A child job is a normal job: a record in the store, created by the same `PUT {WS}/jobs/{name}` any
client sends (so it is checked against the contract and gets its own runner), marked with its
parent in the string properties Azure's run history uses for the link:

    properties.properties["azureml.parentrunid"] = <parent job name>
    properties.properties["azureml.rootrunid"]   = <the top-level job's name>

Children do not appear in `GET {WS}/jobs` (as on Azure, where a pipeline's steps and a sweep's
trials are listed under their parent only); run history lists them:
`GET {history}/history/v1.0{WS}/runs/{parent}/children` (handlers/history.py), which
`ml job list --parent-job-name` and the SDK's `jobs.list(parent_job_name=...)` call.

The parent's runner owns its children: it waits for them (ChildJobs.wait), and when it is canceled
it cancels them (ChildJobs.cancel_all). A parent whose runner dies is settled by its watchdog
through state.reconcile, which also cancels every child still going (cancel_children), so no child
is left Running under a finished parent.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, Iterable

from cli.local import ids
from cli.local.runner.errors import JobError
from cli.local.runner.state import TERMINAL, job_id, set_status

PARENT_KEY = "azureml.parentrunid"
ROOT_KEY = "azureml.rootrunid"
REUSED_KEY = "azureml.isreused"
REUSED_FROM_KEY = "azureml.reusedrunid"
POLL_SECONDS = 0.05
SETTLE_SECONDS = 1.0
STATUS_PATH = "$.properties.status"
NEWS_POLL_SECONDS = 0.25  # children forked from this runner wake it (forked.wait_for_news): look less often


def parent_of(body: dict) -> str | None:
    """The parent job's name of a stored job body, or None for a top-level job."""
    extra = (body.get("properties") or {}).get("properties") or {}
    return extra.get(PARENT_KEY) or None


def child_properties(properties: dict, parent: str, root: str) -> dict:
    """`properties` (a JobBase's `properties`) marked as a child of `parent` under `root`."""
    extra = {**(properties.get("properties") or {}), PARENT_KEY: parent, ROOT_KEY: root}
    return {**properties, "properties": extra}


class ChildJobs:
    """The children of one parent job, as its runner creates and follows them."""

    def __init__(self, service, parent: str, log: Callable[[str], None] = print):
        self.service, self.store, self.parent, self.log = service, service.store, parent, log
        record = self.store.get(service.arm_id("jobs", parent))
        extra = ((record.body["properties"].get("properties") or {}) if record else {})
        self.root = extra.get(ROOT_KEY) or parent
        self.names: list[str] = []
        self._batch = None  # (ExitStack, connection) of the transaction record_finished writes in, if held
        self._settled = 0.0  # when statuses() last looked for dead runners
        self._held_since = 0.0

    def hold_records(self):
        """Record finished children (record_finished) in one transaction until release_records(): a
        pipeline reusing 100 steps writes them at once. Reads through the store in this thread see them."""
        if self._batch is None:
            from contextlib import ExitStack

            stack = ExitStack()
            self._batch = (stack, stack.enter_context(self.store.transaction()))
            self._held_since = time.monotonic()
        return self._batch[1]

    def release_records(self, error: BaseException | None = None, held_for: float = 0.0) -> None:
        """Commit what was recorded since hold_records() (roll it back when `error`); with `held_for`,
        only when the transaction has been open that long (other jobs' writes wait meanwhile)."""
        if self._batch is not None and time.monotonic() - self._held_since >= held_for:
            stack, self._batch = self._batch[0], None
            if error is None:
                stack.close()
            else:
                stack.__exit__(type(error), error, error.__traceback__)

    def submit(self, name: str, properties: dict) -> str:
        """Create the child job `name` (a JobBase `properties` object); its runner starts at once."""
        import json

        import httpx

        from cli.local.http import Request
        from cli.local.runner import forked

        self.release_records()  # the PUT writes in a transaction of its own, and the child's runner reads

        if not forked.enabled():
            forked.preload()  # in a runner: from the first child on, children's runners are forks of it
            if forked.enabled():
                from cli.local.tracking import shared

                try:
                    shared.start(self.service.root)  # and one MLflow server serves them all (tracking/shared.py)
                except OSError as error:  # each child then serves its own, as a top-level job does
                    self.log(f"no tracking server for the children ({error}): each starts its own")
        forked.warm(properties)
        body = {"properties": child_properties(properties, self.parent, self.root)}
        # the same PUT any client sends (the contract check, the job handler, its runner started), handed
        # to the service directly: through httpx and the ASGI app it cost ~5 ms more a step
        content = json.dumps(body).encode()
        answer = self.service.answer(Request(
            "PUT", httpx.URL(ids.MANAGEMENT_URL + self.service.arm_id("jobs", name),
                             params={"api-version": ids.API_VERSION}),
            httpx.Headers({"content-type": "application/json", "content-length": str(len(content))}),
            iter([content])))
        if answer.status_code >= 300:
            try:
                message = answer.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = answer.text[:300]
            raise JobError(f"child job '{name}' was refused: {message}")
        if not self.names:  # told to the parent's liveness record: its death cancels its children (state.reconcile)
            from cli.local.runner.state import JobFolder, write_info

            write_info(JobFolder.of(self.service.home, self.service.workspace, self.parent), children=True)
        self.names.append(name)
        return name

    def record_finished(self, name: str, properties: dict, status: str = "Completed", **extra: str) -> str:
        """Store a child that needs no runner (a reused step): already `status`, with string `extra`."""
        from cli.local.handlers.common import envelope, system_data
        from cli.local.store import utcnow

        props = child_properties(properties, self.parent, self.root)
        now = utcnow()
        props["properties"] = {**props["properties"], "StartTimeUtc": now, "EndTimeUtc": now, **extra}
        props.update(status=status, isArchived=False)
        props.setdefault("experimentName", "Default")
        props.setdefault("displayName", name)
        jid = self.service.arm_id("jobs", name)
        with ExitStack() as stack:
            conn = self._batch[1] if self._batch else stack.enter_context(self.store.transaction())
            if self.store.get(jid, conn) is not None:
                raise JobError(f"child job '{name}' already exists")
            self.store.upsert(conn, jid, "jobs", self.service.workspace_id, name,
                              envelope(jid, "jobs", name, props, system_data()))
        self.names.append(name)
        return name

    def statuses(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """{child: status} as stored now, read in one query; dead runners settled as any GET does: each
        time, or at most every SETTLE_SECONDS when the children's runners are forks of this one, whose
        watchdogs record a dead runner's end and wake this one (forked.tell_parent)."""
        from cli.local.runner import forked
        from cli.local.runner.state import reconcile

        names = list(self.names if names is None else names)
        keys = {self.service.arm_id("jobs", name).lower(): name for name in names}
        stored = {keys[key]: value or "" for key, value in self.store.json_values(list(keys), STATUS_PATH).items()}
        settle = not forked.has_news() or time.monotonic() - self._settled > SETTLE_SECONDS
        if settle:
            self._settled = time.monotonic()
        found = {}
        for name in names:
            status = stored.get(name)
            if status is not None and status not in TERMINAL and settle:
                record = self.store.get(self.service.arm_id("jobs", name))
                if record is not None:
                    record = reconcile(self.store, self.service.home, self.service.workspace, record)
                status = None if record is None else record.body["properties"].get("status", "")
            found[name] = "Deleted" if status is None else status
        return found

    def body(self, name: str) -> dict | None:
        record = self.store.get(self.service.arm_id("jobs", name))
        return record.body if record else None

    def wait(self, names: Iterable[str], should_stop: Callable[[], bool] = lambda: False,
             on_change: Callable[[str, str], None] | None = None, timeout: float | None = None) -> dict[str, str]:
        """Wait until every child in `names` has ended (or `should_stop()`); returns their statuses."""
        names, seen = list(names), {}
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            now = self.statuses(names)
            for name, status in now.items():
                if seen.get(name) != status and on_change:
                    on_change(name, status)
            seen = now
            if all(s in TERMINAL or s == "Deleted" for s in now.values()) or should_stop():
                return now
            if deadline is not None and time.monotonic() > deadline:
                return now
            self.pause()

    def pause(self, seconds: float = POLL_SECONDS) -> None:
        """Sleep until a child's runner records an outcome or `seconds` pass (NEWS_POLL_SECONDS when its
        runners are forks of this one and wake it: a dead one's watchdog does too)."""
        from cli.local.runner import forked

        forked.wait_for_news(NEWS_POLL_SECONDS if forked.has_news() else seconds)

    def cancel_all(self, grace: float = 4.5) -> dict[str, str]:
        """Cancel every child still going and wait (at most `grace` s) for them to settle."""
        cancel_children(self.store, self.service.home, self.service.workspace, self.parent, self.names)
        return self.wait(self.names, timeout=grace)


def children_of(store, workspace: str, parent: str) -> list:
    """The stored child job records of `parent`, oldest first."""
    records = store.list("jobs", ids.workspace_id(workspace), archived=None,
                         where=(f'$.properties.properties."{PARENT_KEY}"', parent))
    return [r for r in records if parent_of(r.body) == parent]


def cancel_children(store, home: Path, workspace: str, parent: str, names: Iterable[str] | None = None) -> None:
    """Ask every child of `parent` still going to cancel, as `POST .../cancel` would (children's
    children too: each child's runner, or reconcile for a dead one, passes it down)."""
    from cli.local import jobs_hook

    if names is None:
        names = [r.name for r in children_of(store, workspace, parent)]
    for name in names:
        record = store.get(job_id(workspace, name))
        if record is None or record.body["properties"].get("status") in TERMINAL:
            continue
        if set_status(store, workspace, name, "CancelRequested") == "CancelRequested":
            jobs_hook.on_job_cancel_requested(name, home, workspace)
