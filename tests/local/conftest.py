"""Fixtures for the local workspace: a service under tmp ML_HOME and a client whose every exchange is
checked against the REST contract."""

from __future__ import annotations

import httpx
import pytest

from cli.local.service import LocalWorkspaceService
from local_wire import ContractTransport
from tests.conftest import prebuild_environment


@pytest.fixture(scope="session", autouse=True)
def curated_sklearn(request, job_environments):
    """The job specs run on AzureML-sklearn-1.5: built once, before any test waits on a job."""
    if any("jobs" in item.fixturenames for item in request.session.items):
        prebuild_environment(job_environments, "sklearn-1.5")


@pytest.fixture
def service(tmp_path):
    svc = LocalWorkspaceService(tmp_path, "local")
    yield svc
    svc.store.close()


@pytest.fixture
def client(service):
    with httpx.Client(transport=ContractTransport(service)) as c:
        yield c


@pytest.fixture
def raw_client(service):
    """For requests that are wrong on purpose: only the responses are held to the contract."""
    with httpx.Client(transport=ContractTransport(service, check_request=False)) as c:
        yield c
