"""Masking of secrets in URLs, messages and logged bodies: one list of what a secret looks like.

A name is secret when it contains one of SECRET_WORDS (case-insensitive): `primaryKey`, `accountKey`,
`sasToken`, `adminUserPassword`, `clientSecret`, `AccountKey=` in a connection string, `$skipToken`...
Masking a harmless value now and then (a key vault id) is the price of never printing a real one.
Besides names: SAS query parameters (`sig=` and the fields signed with it), `Bearer <token>`, JWTs.
`redact` masks text (a URL, a header, a message, a serialized body); `redact_json` masks a parsed
body, so ML_WIRE_LOG stays valid JSON of the same shape and is safe to share for Azure too.
"""

from __future__ import annotations

import re

MASK = "REDACTED"

SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "key", "sas", "signature", "credential")
_WORDS = "|".join(SECRET_WORDS)

# Query parameters of account, service and user-delegation SAS tokens; all of them together
# identify or authorize access, so none is shown.
_SAS_KEYS = (
    "sig", "sv", "se", "st", "sp", "spr", "sr", "srt", "ss", "si", "sip", "sdd",
    "skoid", "sktid", "skt", "ske", "sks", "skv", "saoid", "suoid", "scid",
)
_SAS = re.compile(r"(?<![\w-])(" + "|".join(_SAS_KEYS) + r")=([^&;\s\"'<>]+)", re.IGNORECASE)
# name=value in query strings and connection strings (AccountKey=...; SharedAccessSignature=...)
_ASSIGNMENT = re.compile(r"(?<![\w-])([\w$-]*(?:" + _WORDS + r")[\w-]*)=([^&;\s\"'<>]+)", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[\w\-.~+/]+=*", re.IGNORECASE)
_BASIC = re.compile(r"(Basic\s+)[A-Za-z0-9+/]+=*")
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")
# "name": "value" in serialized JSON, the value possibly holding escaped quotes
_JSON_FIELD = re.compile(r"(\"[^\"]*(?:" + _WORDS + r")[^\"]*\"\s*:\s*\")(?:[^\"\\]|\\.)*", re.IGNORECASE)
_NAME = re.compile(_WORDS, re.IGNORECASE)
# user:password@ in URLs (proxies, git remotes, package indexes)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+(@)", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """Whether a field, header or variable named `name` holds a secret by the one list.

    A name ending in `type` (credentialsType, secretsType) names a kind of secret, not a secret."""
    return bool(_NAME.search(name)) and not name.lower().endswith("type")


def redact(text: object) -> str:
    """Return `text` (a URL, header value or message) with every secret masked."""
    value = str(text)
    value = _BEARER.sub(lambda m: m.group(1) + MASK, value)
    value = _BASIC.sub(lambda m: m.group(1) + MASK, value)
    value = _JWT.sub(MASK, value)
    value = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(2), value)
    value = _SAS.sub(lambda m: f"{m.group(1)}={MASK}", value)
    value = _ASSIGNMENT.sub(lambda m: f"{m.group(1)}={MASK}", value)
    return _JSON_FIELD.sub(lambda m: m.group(1) + MASK, value)


def redact_json(value):
    """A copy of a parsed JSON value: strings under secret names masked, every other string redacted."""
    if isinstance(value, dict):
        return {k: (MASK if isinstance(v, str) and is_secret_name(str(k)) else redact_json(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value
