"""The contract checker must fail on what it exists to catch."""

import json

import httpx
import pytest

from local_wire import url
from tests.contract_check import check_exchange

OK_HEADERS = {"x-ms-request-id": "r1", "Content-Type": "application/json"}


def exchange(method, path, status, body=None, headers=None):
    request = httpx.Request(method, url(path))
    content = json.dumps(body).encode() if body is not None else b""
    return request, httpx.Response(status, content=content, headers={**OK_HEADERS, **(headers or {})})


def test_accepts_a_valid_exchange():
    check_exchange(*exchange("GET", "codes/c", 200, {"properties": {"isArchived": False}}))


@pytest.mark.parametrize("args, message", [
    (("GET", "codes/c", 201, {"properties": {}}), "status 201 is not one of"),
    (("GET", "codes/c", 200, {"properties": {"isArchivd": False}}), "'isArchivd' was unexpected"),
    (("GET", "codes/c/nothing", 200, {}), "no such operation"),
    (("PUT", "computes/x", 201, {"properties": {"computeType": "AmlCompute"}}), "missing Azure-AsyncOperation"),
    (("GET", "codes/c", 404, {"error": {"target": "x"}}), "ARM error without code and message"),
    (("GET", "codes/c", 404, {"message": "no"}), "error body does not match"),
    (("DELETE", "codes/c/versions/1", 204, {"x": 1}), "a body where the contract has none"),
    (("GET", "jobs/j", 200, {"properties": {"jobType": "Command"}}), "'command' is a required property"),
])
def test_rejects(args, message):
    with pytest.raises(AssertionError, match=message):
        check_exchange(*exchange(*args))


def test_requires_request_id():
    request, response = exchange("GET", "codes/c", 200, {"properties": {}})
    del response.headers["x-ms-request-id"]
    with pytest.raises(AssertionError, match="x-ms-request-id"):
        check_exchange(request, response)
