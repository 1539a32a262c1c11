"""Identity of the local workspace: hosts, ARM ids and azureml:// URIs of the same shape as Azure's."""

from __future__ import annotations

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "local"
LOCATION = "local"
API_VERSION = "2025-12-01"
PROVIDER = "Microsoft.MachineLearningServices"

MANAGEMENT_HOST = "management.ml.invalid"
BLOB_HOST = "blob.ml.invalid"
API_HOST = "api.ml.invalid"  # the "<region>.api.azureml.ms" of Azure: discovery, history, MLflow
MANAGEMENT_URL = f"https://{MANAGEMENT_HOST}"
BLOB_ENDPOINT_SUFFIX = "ml.invalid"  # datastores say endpoint=ml.invalid: account URL <ws>.blob.ml.invalid
DEFAULT_DATASTORE = "workspaceblobstore"
ARTIFACT_DATASTORE = "workspaceartifactstore"  # run artifacts: ExperimentRun/dcid.<run>/


def workspace_id(workspace: str) -> str:
    return (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/{PROVIDER}"
            f"/workspaces/{workspace}")


def resource_type(kind: str) -> str:
    """ARM type of a collection below the workspace: 'models/versions' -> '.../workspaces/models/versions'."""
    return f"{PROVIDER}/workspaces/{kind}"


def datastore_uri(workspace: str, datastore: str, path: str) -> str:
    """The long azureml:// datastore URI Azure stores for an asset's path."""
    return (f"azureml://subscriptions/{SUBSCRIPTION}/resourcegroups/{RESOURCE_GROUP}/workspaces/{workspace}"
            f"/datastores/{datastore}/paths/{path}")


def expand_short_uri(workspace: str, uri: str) -> str:
    """azureml://datastores/<ds>/paths/<p> -> the long form; other URIs unchanged."""
    prefix = "azureml://datastores/"
    if isinstance(uri, str) and uri.startswith(prefix) and "/paths/" in uri:
        datastore, path = uri[len(prefix):].split("/paths/", 1)
        return datastore_uri(workspace, datastore, path)
    return uri


def operation_status_url(op_id: str) -> str:
    return (f"{MANAGEMENT_URL}/subscriptions/{SUBSCRIPTION}/providers/{PROVIDER}/locations/{LOCATION}"
            f"/mfeOperationsStatus/{op_id}?api-version={API_VERSION}")


def operation_result_url(op_id: str) -> str:
    return (f"{MANAGEMENT_URL}/subscriptions/{SUBSCRIPTION}/providers/{PROVIDER}/locations/{LOCATION}"
            f"/mfeOperationResults/{op_id}?api-version={API_VERSION}")


def blob_url(workspace: str, container: str, path: str = "") -> str:
    """Path-style blob URL: https://blob.ml.invalid/<account=workspace>/<container>/<path>."""
    base = f"https://{BLOB_HOST}/{workspace}/{container}"
    return f"{base}/{path}" if path else base
