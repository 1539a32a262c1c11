"""Masking of secrets (SAS signatures, bearer tokens, keys) in URLs and messages."""

from __future__ import annotations

import re

MASK = "REDACTED"

# Query parameters of account, service and user-delegation SAS tokens; all of them together
# identify or authorize access, so none is shown.
_SAS_KEYS = (
    "sig", "sv", "se", "st", "sp", "spr", "sr", "srt", "ss", "si", "sip", "sdd",
    "skoid", "sktid", "skt", "ske", "sks", "skv", "saoid", "suoid", "scid",
)
_SAS = re.compile(r"(?<![\w-])(" + "|".join(_SAS_KEYS) + r")=([^&\s\"'<>]+)", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[\w\-.~+/]+=*", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")
_SECRET_FIELDS = re.compile(
    r"(\"(?:primaryKey|secondaryKey|accessToken|sasToken|sasUri|key|accountKey|clientSecret)\"\s*:\s*\")[^\"]*",
    re.IGNORECASE,
)


def redact(text: object) -> str:
    """Return `text` (a URL, header value or message) with every secret masked."""
    value = str(text)
    value = _BEARER.sub(lambda m: m.group(1) + MASK, value)
    value = _JWT.sub(MASK, value)
    value = _SAS.sub(lambda m: f"{m.group(1)}={MASK}", value)
    return _SECRET_FIELDS.sub(lambda m: m.group(1) + MASK, value)
