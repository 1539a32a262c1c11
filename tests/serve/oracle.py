"""Where the official SDK (azure-ai-ml) lives for these tests: its own interpreter, never ours.

ML_ORACLE_PYTHON names it (CI: the venv tests/oracle_venv.sh makes); else /opt/oracle/bin/python.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


def oracle_python() -> str:
    path = os.environ.get("ML_ORACLE_PYTHON") or "/opt/oracle/bin/python"
    if not Path(path).is_file():
        pytest.skip(f"the official SDK's interpreter is absent ({path}); make it with tests/oracle_venv.sh "
                    "and set ML_ORACLE_PYTHON")
    probe = subprocess.run([path, "-c", "import azure.ai.ml, azure.identity"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"{path} has no azure-ai-ml: {probe.stderr.strip().splitlines()[-1:]}")
    return path
