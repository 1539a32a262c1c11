"""Secrets a resource is given are stored, but never returned by GET, PUT or LIST, as on Azure.

Azure answers them only from the dedicated POST actions (datastores/listSecrets, computes/listKeys);
every other response leaves them out. SECRET_FIELDS are the contract's secret-holding properties
(datastore credential `secrets`, compute admin passwords and private keys, access tokens, keys and
connection strings). User-owned maps (tags, environment variables, free-form properties) are left
as they are: their keys are the user's, not the schema's.
"""

from __future__ import annotations

SECRET_FIELDS = frozenset({
    "secrets", "password", "passwords", "adminUserPassword", "privateKeyData", "databricksAccessToken",
    "clientSecret", "accessToken", "refreshToken", "securityToken", "developerToken", "sasToken", "sasUri",
    "primaryKey", "secondaryKey", "primaryAccessKey", "secondaryAccessKey", "secretAccessKey",
    "userStorageKey", "notebookAccessKeys", "relayConnectionString", "serviceBusConnectionString",
})
USER_MAPS = frozenset({"tags", "environmentVariables"})


def without_secrets(value):
    """A copy of a resource body (or part of one) with every SECRET_FIELDS member left out."""
    if isinstance(value, dict):
        return {k: (v if k in USER_MAPS else without_secrets(v)) for k, v in value.items()
                if k not in SECRET_FIELDS}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


def compute_secrets(body: dict) -> dict | None:
    """What computes/listKeys answers for a compute (ComputeSecrets), or None when it has none."""
    props = body.get("properties") or {}
    inner = props.get("properties") or {}
    kind = props.get("computeType")
    if kind == "VirtualMachine" and inner.get("administratorAccount"):
        return {"computeType": kind, "administratorAccount": inner["administratorAccount"]}
    if kind == "Databricks" and inner.get("databricksAccessToken"):
        return {"computeType": kind, "databricksAccessToken": inner["databricksAccessToken"]}
    return None
