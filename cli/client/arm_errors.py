"""ARM and blob-storage error responses mapped onto cli.errors."""

from __future__ import annotations

import re
from typing import Optional, Tuple

from cli.redact import redact
from cli.errors import AuthenticationError, ConflictError, MLError, ResourceNotFoundError, ServiceError

_AUTH_HINT = ("sign in with `az login` (or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET) "
              "and check your role on the workspace")
_XML_FIELD = r"<{0}>(.*?)</{0}>"


def error_from_response(response, client_request_id: Optional[str] = None) -> MLError:
    """The cli.errors exception for an error response (status >= 400)."""
    status = response.status_code
    code, message = _code_and_message(response)
    request_id = response.headers.get("x-ms-request-id") or client_request_id
    text = f"({code}) {message}" if code else message
    text = redact(f"{text} [HTTP {status}, request id {request_id or 'none'}]")
    if status == 404:
        return ResourceNotFoundError(text)
    if status == 409:
        return ConflictError(text)
    if status in (401, 403):
        return AuthenticationError(text, hint=_AUTH_HINT)
    return ServiceError(text, status=status, code=code, request_id=request_id)


def _code_and_message(response) -> Tuple[Optional[str], str]:
    reason = f"{response.status_code} {response.reason_phrase}".strip()
    try:
        body = response.json()
    except ValueError:
        return _from_xml(response.text, reason)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, reason
    message = str(error.get("message") or reason)
    details = [d.get("message") for d in error.get("details") or () if isinstance(d, dict) and d.get("message")]
    if details:
        message = f"{message} ({'; '.join(details)})"
    return error.get("code"), message


def _from_xml(text: str, reason: str) -> Tuple[Optional[str], str]:
    # Blob storage answers `<Error><Code>..</Code><Message>..</Message></Error>`.
    code = re.search(_XML_FIELD.format("Code"), text or "", re.DOTALL)
    message = re.search(_XML_FIELD.format("Message"), text or "", re.DOTALL)
    first_line = message.group(1).strip().splitlines()[0] if message and message.group(1).strip() else reason
    return (code.group(1).strip() if code else None), first_line


def operation_failure(body: object, url: str) -> ServiceError:
    """The error for a long-running operation that ended Failed or Canceled."""
    body = body if isinstance(body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    status = body.get("status", "Failed")
    code = error.get("code")
    message = error.get("message") or f"the operation ended {status}"
    text = f"({code}) {message}" if code else message
    return ServiceError(redact(f"{text} [operation {status}: {url}]"), code=code)
