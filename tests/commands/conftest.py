"""The examples and job specs of these tests run on AzureML-sklearn-1.5: built once per session."""

from __future__ import annotations

import pytest

from tests.conftest import prebuild_environment


@pytest.fixture(scope="session", autouse=True)
def curated_sklearn(request, job_environments):
    if any(item.module.__name__.rsplit(".", 1)[-1].startswith("test_job") for item in request.session.items):
        prebuild_environment(job_environments, "sklearn-1.5")
