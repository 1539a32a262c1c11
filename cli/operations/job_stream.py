"""Following a job as `az ml job stream` does: run history's details for the status and the log files,
each log fetched from where it was read to (ranged GETs on its SAS URL), printed as it grows.

The run-history host comes from the workspace's discovery document (REST GUIDE section 9). Locally a
job often finishes in well under a second, so the poll runs every 20 ms, then every 50 ms for two
seconds, then backs off to 0.25 s; on Azure it is the SDK's sigmoid from 2 s up to 60 s.
"""

from __future__ import annotations

import math
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict

from cli.errors import JobFailedError, ResourceNotFoundError, ServiceError

TERMINAL = ("Completed", "Failed", "Canceled", "NotResponding", "Paused")
FAILED = ("Failed", "Canceled", "NotResponding")
_USER_LOG = re.compile(r"^user_logs/std_log(?:_process_(\d+))?\.txt$")
READ_CHUNK = 4 << 20  # bytes of a log fetched per request
FAST_POLL_LIMIT = 0.25  # seconds between polls of an in-process workspace's job, at most
REUSED = "azureml.isreused"  # run history's mark of a pipeline step that reused an earlier run's outputs
_LEGACY_LOG = re.compile(r"^azureml-logs/70_driver_log(?:_(\d+))?\.txt$")  # jobs of older runtimes


def history_base(client) -> str:
    """`{history host}/history/v1.0{workspace arm id}`, the host from the workspace's discovery document."""
    return f"{client.service_url('history')}/history/v1.0{client.workspace.arm_id}"


def run_details(client, base: str, job: str) -> dict:
    return client.get(f"{base}/runs/{job}/details", api_version="v1.0") or {}


@dataclass
class LogTail:
    """Where each log file has been read to; prints only what is new."""

    write: Callable[[str], None]
    offsets: Dict[str, int] = field(default_factory=dict)
    pending: Dict[str, bytes] = field(default_factory=dict)  # a line not finished yet, per file

    def poll(self, client, log_files: Dict[str, str], final: bool = False) -> None:
        names = sorted(n for n in log_files if _USER_LOG.match(n)) or sorted(n for n in log_files if _LEGACY_LOG.match(n))
        several = len(names) > 1
        for name in names:
            prefix = _prefix(name) if several else ""
            while True:  # a bounded range at a time, so a large log never sits in memory whole
                data = self._read(client, name, log_files[name])
                last = len(data) < READ_CHUNK
                raw = self.pending.pop(name, b"") + data
                cut = raw.rfind(b"\n") + 1
                if not (final and last) and (cut or len(raw) <= READ_CHUNK):
                    # complete lines only, so ranks never interleave mid-line (nor a character split);
                    # a line longer than a chunk goes out in pieces rather than pile up here
                    raw, self.pending[name] = raw[:cut], raw[cut:]
                lines = raw.decode("utf-8", errors="replace").split("\n")
                if lines and lines[-1] == "":
                    lines.pop()
                for line in lines:
                    self.write(f"{prefix}{line}\n")
                if last:
                    break

    def _read(self, client, name: str, url: str) -> bytes:
        offset = self.offsets.get(name, 0)
        try:
            data = client.get_blob(url, {"x-ms-range": f"bytes={offset}-{offset + READ_CHUNK - 1}",
                                         "x-ms-version": "2025-01-05"})
        except ServiceError as exc:
            if exc.status == 416:  # nothing past the offset yet
                return b""
            raise
        except ResourceNotFoundError:  # a log not written yet
            return b""
        self.offsets[name] = offset + len(data)
        return data


@dataclass
class StepTails:
    """A pipeline's steps followed with it: each step's log lines prefixed `[step] `, its status changes
    told as `[step] Status: X` (the steps are its child jobs in run history)."""

    write: Callable[[str], None]
    info: Callable[[str], None]
    tails: Dict[str, LogTail] = field(default_factory=dict)
    statuses: Dict[str, str] = field(default_factory=dict)

    def poll(self, client, base: str, job: str, final: bool = False) -> None:
        runs = (client.get(f"{base}/runs/{job}/children", params={"$top": "1000"}, api_version="v1.0") or {})
        for run in runs.get("value") or ():
            child, status = run.get("runId"), run.get("status")
            step = (run.get("properties") or {}).get("azureml.nodeid") or run.get("displayName") or child
            if self.statuses.get(child) in TERMINAL:
                continue  # told and read to its end already
            if status in TERMINAL and str((run.get("properties") or {}).get(REUSED)).lower() == "true":
                # a reused step ran nowhere: it has no logs of its own to read
                self.info(f"[{step}] Status: {status} (reused)")
                self.statuses[child] = status
                continue
            tail = self.tails.setdefault(child, LogTail(lambda text, prefix=f"[{step}] ": self.write(prefix + text)))
            details = run_details(client, base, child)
            status = details.get("status") or status
            ended = status in TERMINAL
            tail.poll(client, details.get("logFiles") or {}, final=ended or final)
            if status != self.statuses.get(child):
                self.info(f"[{step}] Status: {status}")
                self.statuses[child] = status


def _prefix(name: str) -> str:
    match = _USER_LOG.match(name) or _LEGACY_LOG.match(name)
    return f"[rank {match.group(1) or 0}] "


def poll_delays(fast: bool):
    """Seconds between polls: `fast` (an in-process service), 0.02 s backing off to 0.25 s; else the
    SDK's sigmoid (2 s to 60 s), as on Azure."""
    if fast:
        for _ in range(10):  # a short local job ends within a few dozen milliseconds of its start
            yield 0.02
        for _ in range(36):  # and many within two seconds: look every 50 ms until then
            yield 0.05
        delay = 0.05
        while True:  # a poll reads the local store (a few ms): the end is seen within a quarter second
            delay = min(delay * 1.25, FAST_POLL_LIMIT)
            yield delay
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        yield 2 + 58 / (1 + math.exp(-(elapsed - 300) / 60))


def stream(client, job: str, *, info: Callable[[str], None], fast: bool | None = None,
           write: Callable[[str], None] = None, sleep: Callable[[float], None] = time.sleep) -> dict:
    """Print the job's logs until it ends; returns the final job body, raises JobFailedError if it failed."""
    from cli.operations.job import shown_job

    write = write or _stdout
    if fast is None:  # a job of an in-process workspace is polled often: it may well end within a second
        fast = client.poll_fast
    body = client.get(client.workspace.job(job)) or {}
    info(f"RunId: {job}")
    services = (body.get("properties") or {}).get("services") or {}
    studio = (services.get("Studio") or {}).get("endpoint")
    if studio:
        info(f"Web View: {studio}")
    base = history_base(client)
    tail, last_status, delays = LogTail(write), None, poll_delays(fast)
    steps = StepTails(write, info) if (body.get("properties") or {}).get("jobType") == "Pipeline" else None
    while True:
        details = run_details(client, base, job)
        status = details.get("status") or (body.get("properties") or {}).get("status")
        done = status in TERMINAL
        if status != last_status and not done:
            info(f"Status: {status}")
        if steps is not None:
            steps.poll(client, base, job, final=done)
        tail.poll(client, details.get("logFiles") or {}, final=done)
        if done:
            if status != last_status:  # after its steps' last lines and statuses
                info(f"Status: {status}")
            break
        last_status = status
        sleep(next(delays))
    body = client.get(client.workspace.job(job)) or body
    shown = shown_job(body)
    info(f"Execution Summary\n=================\nRunId: {job}")
    if status in FAILED:
        raise JobFailedError(f"job '{job}' ended {status}: {_reason(details, body)}",
                             hint=f"ml job show -n {job}; logs: ml job download -n {job}")
    return shown


def _reason(details: dict, body: dict) -> str:
    error = (details.get("error") or {}).get("error") or details.get("error") or {}
    message = error.get("message") if isinstance(error, dict) else None
    if not message:
        props = body.get("properties") or {}
        message = ((props.get("error") or {}).get("message")
                   or (props.get("properties") or {}).get("azureml.error"))
    return message or "no reason given"


def _stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
