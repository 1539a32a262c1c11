"""aml_token credentials of a local endpoint: `<expiry epoch>.<hmac>` signed with the endpoint's secret."""

from __future__ import annotations

import hashlib
import hmac
import time

LIFETIME_S = 3600  # Azure's endpoint tokens last an hour; refresh is advised after half of that


def issue(secret: str, endpoint: str, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    expiry = int(now) + LIFETIME_S
    return {"accessToken": f"{expiry}.{_sign(secret, endpoint, expiry)}", "tokenType": "Bearer",
            "expiryTimeUtc": expiry, "refreshAfterTimeUtc": int(now) + LIFETIME_S // 2}


def valid(secret: str, endpoint: str, token: str, now: float | None = None) -> bool:
    expiry, _, signature = token.partition(".")
    if not expiry.isdigit() or not secret:
        return False
    if int(expiry) < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(signature.encode(), _sign(secret, endpoint, int(expiry)).encode())


def _sign(secret: str, endpoint: str, expiry: int) -> str:
    return hmac.new(secret.encode(), f"{endpoint}|{expiry}".encode(), hashlib.sha256).hexdigest()
