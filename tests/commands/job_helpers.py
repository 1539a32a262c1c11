"""Job specs written into a test's temporary folder, and waiting on a job's status."""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from tests.conftest import run_ml

CURATED = "azureml:AzureML-sklearn-1.5@latest"  # runs in the current Python


def job_file(folder: Path, command: str, name: str = "job.yml", **fields) -> Path:
    """A command job spec running `command` in a code folder `src/` next to it."""
    (folder / "src").mkdir(exist_ok=True)
    (folder / "src" / "keep.txt").write_text("code folders may not be empty\n")
    spec = {"$schema": "https://azuremlschemas.azureedge.net/latest/commandJob.schema.json",
            "command": command, "code": "src", "environment": CURATED, **fields}
    path = folder / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def create(spec: Path, *args: str) -> str:
    result = run_ml("job", "create", "-f", str(spec), *args, "--query", "name", "-o", "tsv")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def status(name: str) -> str:
    result = run_ml("job", "show", "-n", name, "--query", "status", "-o", "tsv")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def wait_for(name: str, wanted=("Completed", "Failed", "Canceled"), timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = status(name)
        if current in wanted:
            return current
        time.sleep(0.2)
    raise AssertionError(f"job {name} still {current} after {timeout}s")


def shown(name: str) -> dict:
    result = run_ml("job", "show", "-n", name)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
