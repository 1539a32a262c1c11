"""MLflow with azureml-mlflow at the workspace's `azureml://` tracking URI, as Azure's docs show it:
the URI from `MLClient.workspaces.get(...).mlflow_tracking_uri`, tokens from the SDK's credential (no
MLFLOW_TRACKING_TOKEN). Run by the SDK's interpreter; prints one JSON line."""

import json
import os
import sys
import tempfile

import mlflow
from azure.ai.ml import MLClient
from azure.identity import DefaultAzureCredential

client = MLClient(DefaultAzureCredential(), os.environ["ML_SUBSCRIPTION"], os.environ["ML_RESOURCE_GROUP"],
                  os.environ["ML_WORKSPACE"])
uri = client.workspaces.get(os.environ["ML_WORKSPACE"]).mlflow_tracking_uri
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("azureml-uri")
artifact = os.path.join(tempfile.mkdtemp(), "notes.txt")
with open(artifact, "w") as out:
    out.write("logged through the azureml:// URI\n")
with mlflow.start_run(run_name="plugin-run") as run:
    mlflow.log_param("alpha", 0.5)
    mlflow.log_metric("loss", 0.25, step=1)
    mlflow.log_artifact(artifact)
got = mlflow.get_run(run.info.run_id)
downloaded = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="notes.txt",
                                                 dst_path=tempfile.mkdtemp())
job = client.jobs.get(run.info.run_id)
print()
json.dump({"uri": uri, "tracking_uri": mlflow.get_tracking_uri(), "params": got.data.params,
           "metrics": got.data.metrics, "artifact_uri": got.info.artifact_uri,
           "artifacts": [f.path for f in mlflow.MlflowClient().list_artifacts(run.info.run_id)],
           "downloaded": open(downloaded).read(), "run_id": run.info.run_id,
           "job": {"name": job.name, "status": job.status, "experiment": job.experiment_name,
                   "display_name": job.display_name, "type": job.type},
           "listed": run.info.run_id in [j.name for j in client.jobs.list()]}, sys.stdout)
print()
