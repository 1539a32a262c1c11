"""Shared fixtures: an isolated environment for every CLI run, and the shared corpus location."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared; the calling test is skipped with a reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared reference data lives beside the repository)")
    return path


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own ML_HOME and a plain, colourless terminal."""
    home = tmp_path_factory.mktemp("ml-home")
    monkeypatch.setenv("ML_HOME", str(home))
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
