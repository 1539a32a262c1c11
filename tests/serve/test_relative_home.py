"""A relative ML_HOME means the same folder to every process: ml, the job's runner (which works elsewhere),
and `ml local serve`."""

from __future__ import annotations

import shutil
from pathlib import Path

from served import start
from tests.conftest import prebuild_environment, run_ml

JOB_SPECS = Path(__file__).parent.parent / "local" / "job_specs"


def test_a_job_runs_with_a_relative_ml_home(tmp_path, job_environments):
    prebuild_environment(job_environments, "sklearn-1.5")
    shutil.copytree(JOB_SPECS, tmp_path / "specs")
    env = {"ML_HOME": "rel-home"}
    done = run_ml("job", "create", "-f", "specs/io.yml", "--stream", "--query", "status", "-o", "tsv",
                  cwd=tmp_path, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "Completed"
    assert (tmp_path / "rel-home" / "workspaces" / "local" / "workspace.db").is_file()


def test_ml_local_serve_with_a_relative_ml_home(tmp_path):
    served = start("relws", tmp_path, env={"ML_HOME": "rel-home"}, cwd=tmp_path)
    try:
        assert Path(served.env["SSL_CERT_FILE"]) == tmp_path / "rel-home" / "serve" / "ca.pem"
    finally:
        assert served.stop() == 0
