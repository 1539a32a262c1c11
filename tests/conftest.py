"""Shared fixtures: an isolated environment for every CLI run, and the shared corpus location."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared_data import REPO, SHARED, shared_path  # noqa: F401 (tests import them from here)


@pytest.fixture(scope="session")
def job_environments(tmp_path_factory) -> Path:
    """Built job venvs, shared by the whole session (content-addressed and immutable once built)."""
    return tmp_path_factory.mktemp("job-environments")


def prebuild_environment(root: Path, curated_name: str) -> None:
    """Builds a curated environment before the tests whose jobs use it start their clocks."""
    from cli.local.environments import builder, curated

    builder.ensure(curated.definition(curated_name), root, lambda line: print(line, file=sys.stderr))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch, job_environments):
    """Every test gets its own ML_HOME and a plain, colourless terminal; job venvs are shared."""
    home = tmp_path_factory.mktemp("ml-home")
    monkeypatch.setenv("ML_HOME", str(home))
    monkeypatch.setenv("ML_ENVIRONMENTS_DIR", str(job_environments))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    for name in ("ML_WORKSPACE", "ML_RESOURCE_GROUP", "ML_SUBSCRIPTION", "AZURE_DEFAULTS_GROUP", "AZURE_DEFAULTS_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    return home


def run_ml(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess and capture its output."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


# ---- The REST contract, across the whole suite -------------------------------------------------
# Every exchange any test makes through LocalTransport (in-process or in an `ml` subprocess) is
# appended to one wire log (cli/client/wire_log.py); at the end of the session each one is checked
# against ../shared/azureml-rest/contract, and a violation fails the run.

_WIRE_LOG = Path(os.environ.get("ML_TEST_WIRE_LOG") or (Path(__import__("tempfile").gettempdir()) / f"ml-wire-{os.getpid()}.jsonl"))
_contract_report: dict = {}
LOCAL_SERVICES = ("LocalWorkspaceService", "LocalHome")  # the local workspace(s) under contract


def pytest_sessionstart(session):
    _WIRE_LOG.unlink(missing_ok=True)
    os.environ["ML_WIRE_LOG"] = str(_WIRE_LOG)


def _check_wire_log() -> tuple[int, list[str]]:
    import json

    import httpx

    from contract_check import CONTRACT, check_exchange

    if not CONTRACT.is_dir() or not _WIRE_LOG.exists():
        return 0, []
    checked, problems = 0, []
    for line in _WIRE_LOG.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("served_by") not in LOCAL_SERVICES:
            continue  # a test's own fake service, not the workspace under contract
        encode = lambda body: json.dumps(body).encode() if body is not None else b""  # noqa: E731
        request = httpx.Request(entry["method"], entry["url"], headers=entry["request_headers"], content=encode(entry["request_body"]))
        response = httpx.Response(entry["status"], headers=entry["response_headers"], content=encode(entry["response_body"]))
        checked += 1
        try:
            check_exchange(request, response)
        except AssertionError as exc:
            problems.append(str(exc).splitlines()[0][:300])
    return checked, problems


def pytest_sessionfinish(session, exitstatus):
    if "ML_WIRE_LOG" not in os.environ:
        return
    checked, problems = _check_wire_log()
    _contract_report.update(checked=checked, problems=problems)
    if problems and session.exitstatus == 0:
        session.exitstatus = 1
    _WIRE_LOG.unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter):
    if not _contract_report.get("checked"):
        return
    problems = _contract_report["problems"]
    terminalreporter.write_line(f"REST contract: {_contract_report['checked']} exchanges checked across the suite, {len(problems)} violations")
    for problem in sorted(set(problems))[:20]:
        terminalreporter.write_line(f"  {problem}")
