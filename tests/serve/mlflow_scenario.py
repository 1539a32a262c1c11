"""Plain mlflow against the served workspace's tracking URI (MLFLOW_TRACKING_URI/TOKEN from --print-env)."""

import json
import os
import sys
import tempfile

import mlflow

mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
mlflow.set_experiment("outside")
artifact = os.path.join(tempfile.mkdtemp(), "notes.txt")
with open(artifact, "w") as out:
    out.write("logged from outside a job\n")
with mlflow.start_run(run_name="notebook-run", tags={"team": "vision"}) as run:
    mlflow.log_param("alpha", 0.5)
    mlflow.log_metric("loss", 0.25, step=1)
    mlflow.log_artifact(artifact)
    with mlflow.start_run(run_name="inner", nested=True) as nested:
        mlflow.log_metric("inner_loss", 0.5)
got = mlflow.get_run(run.info.run_id)
downloaded = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="notes.txt",
                                                 dst_path=tempfile.mkdtemp())
open_run = mlflow.MlflowClient().create_run(mlflow.get_experiment_by_name("Default").experiment_id).info.run_id
print()
json.dump({"params": got.data.params, "metrics": got.data.metrics, "artifact_uri": got.info.artifact_uri,
           "artifacts": [f.path for f in mlflow.MlflowClient().list_artifacts(run.info.run_id)],
           "downloaded": open(downloaded).read(), "run_id": run.info.run_id, "nested_id": nested.info.run_id,
           "open_run_id": open_run}, sys.stdout)
print()
