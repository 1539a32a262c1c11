"""Where the shared reference data lives (../shared beside the repository), and the one guard for it.

Kept out of conftest.py so helper modules (client_fakes, contract_check) can import it by name.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REST_CONTRACT = Path(os.environ.get("ML_REST_CONTRACT") or SHARED / "azureml-rest" / "contract")


def shared_path(*parts: str) -> Path:
    """A path under ../shared; the calling test is skipped with a reason when it is absent."""
    import pytest

    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared reference data lives beside the repository)")
    return path
