"""Pipeline component batch deployments on the local workspace, through the real CLI and the public
examples (azureml-examples cli/endpoints/batch/deploy-pipelines, copied with small real scripts in place
of their empty placeholders): invoke starts a pipeline job running the deployment's component, its
steps child jobs, visible in `ml job list`, `list-jobs`, `ml job stream/show`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_ml
from tests.shared_data import shared_path

EXAMPLES = ("conformance", "azureml-examples", "cli", "endpoints", "batch", "deploy-pipelines")


def ml(*args, cwd, ok=True, timeout=180):
    done = run_ml(*args, cwd=cwd, timeout=timeout)
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture
def sklearn_env(job_environments):
    from tests.conftest import prebuild_environment

    prebuild_environment(job_environments, "sklearn-1.5")


def example(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(shared_path(*EXAMPLES, name), folder)
    return folder


def test_hello_batch_runs_as_a_pipeline_job_through_the_example_commands(tmp_path, sklearn_env):
    folder = example(tmp_path, "hello-batch")
    (folder / "hello-component" / "src" / "hello.py").write_text(
        "import os\nprint('hello from the batch pipeline', os.environ.get('AZUREML_RUN_ID'))\n")
    ml("batch-endpoint", "create", "-f", "endpoint.yml", "-o", "none", cwd=folder)
    ml("component", "create", "-f", "hello-component/hello.yml", "-o", "none", cwd=folder)
    no_compute = ml("batch-deployment", "create", "-f", "deployment.yml", "--endpoint-name", "hello-batch",
                    "--set-default", cwd=folder, ok=False)
    assert no_compute.returncode != 0 and "batch-cluster" in no_compute.stderr
    ml("compute", "create", "-n", "batch-cluster", "--type", "amlcompute", "-o", "none", cwd=folder)
    ml("batch-deployment", "create", "-f", "deployment.yml", "--endpoint-name", "hello-batch", "--set-default",
       "-o", "none", cwd=folder)

    job = ml("batch-endpoint", "invoke", "-n", "hello-batch", "--query", "name", "-o", "tsv", cwd=folder).stdout.strip()
    assert job.startswith("batchjob-")
    streamed = ml("job", "stream", "-n", job, cwd=folder)
    assert f"hello from the batch pipeline {job}_main_job" in streamed.stdout
    shown = json.loads(ml("job", "show", "-n", job, cwd=folder).stdout)
    assert shown["type"] == "pipeline" and shown["status"] == "Completed"
    assert shown["experiment_name"] == "hello-batch" and list(shown["jobs"]) == ["main_job"]
    assert shown["properties"]["azureml.batchDeployment"] == "hello-batch-dpl"
    assert shown["settings"]["default_compute"].endswith("/computes/batch-cluster")
    steps = ml("job", "list", "--parent-job-name", job, "--query", "[].[name,compute,status]", "-o", "tsv",
               cwd=folder).stdout.split()
    assert steps == [f"{job}_main_job", "azureml:batch-cluster", "Completed"]
    assert ml("job", "list", "--query", "[].name", "-o", "tsv", cwd=folder).stdout.split() == [job]
    assert ml("batch-endpoint", "list-jobs", "-n", "hello-batch", "--query", "[].name", "-o", "tsv",
              cwd=folder).stdout.split() == [job]

    # the component has no inputs: a named one is refused by the workspace, naming what it has
    refused = ml("batch-endpoint", "invoke", "-n", "hello-batch", "--set", "inputs.x=1", cwd=folder, ok=False)
    assert refused.returncode != 0 and "has no input x" in refused.stderr


PREPARE = '''import argparse, os, pickle
import pandas as pd

parser = argparse.ArgumentParser()
for name in ("--data_path", "--transformations_path", "--categorical_encoding", "--prepared_data_path",
             "--transformations_output_path"):
    parser.add_argument(name)
args = parser.parse_args()
frame = pd.concat([pd.read_csv(os.path.join(args.data_path, f)) for f in sorted(os.listdir(args.data_path))])
means = {}  # learnt when none are given (the training pipeline): nothing to shift, the rule reads raw ages
if args.transformations_path:
    with open(os.path.join(args.transformations_path, "column_transformer.pkl"), "rb") as f:
        means = pickle.load(f)
for column, mean in means.items():
    frame[column] = frame[column] - mean
os.makedirs(args.prepared_data_path, exist_ok=True)
frame.to_csv(os.path.join(args.prepared_data_path, "prepared.csv"), index=False)
os.makedirs(args.transformations_output_path, exist_ok=True)
with open(os.path.join(args.transformations_output_path, "column_transformer.pkl"), "wb") as f:
    pickle.dump(means, f)
print("prepared", len(frame), "rows with", args.categorical_encoding)
'''
SCORE = '''import argparse, os, pickle
import pandas as pd

parser = argparse.ArgumentParser()
for name in ("--model_path", "--data_path", "--score_mode", "--scores_path"):
    parser.add_argument(name)
args = parser.parse_args()
with open(os.path.join(args.model_path, "model.pkl"), "rb") as f:
    rule = pickle.load(f)
frame = pd.read_csv(os.path.join(args.data_path, "prepared.csv"))
frame["prediction"] = (frame[rule["feature"]] > rule["threshold"]).astype(int)
os.makedirs(args.scores_path, exist_ok=True)
columns = list(frame.columns) if args.score_mode == "append" else ["prediction"]
frame[columns].to_csv(os.path.join(args.scores_path, "scores.csv"), index=False)
print("scored", len(frame), "rows in mode", args.score_mode)
'''
# the example's environment pins Python 3.8 and xgboost 1.3.3 (hours of building, and the scripts here need
# only pandas): the copy's conda file is replaced by a small one; the environment YAML is the example's
SMALL_CONDA = "channels:\n- conda-forge\ndependencies:\n- python=3.10\n- pip\n- pip:\n  - pandas\nname: heart-env\n"


def heart_example(tmp_path: Path, name: str) -> Path:
    """A writable copy of a heart-classifier example: the small conda file, the stand-in prepare script."""
    folder = example(tmp_path, name)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (folder / "environment" / "conda.yml").write_text(SMALL_CONDA)
    (folder / "components" / "prepare" / "src" / "prepare.py").write_text(PREPARE)
    return folder


def test_batch_scoring_with_preprocessing_binds_the_inputs_file_by_name(tmp_path):
    import pickle

    folder = heart_example(tmp_path, "batch-scoring-with-preprocessing")
    (folder / "components" / "score" / "src" / "score.py").write_text(SCORE)
    (folder / "data" / "unlabeled" / "heart.csv").write_text("age,chol\n60,200\n40,300\n55,250\n")
    (folder / "transformations" / "column_transformer.pkl").write_bytes(pickle.dumps({"age": 50}))
    (folder / "model" / "model.pkl").write_bytes(pickle.dumps({"feature": "age", "threshold": 0}))

    # the example's deploy-and-run.sh, command by command
    ml("batch-endpoint", "create", "-n", "uci-classifier-batch", "-f", "endpoint.yml", "-o", "none", cwd=folder)
    ml("environment", "create", "-f", "environment/xgboost-sklearn-py38.yml", "-o", "none", cwd=folder)
    ml("model", "create", "--name", "heart-classifier", "--type", "mlflow_model", "--path", "model", "-o", "none",
       cwd=folder)
    ml("model", "create", "--name", "heart-classifier-transforms", "--type", "custom_model", "--path",
       "transformations", "-o", "none", cwd=folder)
    ml("component", "create", "-f", "components/prepare/prepare.yml", "-o", "none", cwd=folder)
    ml("compute", "create", "-n", "batch-cluster", "--type", "amlcompute", "-o", "none", cwd=folder)
    deployed = json.loads(ml("batch-deployment", "create", "--endpoint", "uci-classifier-batch", "-f",
                             "deployment.yml", "--set-default", cwd=folder).stdout)
    assert deployed["component"].startswith("azureml:azureml_anonymous:")  # pipeline.yml, created as the SDK does
    assert deployed["settings"] == {"continue_on_step_failure": "False", "default_compute": "batch-cluster"}

    job = ml("batch-endpoint", "invoke", "-n", "uci-classifier-batch", "--f", "inputs.yml", "--query", "name",
             "-o", "tsv", cwd=folder).stdout.strip()
    streamed = ml("job", "stream", "-n", job, cwd=folder, timeout=600)
    assert "prepared 3 rows with ordinal" in streamed.stdout and "scored 3 rows in mode append" in streamed.stdout
    shown = json.loads(ml("job", "show", "-n", job, cwd=folder).stdout)
    assert shown["status"] == "Completed" and sorted(shown["jobs"]) == ["preprocess_job", "score_job"]
    assert shown["inputs"]["score_mode"] == "append"  # inputs.yml's literal, bound by name
    assert shown["inputs"]["input_data"]["path"].endswith("/unlabeled/")  # data/unlabeled beside inputs.yml, uploaded
    children = ml("job", "list", "--parent-job-name", job, "--query", "[].display_name", "-o", "tsv", cwd=folder)
    assert sorted(children.stdout.split()) == ["preprocess_job", "score_job"]
    ml("job", "download", "-n", job, "--output-name", "scores", "--download-path", "out", cwd=folder)
    assert (folder / "out/named-outputs/scores/scores.csv").read_text().splitlines() == [
        "age,chol,prediction", "10,200,1", "-10,300,0", "5,250,1"]

    # --set overrides a named input, from another folder (paths relative to the inputs file)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    job = ml("batch-endpoint", "invoke", "-n", "uci-classifier-batch", "-f", str(folder / "inputs.yml"),
             "--set", "inputs.score_mode.default=labels", "--query", "name", "-o", "tsv", cwd=elsewhere).stdout.strip()
    assert "scored 3 rows in mode labels" in ml("job", "stream", "-n", job, cwd=elsewhere, timeout=600).stdout
    assert ml("batch-endpoint", "list-jobs", "-n", "uci-classifier-batch", "--query", "length(@)", "-o", "tsv",
              cwd=folder).stdout.strip() == "2"

    missing = ml("batch-endpoint", "invoke", "-n", "uci-classifier-batch", cwd=folder, ok=False)
    assert missing.returncode != 0 and "input 'input_data' is required" in missing.stderr


TRAIN = '''import argparse, json, os, pickle
import pandas as pd

parser = argparse.ArgumentParser()
for name in ("--data_path", "--target_column", "--eval_size", "--register_best_model", "--registered_model_name",
             "--model", "--evaluation_results"):
    parser.add_argument(name)
args = parser.parse_args()
frame = pd.read_csv(os.path.join(args.data_path, "prepared.csv"))
split = int(len(frame) * (1 - float(args.eval_size)))
train, evaluation = frame.iloc[:split], frame.iloc[split:]
# the age threshold that best separates the training rows' target
best = max(sorted(train["age"]), key=lambda t: ((train["age"] > t).astype(int) == train[args.target_column]).mean())
accuracy = float(((evaluation["age"] > best).astype(int) == evaluation[args.target_column]).mean())
os.makedirs(args.model, exist_ok=True)
with open(os.path.join(args.model, "model.pkl"), "wb") as f:
    pickle.dump({"feature": "age", "threshold": int(best)}, f)
os.makedirs(args.evaluation_results, exist_ok=True)
with open(os.path.join(args.evaluation_results, "evaluation.json"), "w") as f:
    json.dump({"threshold": int(best), "accuracy": accuracy, "register": args.register_best_model}, f)
print("trained threshold", best, "register", args.register_best_model)
'''


def test_training_with_components_two_deployments_train_by_name(tmp_path):
    import pickle

    folder = heart_example(tmp_path, "training-with-components")
    (folder / "components" / "train_xgb" / "src" / "train_xgb.py").write_text(TRAIN)
    rows = ["age,chol,target"] + [f"{age},{200 + age},{int(age > 55)}" for age in range(30, 80, 3)]
    (folder / "data" / "train" / "heart.csv").write_text("\n".join(rows) + "\n")

    ml("batch-endpoint", "create", "-f", "endpoint.yml", "-o", "none", cwd=folder)
    ml("data", "create", "--name", "heart-classifier-train", "--type", "uri_folder", "--path", "data/train",
       "-o", "none", cwd=folder)
    ml("environment", "create", "-f", "environment/xgboost-sklearn-py38.yml", "-o", "none", cwd=folder)
    ml("compute", "create", "-n", "batch-cluster", "--type", "amlcompute", "-o", "none", cwd=folder)
    # pipeline.yml is named uci-heart-train-pipeline (hyphens): created anonymously, as the SDK does, so it may be
    ml("batch-deployment", "create", "--endpoint", "uci-classifier-train", "-f", "deployment-ordinal/deployment.yml",
       "--set-default", "-o", "none", cwd=folder)
    ml("batch-deployment", "create", "--endpoint", "uci-classifier-train", "-f", "deployment-onehot/deployment.yml",
       "-o", "none", cwd=folder)

    ordinal = ml("batch-endpoint", "invoke", "-n", "uci-classifier-train", "--f", "inputs.yml", "--query", "name",
                 "-o", "tsv", cwd=folder).stdout.strip()
    onehot = ml("batch-endpoint", "invoke", "-n", "uci-classifier-train", "-d", "uci-classifier-train-onehot",
                "--f", "inputs.yml", "--query", "name", "-o", "tsv", cwd=folder).stdout.strip()
    assert "prepared 17 rows with ordinal" in ml("job", "stream", "-n", ordinal, cwd=folder, timeout=600).stdout
    assert "prepared 17 rows with onehot" in ml("job", "stream", "-n", onehot, cwd=folder, timeout=600).stdout
    for job, register in ((ordinal, "False"), (onehot, "True")):  # the onehot pipeline leaves the default (true)
        shown = json.loads(ml("job", "show", "-n", job, cwd=folder).stdout)
        assert shown["status"] == "Completed"
        assert shown["inputs"]["input_data"]["path"].endswith("/data/heart-classifier-train/versions/1")
        ml("job", "download", "-n", job, "--all", "--download-path", f"out-{job}", cwd=folder)
        outputs = folder / f"out-{job}" / "named-outputs"
        evaluation = json.loads((outputs / "evaluation_results" / "evaluation.json").read_text())
        assert evaluation["register"] == register and 52 <= evaluation["threshold"] < 55
        assert pickle.loads((outputs / "model" / "model.pkl").read_bytes())["threshold"] == evaluation["threshold"]
        assert (outputs / "prepare_transformations" / "column_transformer.pkl").is_file()
    listed = ml("batch-endpoint", "list-jobs", "-n", "uci-classifier-train", "--query", "[].name", "-o", "tsv",
                cwd=folder).stdout.split()
    assert sorted(listed) == sorted([ordinal, onehot])


@pytest.mark.parametrize("invoke, message", [
    ({"inputData": ["x"]}, "'properties.inputData' must be an object of inputs by name."),
    ({"inputData": {"nope": {}}}, "The pipeline component has no input nope; its inputs: data."),
    ({"outputData": ["out"]}, "'properties.outputData' must be an object of outputs by name."),
    ({"outputData": {"nope": {}}}, "The pipeline component has no output nope; its outputs: out."),
    ({"outputData": {"out": "azureml://datastores/workspaceblobstore/paths/x"}},
     "Output 'out' must be an object (jobOutputType, uri, mode)."),
])
def test_an_invokes_inputs_and_outputs_of_the_wrong_shape_are_a_400(invoke, message):
    from cli.local import batch_pipeline
    from cli.local.http import ApiError

    inputs, outputs = {"data": {"type": "uri_folder", "optional": True}}, {"out": {"type": "uri_folder"}}
    with pytest.raises(ApiError) as refused:
        batch_pipeline._inputs(invoke, inputs)
        batch_pipeline._outputs(invoke, outputs)
    assert (refused.value.status, refused.value.message) == (400, message)
