"""`ml job` verbs that need no runner: create's naming and output, show, list, archive, restore, update,
and the errors for an unknown job and an unknown compute. Real CLI processes on a temporary ML_HOME."""

from __future__ import annotations

import json
import re

from tests.commands.job_helpers import create, job_file
from tests.conftest import REPO, run_ml

NAME = re.compile(r"^[a-z]+_[a-z]+_[bcdfghjklmnpqrstvwxyz0-9]{10}$")


def test_query_name_tsv_prints_only_a_generated_name(tmp_path):
    spec = job_file(tmp_path, "echo hi")
    result = run_ml("job", "create", "-f", str(spec), "--query", "name", "-o", "tsv")
    assert result.returncode == 0, result.stderr
    assert NAME.match(result.stdout.strip()), result.stdout
    assert result.stdout.count("\n") == 1


def test_create_defaults_follow_the_sdk(tmp_path):
    spec = job_file(tmp_path, "echo hi")
    work = tmp_path / "my project"
    work.mkdir()
    result = run_ml("job", "create", "-f", str(spec), "-n", "given-name", "-o", "json", cwd=work)
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout)
    assert job["name"] == job["display_name"] == "given-name"
    assert job["experiment_name"] == "myproject"  # the working folder's name, spaces removed
    assert job["environment"] == "azureml:AzureML-sklearn-1.5@latest"
    assert job["code"].startswith("azureml:/subscriptions/") and "/codes/" in job["code"]
    assert job["status"] in ("NotStarted", "Queued", "Starting", "Running", "Finalizing", "Completed")


def test_save_as_and_set(tmp_path):
    spec = job_file(tmp_path, "echo ${{inputs.word}}", inputs={"word": "a"})
    saved = tmp_path / "created.yml"
    result = run_ml("job", "create", "-f", str(spec), "--set", "inputs.word=b", "-a", str(saved), "-o", "none")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "word: b" in saved.read_text()


def test_invalid_spec_is_refused_unless_skip_validation(tmp_path):
    spec = job_file(tmp_path, "echo hi", comand="typo")
    refused = run_ml("job", "create", "-f", str(spec))
    assert refused.returncode == 4
    assert "comand" in refused.stderr
    assert run_ml("job", "list").stdout.strip() == "[]"
    sent = run_ml("job", "create", "-f", str(spec), "--skip-validation", "--query", "name", "-o", "tsv")
    assert sent.returncode == 0, sent.stderr
    assert "comand" in sent.stderr  # still reported
    assert NAME.match(sent.stdout.strip())


def test_local_input_folder_is_uploaded_to_the_default_datastore(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.csv").write_text("a\n1\n")
    spec = job_file(tmp_path, "ls ${{inputs.d}}", inputs={"d": {"type": "uri_folder", "path": "data"}})
    result = run_ml("job", "create", "-f", str(spec))
    assert result.returncode == 0, result.stderr
    path = json.loads(result.stdout)["inputs"]["d"]["path"]
    assert re.match(r"^azureml://datastores/workspaceblobstore/paths/LocalUpload/[0-9a-f-]+/data/$", path), path


def test_show_list_archive_restore_update(tmp_path):
    spec = job_file(tmp_path, "echo hi", tags={"team": "a"})
    first, second = create(spec), create(spec)

    shown = json.loads(run_ml("job", "show", "-n", first).stdout)
    assert shown["name"] == first and shown["tags"] == {"team": "a"}
    assert {"id", "creation_context", "experiment_name", "services", "inputs", "outputs"} <= set(shown)

    names = json.loads(run_ml("job", "list", "--query", "[].name").stdout)
    assert names == [second, first]  # newest first

    assert run_ml("job", "archive", "-n", first).returncode == 0
    assert json.loads(run_ml("job", "list", "--query", "[].name").stdout) == [second]
    assert json.loads(run_ml("job", "list", "--archived-only", "--query", "[].name").stdout) == [first]
    assert len(json.loads(run_ml("job", "list", "--include-archived").stdout)) == 2
    assert run_ml("job", "restore", "-n", first).returncode == 0
    assert len(json.loads(run_ml("job", "list").stdout)) == 2

    updated = run_ml("job", "update", "-n", first, "--set", "tags.owner=me", "description=new", "display_name=shown")
    assert updated.returncode == 0, updated.stderr
    job = json.loads(updated.stdout)
    assert job["tags"] == {"team": "a", "owner": "me"}
    assert (job["description"], job["display_name"]) == ("new", "shown")
    assert json.loads(run_ml("job", "show", "-n", first).stdout)["tags"]["owner"] == "me"

    refused = run_ml("job", "update", "-n", first, "--set", "command=rm -rf /")
    assert refused.returncode == 2 and "command cannot change" in refused.stderr


def test_list_caps_at_max_results_with_a_warning(tmp_path):
    spec = job_file(tmp_path, "echo hi")
    for _ in range(3):
        create(spec)
    capped = run_ml("job", "list", "-r", "2")
    assert len(json.loads(capped.stdout)) == 2
    assert "--all-results" in capped.stderr
    everything = run_ml("job", "list", "--all-results")
    assert len(json.loads(everything.stdout)) == 3 and everything.stderr == ""


def test_unknown_job_exits_3(tmp_path):
    for verb in ("show", "stream", "cancel", "download", "archive"):
        result = run_ml("job", verb, "-n", "no-such-job")
        assert result.returncode == 3, (verb, result.stderr)
        assert "no-such-job" in result.stderr


def test_unknown_compute_names_the_command_that_creates_it(tmp_path):
    spec = job_file(tmp_path, "echo hi", compute="azureml:gpu-cluster")
    result = run_ml("job", "create", "-f", str(spec))
    assert result.returncode == 3
    assert "compute 'gpu-cluster' does not exist" in result.stderr
    assert "ml compute create" in result.stderr
    assert json.loads(run_ml("job", "list").stdout) == []  # nothing was sent


def test_every_example_is_valid():
    result = run_ml("validate", str(REPO / "specs" / "examples"))
    assert result.returncode == 0, result.stderr
    assert "0 invalid" in result.stderr
