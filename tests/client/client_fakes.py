"""Recorded responses from the REST examples and the SDK wire trace, a scripted mock server,
and a fake credential: the no-network doubles of the client tests."""

from __future__ import annotations

import json
import time

import httpx

from cli.client.resources import WorkspaceId
from tests.shared_data import shared_path

# ../shared beside the repository holds the REST examples and the SDK wire trace; a test that reads
# them is skipped when they are absent (shared_path).
EXAMPLES = "azureml-rest/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/examples"
WIRE = "azureml-rest/sdk-wire-trace/wire.jsonl"
BASE = "https://management.azure.com"


def example(relative: str) -> dict:
    return json.loads(shared_path(EXAMPLES, relative).read_text())


def example_workspace(relative: str) -> WorkspaceId:
    p = example(relative)["parameters"]
    return WorkspaceId(p["subscriptionId"], p["resourceGroupName"], p["workspaceName"])


def example_response(relative: str, status: int, **header_overrides) -> httpx.Response:
    """The recorded response `status` of an example file, as an httpx.Response."""
    recorded = example(relative)["responses"][str(status)]
    headers = {**(recorded.get("headers") or {}), **header_overrides}
    body = recorded.get("body")
    return httpx.Response(status, headers=headers, json=body) if body is not None else httpx.Response(status, headers=headers)


def wire_record(method: str, path_suffix: str, status: int) -> dict:
    """One request/response pair of the SDK wire trace."""
    for line in shared_path(WIRE).read_text().splitlines():
        record = json.loads(line)
        if record.get("method") == method and record.get("path", "").endswith(path_suffix) and record.get("status") == status:
            return record
    raise LookupError(f"no {method} *{path_suffix} -> {status} in the wire trace")


def wire_response(method: str, path_suffix: str, status: int) -> httpx.Response:
    record = wire_record(method, path_suffix, status)
    return httpx.Response(status, headers=record["resp_headers"], json=record["resp_json"])


class Script:
    """A mock server answering from a list of (method, url-prefix-or-None, response|exception)."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.steps:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        method, prefix, answer = self.steps.pop(0)
        assert request.method == method, (request.method, str(request.url))
        if prefix is not None:
            assert str(request.url).startswith(prefix), (str(request.url), prefix)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def done(self) -> bool:
        return not self.steps


class FakeCredential:
    """azure-identity's TokenCredential shape: get_token(scope) -> AccessToken."""

    def __init__(self, token: str = "fake-token-value", lifetime: float = 3600):
        self.token, self.lifetime, self.scopes = token, lifetime, []

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time() + self.lifetime))
