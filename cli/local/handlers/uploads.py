"""startPendingUpload of code versions: a SAS-signed blob prefix to upload a code snapshot to before its version PUT.

Workspaces have no such operation for data or models: their files go to a datastore (listSecrets).
"""

from __future__ import annotations

import uuid

from cli.local import ids
from cli.local.http import ApiError, Call, json_response


def start_pending_upload(call: Call):
    from cli.local.handlers import checks

    checks.name(call, "name", "asset")
    checks.name(call, "version", "version")
    body = call.json(required=False)
    kind = body.get("pendingUploadType", "TemporaryBlobReference")
    if kind not in ("TemporaryBlobReference", "None"):
        raise ApiError(400, "UserError", f"pendingUploadType '{kind}' is not one of TemporaryBlobReference, None.",
                       target="pendingUploadType")
    upload_id = body.get("pendingUploadId") or str(uuid.uuid4())
    if not isinstance(upload_id, str) or not upload_id.replace("-", "").isalnum():
        raise ApiError(400, "UserError", "pendingUploadId must be letters, digits and dashes.",
                       target="pendingUploadId")
    service = call.service
    container = service.store.get(service.arm_id("datastores", ids.DEFAULT_DATASTORE)).body[
        "properties"]["containerName"]
    prefix = f"LocalUpload/{upload_id}"
    blob_uri = ids.blob_url(service.workspace, container, prefix)
    sas_uri = f"{blob_uri}?{service.blobs.sas_query(container, prefix)}"
    return json_response(200, {
        "blobReferenceForConsumption": {
            "blobUri": blob_uri,
            "storageAccountArmId": (f"/subscriptions/{ids.SUBSCRIPTION}/resourceGroups/{ids.RESOURCE_GROUP}"
                                    f"/providers/Microsoft.Storage/storageAccounts/{service.workspace}"),
            "credential": {"credentialType": "SAS", "sasUri": sas_uri},
        },
        "pendingUploadId": upload_id,
        "pendingUploadType": "TemporaryBlobReference",
    })


def register(router) -> None:
    router.add(ids.MANAGEMENT_HOST, "POST", "{WS}/codes/{name}/versions/{version}/startPendingUpload",
               start_pending_upload)
