"""Per-request authorization of blob calls: Azure Storage Shared Key, or an AAD bearer token.

Shared Key (learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key): the
Authorization header is `SharedKey <account>:<base64 HMAC-SHA256 of the string-to-sign>`, keyed with
the base64-decoded account key. Both sign in httpx's auth flow, so every retry is signed afresh.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from email.utils import formatdate
from typing import Callable
from urllib.parse import unquote

import httpx

from cli.client.blob_upload import STORAGE_VERSION
from cli.errors import UsageError

STORAGE_SCOPE = "https://storage.azure.com/.default"
# The standard headers the string-to-sign lists, in order, one value (or nothing) per line.
SIGNED_HEADERS = ("content-encoding", "content-language", "content-length", "content-md5", "content-type",
                  "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range")


def string_to_sign(account: str, request: httpx.Request) -> str:
    """The Blob service string-to-sign (version 2015-02-21 and later) of `request`."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    if headers.get("content-length") == "0":
        headers["content-length"] = ""  # a zero length is signed as an empty line
    lines = [request.method] + [headers.get(h, "") for h in SIGNED_HEADERS]
    # The service sorts x-ms-* names the invariant-culture way, where '-' does not count first.
    ms = sorted(((k, v) for k, v in headers.items() if k.startswith("x-ms-")),
                key=lambda kv: (kv[0].replace("-", ""), kv[0]))
    canonical_headers = "".join(f"{k}:{' '.join(v.split())}\n" for k, v in ms)
    path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
    resource = f"/{account}{path}"
    params = {}
    for key, value in request.url.params.multi_items():
        params.setdefault(key.lower(), []).append(unquote(value))
    for key in sorted(params):
        resource += f"\n{key}:{','.join(sorted(params[key]))}"
    return "\n".join(lines) + "\n" + canonical_headers + resource


class SharedKeyAuth(httpx.Auth):
    def __init__(self, account: str, key: str):
        try:
            self._key = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            raise UsageError(f"the account key of storage account '{account}' is not base64") from None
        self.account = account

    def auth_flow(self, request: httpx.Request):
        request.headers["x-ms-date"] = formatdate(usegmt=True)
        request.headers.setdefault("x-ms-version", STORAGE_VERSION)
        signature = hmac.new(self._key, string_to_sign(self.account, request).encode("utf-8"), hashlib.sha256)
        request.headers["Authorization"] = f"SharedKey {self.account}:{base64.b64encode(signature.digest()).decode()}"
        yield request

    def __repr__(self) -> str:  # never the key
        return f"SharedKeyAuth({self.account!r})"


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer` with a token for the storage audience, fetched (and cached) per request."""

    def __init__(self, token: Callable[[], str]):
        self._token = token

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self._token()}"
        request.headers.setdefault("x-ms-version", STORAGE_VERSION)  # bearer access needs 2017-11-09 or later
        yield request
