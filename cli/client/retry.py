"""When to retry a request, and how long to wait: azure-core's policy, made small."""

from __future__ import annotations

import email.utils
import time
from typing import Mapping, Optional

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
MAX_RETRIES = 3
BACKOFF_FACTOR = 0.8
BACKOFF_CAP = 120.0


def retry_after(headers: Mapping[str, str]) -> Optional[float]:
    """Seconds the server asked us to wait (retry-after-ms, x-ms-retry-after-ms, Retry-After), if any."""
    for name, scale in (("retry-after-ms", 1000.0), ("x-ms-retry-after-ms", 1000.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) / scale)
            except ValueError:
                pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def should_retry_status(method: str, status: int, headers: Mapping[str, str]) -> bool:
    """POST and PATCH are not idempotent: retry them only when the server says when to."""
    if status not in RETRY_STATUSES:
        return False
    return method in IDEMPOTENT_METHODS or retry_after(headers) is not None


def delay_for(attempt: int, headers: Mapping[str, str] | None = None) -> float:
    """Retry-After if the server sent one, else exponential backoff; never above the cap."""
    asked = retry_after(headers) if headers is not None else None
    delay = asked if asked is not None else BACKOFF_FACTOR * (2 ** attempt)
    return min(delay, BACKOFF_CAP)
