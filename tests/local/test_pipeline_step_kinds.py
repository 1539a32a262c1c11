"""Pipeline steps of other kinds than command, with real runners and processes: parallel steps (inline
and from a parallel component file) whose appended rows a downstream step reads, and sweep steps whose
best trial's outputs a downstream step reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.errors import ResourceNotFoundError
from cli.local.runner.children import REUSED_FROM_KEY, REUSED_KEY
from cli.local.runner.parallel import PARALLEL_KEY
from cli.operations import job as job_ops
from cli.spec.loader import load_spec
from runner_support import LocalJobs
from shared_data import shared_path

EXAMPLES = Path(__file__).parents[2] / "specs" / "examples"
SPECS = Path(__file__).parent / "pipeline_specs"


@pytest.fixture
def jobs(tmp_path):
    local = LocalJobs(tmp_path / "home")
    yield local
    local.close()


def create(jobs: LocalJobs, file: Path, name: str, *overrides: str) -> dict:
    spec = load_spec(file, group="job", overrides=overrides)
    created = job_ops.create(jobs.client, spec.data, name=name, source=spec)
    jobs.jobs += [name] + [f"{name}_{step}" for step in spec.data["jobs"]]
    return created


def steps(jobs: LocalJobs, name: str) -> dict:
    return job_ops.show(jobs.client, name)["steps"]


def blob(jobs: LocalJobs, uri: str) -> Path:
    prefix = "azureml://datastores/workspaceblobstore/paths/"
    assert uri.startswith(prefix), uri
    return jobs.service.blobs.root / "workspaceblobstore" / uri[len(prefix):]


def test_parallel_steps_feed_a_downstream_step_and_are_reused(jobs):
    create(jobs, EXAMPLES / "parallel-pipeline" / "pipeline.yml", "words-1")
    done = jobs.wait("words-1", timeout=180)
    assert done["properties"]["status"] == "Completed", jobs.log("words-1")
    for step in ("count_words", "longest_line"):
        child = jobs.get(f"words-1_{step}")["properties"]
        assert child["properties"][PARALLEL_KEY] == "true" and child["properties"]["azureml.parentrunid"] == "words-1"
        log = jobs.log(f"words-1_{step}")
        assert "7 items in 4 mini-batches (mini_batch_size 2); 2 workers" in log, log
        assert "7 of 7 items processed, 0 failed" in log
    downstream = jobs.get("words-1_summarize")["properties"]["inputs"]
    assert downstream["counts"]["uri"] == "azureml://jobs/words-1_count_words/outputs/counts"  # by reference
    summary = json.loads((blob(jobs, done["properties"]["outputs"]["summary"]["uri"]) / "summary.json").read_text())
    assert summary["files"] == 7
    # count_words's own setting (min_length 2 from the step, over the component's default 1) reached init()
    assert summary["per_file"]["01-fox.txt"] == {"words": 9, "longest_line": 23}
    assert summary["per_file"]["02-parallel.txt"]["words"] == 7  # "a" is shorter than 2

    create(jobs, EXAMPLES / "parallel-pipeline" / "pipeline.yml", "words-2")
    assert jobs.wait("words-2", timeout=60)["properties"]["status"] == "Completed"
    assert {s: e.get("reused_from") for s, e in steps(jobs, "words-2").items()} == {
        "count_words": "words-1_count_words", "longest_line": "words-1_longest_line", "summarize": "words-1_summarize"}

    create(jobs, EXAMPLES / "parallel-pipeline" / "pipeline.yml", "words-3", "jobs.count_words.inputs.min_length=4")
    assert jobs.wait("words-3", timeout=120)["properties"]["status"] == "Completed"
    again = steps(jobs, "words-3")
    assert "reused_from" not in again["count_words"] and "reused_from" not in again["summarize"]
    assert again["longest_line"]["reused_from"] == "words-1_longest_line"


def test_a_failing_parallel_step_fails_the_pipeline(jobs):
    create(jobs, EXAMPLES / "parallel-pipeline" / "pipeline.yml", "words-bad",
           "jobs.longest_line.task.entry_script=missing.py", "settings.continue_on_step_failure=true")
    done = jobs.wait("words-bad", timeout=180)
    assert done["properties"]["status"] == "Failed"
    assert "step longest_line failed" in done["properties"]["properties"]["FailureReason"]
    shown = steps(jobs, "words-bad")
    assert shown["count_words"]["status"] == "Completed" and shown["longest_line"]["status"] == "Failed"
    assert shown["summarize"] == {"status": "NotStarted"}


def test_a_sweep_step_runs_its_trials_and_gives_the_best_trials_outputs_downstream(jobs):
    create(jobs, SPECS / "sweep_step" / "pipeline.yml", "tune-1")
    jobs.jobs += [f"tune-1_tune_{i}" for i in range(4)]
    done = jobs.wait("tune-1", timeout=240)
    assert done["properties"]["status"] == "Completed", jobs.log("tune-1") + jobs.log("tune-1_tune")
    sweep = jobs.get("tune-1_tune")["properties"]
    assert sweep["jobType"] == "Sweep" and sweep["properties"]["azureml.parentrunid"] == "tune-1"
    trials = job_ops.list_jobs(jobs.client, parent="tune-1_tune", max_results=10)[0]
    assert sorted(t["name"] for t in trials) == [f"tune-1_tune_{i}" for i in range(4)]
    # the search space's values reached the trials as the component's inputs; grid over 4 slopes
    slopes = sorted(json.loads(jobs.get(t["name"])["properties"]["properties"]["hyperparameters"])["slope"]
                    for t in trials)
    assert slopes == [0.5, 1.0, 2.0, 3.0]
    best = sweep["properties"]["best_child_run_id"]
    assert json.loads(sweep["properties"]["best_hyperparameters"]) == {"slope": 2.0}
    assert sweep["outputs"]["model"]["uri"] == f"azureml://datastores/workspaceblobstore/paths/azureml/{best}/model/"
    use = jobs.get("tune-1_use")["properties"]
    assert use["inputs"]["model"]["uri"] == "azureml://jobs/tune-1_tune/outputs/model"
    used = json.loads((blob(jobs, use["outputs"]["out"].get("uri") or "azureml://datastores/workspaceblobstore/paths/"
                            "azureml/tune-1_use/out/") / "used.json").read_text())
    assert used == {"slope": 2.0, "offset": 0.0, "loss": 0.0, "trial": best}  # the pipeline input reached it too
    # the step's output named best_slope_model: a data asset of the best trial's model, registered once
    versions = jobs.client.get("data/best_slope_model/versions")["value"]
    assert len(versions) == 1  # the long form of the output's URI, as Azure stores it
    assert versions[0]["properties"]["dataUri"].endswith(f"/datastores/workspaceblobstore/paths/azureml/{best}/model/")

    # the same pipeline again: the sweep step is reused (no trial runs), and so is the step after it
    create(jobs, SPECS / "sweep_step" / "pipeline.yml", "tune-2")
    assert jobs.wait("tune-2", timeout=120)["properties"]["status"] == "Completed", jobs.log("tune-2")
    again = jobs.get("tune-2_tune")["properties"]
    assert again["properties"][REUSED_KEY] == "true" and again["properties"][REUSED_FROM_KEY] == "tune-1_tune"
    assert again["outputs"]["model"]["uri"] == sweep["outputs"]["model"]["uri"]  # the best trial's
    assert job_ops.list_jobs(jobs.client, parent="tune-2_tune", max_results=10)[0] == []
    assert jobs.get("tune-2_use")["properties"]["properties"][REUSED_FROM_KEY] == "tune-1_use"
    assert len(jobs.client.get("data/best_slope_model/versions")["value"]) == 1  # registered by the first only


def public_copy(tmp_path: Path, example: str, scripts: dict[str, str]) -> Path:
    """A copy of a public pipeline example whose (empty) scripts become stand_in_script.py, each told
    which of its options are output folders."""
    import shutil

    source = shared_path("conformance", "azureml-examples", "cli", "jobs", "pipelines-with-components", example)
    copy = tmp_path / "example"
    shutil.copytree(source, copy)
    stand_in = (SPECS / "stand_in_script.py").read_text()
    for script, outputs in scripts.items():
        (copy / script).write_text(f"import os\nos.environ['OUTPUTS'] = {outputs!r}\n" + stand_in)
    return copy / "pipeline.yml"


def test_public_nested_pipeline_components_run_with_bindings_across_levels(jobs, tmp_path):
    pipeline = public_copy(tmp_path, "pipeline_with_pipeline_component/pipeline_with_train_eval_pipeline_component", {
        "components/train/train.py": "model_output", "components/score/score.py": "score_output",
        "components/eval/eval.py": "eval_output", "components/compare2/compare2.py": "best_model,best_result"})
    jobs.client.put("computes/cpu-cluster", {"location": "local", "properties": {
        "computeType": "AmlCompute", "properties": {"scaleSettings": {"maxNodeCount": 2, "minNodeCount": 0}}}})
    create(jobs, pipeline, "nest-1")
    inner = [f"nest-1_train_and_evaluate_model{m}_{s}" for m in (1, 2) for s in ("train_job", "score_job", "evaluate_job")]
    jobs.jobs += inner
    done = jobs.wait("nest-1", timeout=240)
    assert done["properties"]["status"] == "Completed", jobs.log("nest-1")
    for model, rate in ((1, "0.1"), (2, "0.01")):
        nested = f"nest-1_train_and_evaluate_model{model}"
        assert jobs.get(nested)["properties"]["jobType"] == "Pipeline"
        assert list(steps(jobs, nested)) == ["train_job", "score_job", "evaluate_job"]
        train = jobs.get(f"{nested}_train_job")["properties"]
        # pipeline input -> nested pipeline input -> step input, and a compute promoted to an input
        assert train["inputs"]["learning_rate"]["value"] == rate and train["inputs"]["max_epochs"]["value"] == "20"
        assert train["computeId"].endswith("/computes/cpu-cluster")
        # the nested pipeline's outputs are where its inner steps wrote them (the train step's model,
        # evaluate's report), on the settings.default_datastore the example names
        outputs = jobs.get(nested)["properties"]["outputs"]
        evaluate = jobs.get(f"{nested}_evaluate_job")["properties"]
        assert outputs["trained_model"]["uri"] == train["outputs"]["model_output"]["uri"]
        assert outputs["evaluation_report"]["uri"] == evaluate["outputs"]["eval_output"]["uri"]
        assert (blob(jobs, outputs["trained_model"]["uri"]) / "model_output.json").is_file()
        assert (blob(jobs, outputs["evaluation_report"]["uri"]) / "eval_output.json").is_file()
    compare = jobs.get("nest-1_compare")["properties"]
    assert compare["inputs"]["model2"]["uri"] == "azureml://jobs/nest-1_train_and_evaluate_model2/outputs/trained_model"
    best = blob(jobs, done["properties"]["outputs"]["pipeline_job_best_model"]["uri"]) / "best_model.json"
    assert json.loads(best.read_text()) == {"--eval_result1": ["eval_output.json"], "--eval_result2": ["eval_output.json"],
                                            "--model1": ["model_output.json"], "--model2": ["model_output.json"]}


def test_outputs_without_a_place_go_to_settings_default_datastore(jobs):
    jobs.client.put("datastores/pipeline_outputs", {"properties": {
        "datastoreType": "AzureBlob", "accountName": "localaccount", "containerName": "outputs",
        "credentials": {"credentialsType": "None"}}})
    create(jobs, EXAMPLES / "pipeline" / "pipeline.yml", "stored-1", "settings.default_datastore=azureml:pipeline_outputs",
           "settings.force_rerun=true")
    done = jobs.wait("stored-1", timeout=120)
    assert done["properties"]["status"] == "Completed", jobs.log("stored-1")
    prep = jobs.get("stored-1_prep")["properties"]["outputs"]["dataset"]["uri"]
    assert prep == "azureml://datastores/pipeline_outputs/paths/azureml/stored-1_prep/dataset/"
    report = done["properties"]["outputs"]["report"]["uri"]
    assert report == "azureml://datastores/pipeline_outputs/paths/azureml/stored-1_evaluate/report/"
    written = jobs.service.blobs.root / "pipeline_outputs" / "azureml" / "stored-1_evaluate" / "report" / "report.json"
    assert json.loads(written.read_text())["rows"] == 200


def test_canceling_a_pipeline_cancels_its_sweep_step_and_the_trials_running(jobs, tmp_path):
    import shutil
    import time

    slow = tmp_path / "slow_sweep"
    shutil.copytree(SPECS / "sweep_step", slow)
    script = slow / "src" / "fit.py"
    script.write_text(script.read_text().replace("args = parser.parse_args()\n",
                                                 "args = parser.parse_args()\nimport time\ntime.sleep(120)\n"))
    create(jobs, slow / "pipeline.yml", "halt-1")
    jobs.jobs += ["halt-1_tune_0", "halt-1_tune_1"]
    def trial_statuses() -> list:
        try:
            return [t["status"] for t in job_ops.list_jobs(jobs.client, parent="halt-1_tune", max_results=10)[0]]
        except ResourceNotFoundError:  # the sweep step has not started yet
            return []

    deadline = time.monotonic() + 120
    while trial_statuses() != ["Running"] * 2:
        assert time.monotonic() < deadline, jobs.log("halt-1")
        time.sleep(0.2)
    started = time.monotonic()
    jobs.client.post("jobs/halt-1/cancel", None)
    assert jobs.wait("halt-1", timeout=15)["properties"]["status"] == "Canceled"
    for name in ("halt-1_tune", "halt-1_tune_0", "halt-1_tune_1"):
        assert jobs.wait(name, timeout=15)["properties"]["status"] == "Canceled"
    assert time.monotonic() - started < 10
    assert steps(jobs, "halt-1")["use"] == {"status": "NotStarted"}
