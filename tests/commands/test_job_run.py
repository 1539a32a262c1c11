"""Jobs run by the local runner, followed with `--stream` / `ml job stream`: output, exit codes,
cancel, download, Ctrl-C, and the examples. Real CLI and runner processes on a temporary ML_HOME."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.commands.job_helpers import create, job_file, shown, status, wait_for
from tests.conftest import REPO, run_ml

EXAMPLES = REPO / "specs" / "examples"


def test_hello_world_streams_its_output_and_exits_0():
    result = run_ml("job", "create", "-f", str(EXAMPLES / "hello-world" / "job.yml"), "--stream",
                    "--query", "name", "-o", "tsv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "hello world" in lines
    name = lines[-1]  # the job itself comes after its log
    assert f"RunId: {name}" in result.stderr and "Status: Completed" in result.stderr
    assert "Status: Completed" not in result.stdout  # status lines are messages, not data
    assert status(name) == "Completed"


def test_failing_job_exits_8_with_the_reason(tmp_path):
    spec = job_file(tmp_path, "python -c \"import sys; print('about to fail'); sys.exit(3)\"")
    result = run_ml("job", "create", "-f", str(spec), "--stream")
    assert result.returncode == 8, result.stderr
    assert "about to fail" in result.stdout
    assert "ended Failed" in result.stderr and "code 3" in result.stderr
    again = run_ml("job", "stream", "-n", result.stderr.split("RunId: ")[1].split()[0])
    assert again.returncode == 8 and "about to fail" in again.stdout  # a finished job streams its whole log


def test_stream_follows_a_running_job_line_by_line(tmp_path):
    script = "import time\nfor i in range(3):\n    print('tick', i, flush=True)\n    time.sleep(0.3)\n"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "tick.py").write_text(script)
    name = create(job_file(tmp_path, "python tick.py"))
    result = run_ml("job", "stream", "-n", name)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith("tick")] == ["tick 0", "tick 1", "tick 2"]


def test_cancel_ends_a_running_job(tmp_path):
    name = create(job_file(tmp_path, "python -c \"import time; time.sleep(60)\""))
    wait_for(name, ("Running",), timeout=30)
    result = run_ml("job", "cancel", "-n", name)
    assert result.returncode == 0, result.stderr
    assert wait_for(name, timeout=30) == "Canceled"
    streamed = run_ml("job", "stream", "-n", name)
    assert streamed.returncode == 8 and "Canceled" in streamed.stderr


def test_ctrl_c_detaches_and_the_job_goes_on(tmp_path):
    script = "import time\nprint('started', flush=True)\ntime.sleep(3)\nprint('finished', flush=True)\n"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "slow.py").write_text(script)
    name = create(job_file(tmp_path, "python slow.py"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    follower = subprocess.Popen([sys.executable, "-m", "cli", "job", "stream", "-n", name], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in follower.stdout:  # the job's own log: it is running and being followed
            if line.strip() == "started":
                break
        follower.send_signal(signal.SIGINT)
        _, stderr = follower.communicate(timeout=30)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
    assert follower.returncode == 130, stderr
    assert f"detached; the job goes on: ml job stream -n {name}" in stderr
    assert wait_for(name, timeout=30) == "Completed"


def test_download_all_brings_outputs_and_logs(tmp_path):
    spec = job_file(tmp_path, "python -c \"import sys; open(sys.argv[1] + '/result.txt', 'w').write('42')\" "
                              "${{outputs.result}} && echo logged", outputs={"result": {"type": "uri_folder"}})
    name = create(spec)
    assert wait_for(name) == "Completed"
    target = tmp_path / "downloaded"
    result = run_ml("job", "download", "-n", name, "--all", "-p", str(target))
    assert result.returncode == 0, result.stderr
    assert (target / "named-outputs" / "result" / "result.txt").read_text() == "42"
    assert "logged" in (target / "artifacts" / "user_logs" / "std_log.txt").read_text()
    only = run_ml("job", "download", "-n", name, "--output-name", "result", "-p", str(tmp_path / "one"))
    assert only.returncode == 0, only.stderr
    assert (tmp_path / "one" / "named-outputs" / "result" / "result.txt").exists()
    assert not (tmp_path / "one" / "artifacts").exists()
    missing = run_ml("job", "download", "-n", name, "--output-name", "nope", "-p", str(tmp_path / "none"))
    assert missing.returncode == 3 and "no output 'nope'" in missing.stderr


def test_second_job_reads_the_first_jobs_output():
    folder = EXAMPLES / "inputs-outputs"
    first = run_ml("job", "create", "-f", str(folder / "produce.yml"), "--set", "inputs.rows=4", "--stream",
                   "--query", "name", "-o", "tsv")
    assert first.returncode == 0, first.stderr
    producer = first.stdout.splitlines()[-1]
    second = run_ml("job", "create", "-f", str(folder / "consume.yml"), "--stream",
                    "--set", f"inputs.table.path=azureml://jobs/{producer}/outputs/table")
    assert second.returncode == 0, second.stderr
    assert "read 4 rows; sum of squares = 30" in second.stdout  # 1 + 4 + 9 + 16
    local = run_ml("job", "create", "-f", str(folder / "consume.yml"), "--stream")
    assert local.returncode == 0, local.stderr
    assert "read 3 rows; sum of squares = 14" in local.stdout  # the uploaded ./data


def test_distributed_example_starts_two_ranks():
    result = run_ml("job", "create", "-f", str(EXAMPLES / "distributed-env-check" / "job.yml"), "--stream")
    assert result.returncode == 0, result.stderr
    ranks = sorted(line.split("RANK=")[1].split()[0] for line in result.stdout.splitlines() if " RANK=" in f" {line}")
    assert ranks == ["0", "1"], result.stdout
    assert "WORLD_SIZE=2" in result.stdout


def test_mlflow_example_logs_metrics_that_show_reports():
    result = run_ml("job", "create", "-f", str(EXAMPLES / "mlflow-training" / "job.yml"), "--set", "inputs.epochs=5",
                    "--stream", "--query", "name", "-o", "tsv")
    assert result.returncode == 0, result.stderr
    assert "fitted y =" in result.stdout
    job = shown(result.stdout.splitlines()[-1])
    assert set(job.get("metrics", {})) == {"loss"}, job.get("metrics")
    assert 0 <= job["metrics"]["loss"] < 10
