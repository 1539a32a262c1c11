"""Fixed stand-ins for what the service would assign: the workspace, uploads, code versions, @latest.

Shared by the SDK body generator (sdk_bodies.py) and the tests, so both resolve the specs alike.
"""

from pathlib import Path

SPECS = Path(__file__).parent / "specs"
SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
RESOURCE_GROUP = "test-rg"
WORKSPACE = "my-ws"
WORKSPACE_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
    f"/providers/Microsoft.MachineLearningServices/workspaces/{WORKSPACE}"
)
CODE_ID = f"{WORKSPACE_ID}/codes/00000000-aaaa-bbbb-cccc-000000000001/versions/1"
CODE_URI = "https://account.blob.core.windows.net/azureml-blobstore-x/LocalUpload/0000hash/src"
CODE_HASH = "02c6ec93367669e40d03d9f7b57df2d2444b4fa1a7346f5393fee495ae6a1358"
LATEST = {("environments", "train-env"): "7"}

# Local path (relative to SPECS) -> what the upload yields, in the form the SDK puts in bodies.
UPLOADS = {
    "data/sample.csv": "azureml://datastores/workspaceblobstore/paths/LocalUpload/0000hash/sample.csv",
    "data/folder": "azureml://datastores/workspaceblobstore/paths/LocalUpload/0001hash/folder",
    "mltable": "azureml://datastores/workspaceblobstore/paths/LocalUpload/0002hash/mltable",
    "model/model.pkl": "azureml://datastores/workspaceblobstore/paths/LocalUpload/0003hash/model.pkl",
    "mlflow-model": "azureml://datastores/workspaceblobstore/paths/LocalUpload/0004hash/mlflow-model",
    "docker": "https://account.blob.core.windows.net/azureml-blobstore-x/LocalUpload/0005hash/docker/",
    "src": CODE_ID,  # code folders become code versions
}


def uploads_by_absolute_path() -> dict:
    """UPLOADS keyed the way spec data holds local paths: absolute."""
    return {str(SPECS / rel): uri for rel, uri in UPLOADS.items()}
