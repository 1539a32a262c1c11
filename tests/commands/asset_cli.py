"""Helpers of the asset command tests: run `ml` and read its JSON, minus what changes every run."""

from __future__ import annotations

import json

from tests.conftest import run_ml

WS = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
      "Microsoft.MachineLearningServices/workspaces/local")


def ml_ok(*args: str, **kwargs) -> str:
    """stdout of a successful `ml` run; the failure shows stderr."""
    result = run_ml(*args, **kwargs)
    assert result.returncode == 0, f"ml {' '.join(args)} exited {result.returncode}: {result.stderr}"
    return result.stdout


def ml_json(*args: str, **kwargs):
    """The JSON `ml` printed, with creation_context (timestamps, user) removed everywhere."""
    return _stable(json.loads(ml_ok(*args, **kwargs)))


def ml_fails(code: int, *args: str, **kwargs) -> str:
    """stderr of an `ml` run that must exit with `code`."""
    result = run_ml(*args, **kwargs)
    assert result.returncode == code, f"expected exit {code}, got {result.returncode}: {result.stdout}{result.stderr}"
    assert result.stdout == ""
    return result.stderr


def _stable(data):
    if isinstance(data, list):
        return [_stable(item) for item in data]
    if isinstance(data, dict):
        return {k: _stable(v) for k, v in data.items() if k != "creation_context"}
    return data
