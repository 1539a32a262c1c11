"""Inline environments on the local workspace: kept as the SDK keeps them, an anonymous environment
version named and versioned from its content, which the job or component references by id.

The versions expected are the SDK's own, read from tests/conformance/sdk_bodies.jsonl (recorded by
tests/conformance/sdk_bodies.py from the specs in tests/conformance/body_specs)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.commands.asset_cli import ml_json, ml_ok
from tests.commands.job_helpers import wait_for

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"
ANONYMOUS = "CliV2AnonymousEnvironment"


def sdk_environment_version(spec: str) -> str:
    """The anonymous environment version the SDK registered for body_specs/<spec>."""
    for line in (CONFORMANCE / "sdk_bodies.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["path"] == f"body_specs/{spec}":
            put = next(r for r in row["requests"] if r["path"].startswith(f"/environments/{ANONYMOUS}/"))
            return put["path"].rsplit("/", 1)[1]
    raise AssertionError(f"body_specs/{spec} is not recorded")


def test_job_inline_image_environment_is_the_sdks_anonymous_version():
    spec = CONFORMANCE / "body_specs" / "job_inline_image_environment.yml"
    version = sdk_environment_version(spec.name)
    job = ml_json("job", "create", "-f", str(spec))
    assert job["environment"] == f"azureml:{ANONYMOUS}:{version}"
    environment = ml_json("environment", "show", "-n", ANONYMOUS, "-v", version)
    assert environment["image"] == "python:3.11-slim"
    # the same environment again is the same version, not a new one
    again = ml_json("job", "create", "-f", str(spec))
    assert again["environment"] == job["environment"]
    assert ml_ok("environment", "list", "-n", ANONYMOUS, "--query", "length(@)", "-o", "tsv") == "1\n"
    wait_for(job["name"]), wait_for(again["name"])


def test_component_inline_conda_environment_is_registered_not_sent_raw(tmp_path):
    """A component's inline environment used to be sent as a dict holding local paths."""
    job = yaml.safe_load((CONFORMANCE / "body_specs" / "job_inline_conda_environment.yml").read_text())
    (tmp_path / "conda.yml").write_text((CONFORMANCE / "body_specs" / "conda.yml").read_text())
    component = {"$schema": "https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json",
                 "name": "inline_env", "version": "1", "type": "command", "command": "echo hi",
                 "environment": job["environment"]}
    (tmp_path / "component.yml").write_text(yaml.safe_dump(component))
    created = ml_json("component", "create", "-f", str(tmp_path / "component.yml"))
    version = sdk_environment_version("job_inline_conda_environment.yml")
    assert created["environment"].endswith(f"/environments/{ANONYMOUS}/versions/{version}")
    environment = ml_json("environment", "show", "-n", ANONYMOUS, "-v", version)
    assert environment["conda_file"]["dependencies"][-1] == {"pip": ["pandas"]}
