"""Long-running operations: ARM's Azure-AsyncOperation and Location polling protocols."""

from __future__ import annotations

from typing import Optional

from cli.client.arm_errors import operation_failure
from cli.client.retry import retry_after

POLL_DEFAULT = 2.0  # seconds, when the service gives no Retry-After
POLL_CAP = 30.0
_DONE = "succeeded"
_FAILED = ("failed", "canceled", "cancelled")


def is_long_running(response) -> bool:
    """A 201/202 with a polling header, or any 2xx naming an Azure-AsyncOperation."""
    headers = response.headers
    if "azure-asyncoperation" in headers:
        return True
    return response.status_code in (201, 202) and "location" in headers


def wait(client, method: str, url: str, response) -> Optional[dict]:
    """Poll until the operation is terminal; return the final resource (PUT/PATCH/POST) or None."""
    headers = response.headers
    if "azure-asyncoperation" in headers:
        _poll_operation(client, headers["azure-asyncoperation"], response)
        final = None
        if method == "POST" and "location" in headers:
            final = client._send("GET", headers["location"])
    else:
        final = _poll_location(client, headers["location"], response)
    if method in ("PUT", "PATCH"):  # final-state-via original-uri
        return client._json(client._send("GET", url))
    if method == "POST" and final is not None:
        return client._json(final)
    return None


def _poll_operation(client, op_url: str, last) -> None:
    while True:
        client._sleep(_delay(last))
        last = client._send("GET", op_url)
        body = client._json(last) or {}
        status = str(body.get("status", "")).lower()
        if status == _DONE:
            return
        if status in _FAILED:
            raise operation_failure(body, op_url)


def _poll_location(client, location: str, last):
    while True:
        client._sleep(_delay(last))
        last = client._send("GET", location)
        if last.status_code != 202:
            return last
        location = last.headers.get("location", location)


def _delay(response) -> float:
    asked = retry_after(response.headers)
    return min(POLL_DEFAULT if asked is None else asked, POLL_CAP)
