"""Helpers of the local workspace tests: URLs, and a transport that checks every exchange against the contract."""

from __future__ import annotations

import httpx

from cli.local.service import LocalWorkspaceService
from tests.contract_check import check_if_present

API_VERSION = "2025-12-01"
WS = ("https://management.ml.invalid/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local"
      "/providers/Microsoft.MachineLearningServices/workspaces/local")


class ContractTransport(httpx.BaseTransport):
    """Dispatches to the service in-process and asserts each exchange against the contract."""

    def __init__(self, service: LocalWorkspaceService, *, check_request: bool = True):
        self.service, self.check_request = service, check_request
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response = self.service.handle(request)
        check_if_present(request, response, check_request=self.check_request)
        self.exchanges.append((request, response))
        return response



def url(*parts: str, **query: str) -> str:
    """A management URL below the local workspace, with api-version and `query`.

    (httpx replaces a URL's query with `params=`, so tests put the whole query here.)"""
    from urllib.parse import urlencode

    return "/".join((WS, *parts)) + "?" + urlencode({"api-version": API_VERSION, **query})
