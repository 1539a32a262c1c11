"""Submitting job specs to a local workspace and watching their runners, for the runner tests."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from cli.client.resources import WorkspaceId
from cli.client.datastore_upload import upload_to_datastore
from cli.client.uploads import upload_code
from cli.client.workspace_client import WorkspaceClient
from cli.local.runner.state import TERMINAL, JobFolder, alive, read_info
from cli.local.service import LocalWorkspaceService
from cli.rest.job import to_rest
from cli.rest.references import ReferenceResolver
from cli.spec.loader import load_spec
from cli.spec.paths import is_local_path
from local_wire import ContractTransport

SPECS = Path(__file__).parent / "job_specs"
WORKSPACE = WorkspaceId("00000000-0000-0000-0000-000000000000", "local", "local")


class LocalJobs:
    """A local workspace under `home` and a contract-checked client; remembers jobs to clean up."""

    def __init__(self, home: Path):
        self.home = home
        self.service = LocalWorkspaceService(home, "local")
        self.client = WorkspaceClient("https://management.ml.invalid", WORKSPACE, ContractTransport(self.service))
        self.jobs: list[str] = []

    def submit(self, spec_file: str, name: str, *overrides: str) -> dict:
        spec = load_spec(SPECS / spec_file, group="job", overrides=overrides).data
        uploads = {}
        for input_name, value in (spec.get("inputs") or {}).items():
            if isinstance(value, dict) and is_local_path(value.get("path")):
                uploads[value["path"]] = upload_to_datastore(self.client, value["path"], name=f"{name}-{input_name}",
                                                             version="1").uri
        if spec.get("code"):
            uploads[spec["code"]] = upload_code(self.client, spec["code"])
        refs = ReferenceResolver(WORKSPACE.arm_id, uploads=uploads)
        self.jobs.append(name)
        return self.client.put(f"jobs/{name}", to_rest(spec, refs))

    def get(self, name: str) -> dict:
        return self.client.get(f"jobs/{name}")

    def wait(self, name: str, statuses=TERMINAL, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(name)
            if job["properties"]["status"] in statuses:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {name} is still {job['properties']['status']} after {timeout} s")
            time.sleep(0.1)

    def folder(self, name: str) -> JobFolder:
        return JobFolder.of(self.home, "local", name)

    def log(self, name: str, file: str = "std_log.txt") -> str:
        return (self.folder(name).user_logs / file).read_text()

    def close(self) -> None:
        """Stop whatever a test left running: runners first, then their commands' process groups."""
        for name in self.jobs:
            info = read_info(self.folder(name)) or {}
            for pid, start in [(info.get("pid"), info.get("start")), *(info.get("groups") or [])]:
                if pid and alive(pid, start):
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        self.client.close()
        self.service.store.close()


def group_alive(group: list) -> bool:
    pgid, start = group
    if not alive(pgid, start):
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
