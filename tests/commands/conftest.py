"""The examples and job specs of these tests run on AzureML-sklearn-1.5: built once per session."""

from __future__ import annotations

import pytest

from tests.conftest import prebuild_environment


@pytest.fixture(scope="session", autouse=True)
def curated_sklearn(job_environments):
    prebuild_environment(job_environments, "sklearn-1.5")
