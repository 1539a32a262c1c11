"""Datastores: azure_blob, azure_file, azure_data_lake_gen1/gen2, one_lake -> DatastoreProperties + credentials."""

from __future__ import annotations

from cli.rest.common import compact, resource_fields, string_values

_TYPES = {"azure_blob": "AzureBlob", "azure_file": "AzureFile",
          "azure_data_lake_gen1": "AzureDataLakeGen1", "azure_data_lake_gen2": "AzureDataLakeGen2",
          "one_lake": "OneLake"}
# spec key -> wire key, per type, besides the shared ones
_FIELDS = {
    "azure_blob": {"account_name": "accountName", "container_name": "containerName"},
    "azure_file": {"account_name": "accountName", "file_share_name": "fileShareName"},
    "azure_data_lake_gen1": {"store_name": "storeName"},
    "azure_data_lake_gen2": {"account_name": "accountName", "filesystem": "filesystem"},
    "one_lake": {"one_lake_workspace_name": "oneLakeWorkspaceName"},
}


def credentials_to_rest(credentials: dict | None) -> dict:
    creds = credentials or {}
    if "account_key" in creds:
        return {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": creds["account_key"]}}
    if "sas_token" in creds:
        return {"credentialsType": "Sas", "secrets": {"secretsType": "Sas", "sasToken": creds["sas_token"]}}
    if "client_id" in creds:
        return compact({
            "credentialsType": "ServicePrincipal",
            "authorityUrl": creds.get("authority_url", "https://login.microsoftonline.com"),
            "resourceUrl": creds.get("resource_url"),
            "tenantId": creds["tenant_id"], "clientId": creds["client_id"],
            "secrets": {"secretsType": "ServicePrincipal", "clientSecret": creds["client_secret"]},
        })
    return {"credentialsType": "None"}


def to_rest(spec: dict, refs=None) -> dict:
    kind = spec.get("type", "azure_blob")
    props = {"datastoreType": _TYPES[kind], "description": spec.get("description"),
             "tags": string_values(spec.get("tags")), "credentials": credentials_to_rest(spec.get("credentials"))}
    props.update({wire: spec.get(ours) for ours, wire in _FIELDS[kind].items()})
    if kind == "one_lake":
        artifact = spec.get("artifact") or {}
        props["endpoint"] = spec.get("endpoint")
        props["artifact"] = {"artifactType": "LakeHouse", "artifactName": artifact.get("name")}
    elif kind != "azure_data_lake_gen1":
        props["endpoint"] = spec.get("endpoint", "core.windows.net")
        props["protocol"] = spec.get("protocol", "https")
    if spec.get("service_data_access_auth_identity"):
        props["serviceDataAccessAuthIdentity"] = spec["service_data_access_auth_identity"]
    return {"properties": compact(props)}


def _credentials_from_rest(creds: dict) -> dict:
    # secrets are write-only: show prints which kind, never the values
    return compact({"type": {"AccountKey": "account_key", "Sas": "sas", "ServicePrincipal": "service_principal",
                             "None": None}.get(creds.get("credentialsType"), creds.get("credentialsType")),
                    "tenant_id": creds.get("tenantId"), "client_id": creds.get("clientId"),
                    "authority_url": creds.get("authorityUrl"), "resource_url": creds.get("resourceUrl")})


def from_rest(body: dict) -> dict:
    props = body.get("properties") or {}
    kind = next((ours for ours, wire in _TYPES.items() if wire == props.get("datastoreType")), props.get("datastoreType"))
    fields = {ours: props.get(wire) for ours, wire in _FIELDS.get(kind, {}).items()}
    return compact({
        "name": body.get("name"), **resource_fields(body), "type": kind,
        "description": props.get("description"), "tags": props.get("tags") or {}, **fields,
        "endpoint": props.get("endpoint"), "protocol": props.get("protocol"),
        "artifact": compact({"name": (props.get("artifact") or {}).get("artifactName"), "type": "lake_house"}) if props.get("artifact") else None,
        "credentials": _credentials_from_rest(props.get("credentials") or {}) or None,
        "service_data_access_auth_identity": props.get("serviceDataAccessAuthIdentity"),
        "is_default": props.get("isDefault"),
    })
