"""How a local service starts a new interpreter on this same code (a job's runner, a tracking server)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def environment() -> dict[str, str]:
    """This process's environment, with PYTHONPATH leading to this code, so `python -m cli...` runs it."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))}
