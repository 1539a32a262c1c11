"""The parallel engine: driver.py and worker.py run as real processes on real files (no workspace)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli.local.runner.parallel import DRIVER, command_job, driver_command, merge_component
from cli.local.runner.parallel import minibatch
from cli.local.runner.errors import JobError

SCORE = '''
import argparse, os, sys, time
def init():
    global prefix
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", default="")
    args, _ = parser.parse_known_args()
    prefix = args.prefix
    print("init pid", os.getpid(), "model", os.environ.get("AZUREML_MODEL_DIR"), flush=True)
def run(mini_batch):
    out = []
    for path in mini_batch:
        text = open(path).read().strip()
        if text == "raise":
            raise ValueError("bad file " + os.path.basename(path))
        if text == "sleep":
            time.sleep(30)
        if text == "skip":
            continue
        out.append(f"{prefix}{os.path.basename(path)} {len(text)} {os.getpid()}")
    return out
'''


def files(folder: Path, contents: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in contents.items():
        (folder / name).write_text(text)
    return folder


def drive(work: Path, *args: str, program: tuple[str, ...] = (), script: str = SCORE, timeout: float = 60):
    (work / "score.py").write_text(script)
    argv = [sys.executable, str(DRIVER), "--entry-script", "score.py", *args]
    if program:
        argv += ["--", *program]
    return subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=timeout)


def worker_logs(work: Path) -> str:
    return "".join(p.read_text() for p in sorted((work / "logs/user/stdout/localhost").glob("*.txt")))


def test_sizes_parse_as_counts_or_bytes():
    assert minibatch.parse_size("10") == minibatch.BatchSize(count=10)
    assert minibatch.parse_size(3) == minibatch.BatchSize(count=3)
    assert minibatch.parse_size("10kb") == minibatch.BatchSize(size=10 * 1024)
    assert minibatch.parse_size("1MB") == minibatch.BatchSize(size=1024 ** 2)
    for bad in ("0", "ten", "10xb", "-1"):
        with pytest.raises(minibatch.InputError):
            minibatch.parse_size(bad)


def test_files_split_by_count_and_by_size(tmp_path):
    data = files(tmp_path / "d", {f"f{i}.txt": "x" * 600 for i in range(5)})
    listed = minibatch.input_files(str(data), "uri_folder")
    assert [Path(p).name for p in listed] == [f"f{i}.txt" for i in range(5)]
    assert [len(b) for b in minibatch.split_files(listed, minibatch.BatchSize(count=2))] == [2, 2, 1]
    assert [len(b) for b in minibatch.split_files(listed, minibatch.BatchSize(size=1024))] == [1, 1, 1, 1, 1]
    assert [len(b) for b in minibatch.split_files(listed, minibatch.BatchSize(size=1300))] == [2, 2, 1]


def test_mltable_paths_read_without_pyyaml_too(tmp_path):
    data = files(tmp_path / "t", {"a.csv": "x\n1\n", "b.csv": "x\n2\n", "notes.md": ""})
    (data / "MLTable").write_text("paths:\n  - pattern: ./*.csv\ntransformations:\n  - read_delimited:\n"
                                  "      delimiter: ','\n      header: all_files_same_headers\n")
    table = minibatch.read_mltable(data)
    assert isinstance(table, minibatch.Table) and table.reader == "read_delimited"
    assert [Path(p).name for p in table.files] == ["a.csv", "b.csv"]
    assert minibatch._plain_yaml((data / "MLTable").read_text())["transformations"] == [
        {"read_delimited": {"delimiter": ",", "header": "all_files_same_headers"}}]
    (data / "MLTable").write_text("paths:\n  - file: ./a.csv\n  - file: ./b.csv\n")
    assert [Path(p).name for p in minibatch.read_mltable(data)] == ["a.csv", "b.csv"]


def test_append_row_in_input_order_across_concurrent_workers(tmp_path):
    data = files(tmp_path / "in", {f"f{i:02d}.txt": "a" * i for i in range(1, 10)})
    out = tmp_path / "work" / "out"
    out.mkdir(parents=True)
    done = drive(tmp_path / "work", "--input-data", str(data), "--mini-batch-size", "2", "--max-concurrency", "3",
                 "--append-row-to", str(out), "--model-dir", str(tmp_path / "in"), program=("--prefix", "p:"))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = (out / "parallel_run_step.txt").read_text().splitlines()
    assert [r.split()[0] for r in rows] == [f"p:f{i:02d}.txt" for i in range(1, 10)]
    assert [r.split()[1] for r in rows] == [str(i) for i in range(1, 10)]
    assert "9 items in 5 mini-batches" in done.stdout and "9 of 9 items processed, 0 failed" in done.stdout
    logs = worker_logs(tmp_path / "work")
    assert logs.count("init pid") == 3 and f"model {tmp_path}" in logs


def test_failing_mini_batch_is_retried_then_counted_against_the_thresholds(tmp_path):
    data = files(tmp_path / "in", {"a.txt": "ok", "b.txt": "raise", "c.txt": "ok", "d.txt": "ok"})
    work = tmp_path / "work"
    work.mkdir()
    tolerated = drive(work, "--input-data", str(data), "--mini-batch-size", "1", "--max-retries", "2",
                      "--error-threshold", "1", "--append-row-to", str(work / "rows.txt"),
                      "--output-file-name", "ignored.txt")
    assert tolerated.returncode == 0, tolerated.stdout
    assert "mini-batch 1 failed (ValueError: bad file b.txt); retry 1 of 2" in tolerated.stdout
    assert "mini-batch 1 failed after 3 attempts: ValueError: bad file b.txt" in tolerated.stdout
    assert "3 of 4 items processed, 1 failed, 1 of 4 mini-batches failed" in tolerated.stdout
    assert [r.split()[0] for r in (work / "rows.txt").read_text().splitlines()] == ["a.txt", "c.txt", "d.txt"]
    refused = drive(work, "--input-data", str(data), "--mini-batch-size", "1", "--max-retries", "0",
                    "--mini-batch-error-threshold", "0")
    assert refused.returncode == 1
    assert refused.stdout.splitlines()[-1] == ("[parallel] failed: 1 mini-batches failed, more than"
                                               " mini_batch_error_threshold 0")


def test_missing_results_count_as_failed_items(tmp_path):
    data = files(tmp_path / "in", {"a.txt": "ok", "b.txt": "skip", "c.txt": "skip"})
    work = tmp_path / "work"
    work.mkdir()
    done = drive(work, "--input-data", str(data), "--mini-batch-size", "3", "--error-threshold", "1",
                 "--output-action", "summary_only")
    assert done.returncode == 1
    assert "run() returned 1 results for 3 items; 2 count as failed" in done.stdout
    assert done.stdout.splitlines()[-1] == "[parallel] failed: 2 items failed, more than error_threshold 1"


def test_timeout_kills_the_worker_and_a_new_one_takes_over(tmp_path):
    data = files(tmp_path / "in", {"a.txt": "sleep", "b.txt": "ok"})
    work = tmp_path / "work"
    work.mkdir()
    done = drive(work, "--input-data", str(data), "--mini-batch-size", "1", "--timeout", "1", "--max-retries", "0",
                 "--append-row-to", str(work))
    assert done.returncode == 0, done.stdout
    assert "mini-batch 0 failed after 1 attempts: run() timed out after 1 s" in done.stdout
    assert [r.split()[0] for r in (work / "parallel_run_step.txt").read_text().splitlines()] == ["b.txt"]
    assert worker_logs(work).count("init pid") == 2  # the replacement worker ran init() again


def test_init_failure_fails_the_job_and_logging_level_applies(tmp_path):
    data = files(tmp_path / "in", {"a.txt": "ok"})
    work = tmp_path / "work"
    work.mkdir()
    broken = drive(work, "--input-data", str(data), script="def init():\n    raise RuntimeError('no model')\n"
                                                             "def run(b):\n    return b\n")
    assert broken.returncode == 1
    assert broken.stdout.splitlines()[-1] == "[parallel] failed: init() of the entry script failed: RuntimeError: no model"
    logged = drive(work, "--input-data", str(data), "--logging-level", "WARNING",
                   script="import logging\ndef run(b):\n    logging.info('quiet')\n    logging.warning('loud')\n    return b\n")
    assert logged.returncode == 0
    assert "loud" in worker_logs(work) and "quiet" not in worker_logs(work)


def test_tabular_mltable_gives_dataframes_of_rows(tmp_path):
    pytest.importorskip("pandas")
    data = files(tmp_path / "t", {"a.csv": "x,y\n" + "".join(f"{i},{i * i}\n" for i in range(7))})
    (data / "MLTable").write_text("paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimited:\n      delimiter: ','\n")
    work = tmp_path / "work"
    work.mkdir()
    done = drive(work, "--input-data", str(data), "--input-type", "mltable", "--mini-batch-size", "16",
                 "--append-row-to", str(work),
                 script="def run(frame):\n    frame['z'] = frame.x + frame.y\n    return frame[['x', 'z']]\n")
    assert done.returncode == 0, done.stdout
    assert "7 items in 3 mini-batches" in done.stdout  # 16 of the file's 35 bytes: 3 of its 7 rows each
    assert (work / "parallel_run_step.txt").read_text().splitlines() == [f"{i} {i + i * i}" for i in range(7)]


def test_partition_keys_make_one_mini_batch_per_key_value(tmp_path):
    pytest.importorskip("pandas")
    rows = [("s1", "b1", 3), ("s2", "b1", 5), ("s1", "b2", 7), ("s1", "b1", 11), ("s2", "b1", 13)]
    data = files(tmp_path / "t", {"sales.csv": "store,brand,qty\n" + "".join(f"{s},{b},{q}\n" for s, b, q in rows)})
    (data / "MLTable").write_text("paths:\n  - file: ./sales.csv\ntransformations:\n  - read_delimited:\n      delimiter: ','\n")
    work = tmp_path / "work"
    work.mkdir()
    script = ("def run(frame, context):\n    key = context.partition_key_value\n"
              "    return [f\"{key['store']}/{key['brand']} {len(frame)} {frame.qty.sum()}\"]\n")
    done = drive(work, "--input-data", str(data), "--input-type", "mltable", "--partition-keys", '["store", "brand"]',
                 "--max-concurrency", "2", "--append-row-to", str(work), script=script)
    assert done.returncode == 0, done.stdout + worker_logs(work)
    assert "5 items in 3 mini-batches" in done.stdout
    # one row per partition, in the order its key values first appear; run() counted only its rows
    assert (work / "parallel_run_step.txt").read_text().splitlines() == ["s1/b1 2 14", "s2/b1 2 18", "s1/b2 1 7"]
    refused = drive(work, "--input-data", str(data), "--input-type", "mltable", "--partition-keys", '["shop"]',
                    script=script)
    assert refused.returncode == 1 and "partition_keys shop are not columns of the input" in refused.stdout
    node = {"input_data": "${{inputs.data}}", "partition_keys": '["store", "brand"]', "task": {"entry_script": "s.py"}}
    assert """--partition-keys '["store", "brand"]'""" in driver_command(node, {"data": {"jobInputType": "mltable"}})


def test_command_job_carries_every_setting_to_the_driver():
    node = {"type": "parallel", "input_data": "${{inputs.data}}", "mini_batch_size": "10kb",
            "max_concurrency_per_instance": 2, "error_threshold": 5, "mini_batch_error_threshold": 1,
            "logging_level": "DEBUG", "retry_settings": {"max_retries": 1, "timeout": "PT30S"},
            "task": {"type": "run_function", "entry_script": "score.py", "program_arguments": "--k ${{inputs.k}}",
                     "append_row_to": "${{outputs.out}}"}, "environment_variables": {"A": "1"}}
    inputs = {"data": {"jobInputType": "uri_folder", "uri": "azureml://datastores/d/paths/x"},
              "k": {"jobInputType": "literal", "value": "3"}}
    body = command_job(node, inputs=inputs, outputs={"out": {"jobOutputType": "uri_folder"}}, code_id="c",
                       environment_id="e")
    assert body["command"] == (f"python {DRIVER} --entry-script score.py --input-data ${{{{inputs.data}}}}"
                               " --input-type uri_folder --mini-batch-size 10kb --max-concurrency 2 --error-threshold 5"
                               " --mini-batch-error-threshold 1 --max-retries 1 --timeout 30 --logging-level DEBUG"
                               " --append-row-to ${{outputs.out}} -- --k ${{inputs.k}}")
    assert body["jobType"] == "Command" and body["environmentVariables"] == {"A": "1"}
    assert body["properties"] == {"azureml.parallel": "true"}
    with pytest.raises(JobError, match="input_data"):
        driver_command({"task": {"entry_script": "s.py"}}, {})


def test_merge_component_puts_the_node_over_the_parallel_component():
    component = {"type": "parallel", "name": "batch_score", "mini_batch_size": "10240", "logging_level": "INFO",
                 "retry_settings": {"max_retries": 10, "timeout": 3}, "input_data": "${{inputs.score_input}}",
                 "inputs": {"score_input": {"type": "mltable"}},
                 "task": {"type": "run_function", "entry_script": "score.py", "environment": "azureml:AzureML-Minimal:2",
                          "code": "azureml:/subscriptions/s/resourceGroups/r/providers/p/workspaces/w/codes/c/versions/1"}}
    node = {"type": "parallel", "componentId": "x", "mini_batch_size": "5", "task": {"program_arguments": "--k 1"},
            "logging_level": None}
    merged, code_id, environment_id = merge_component(component, node)
    assert merged["mini_batch_size"] == "5" and merged["logging_level"] == "INFO"
    assert merged["task"]["entry_script"] == "score.py" and merged["task"]["program_arguments"] == "--k 1"
    assert "inputs" not in merged and "componentId" not in merged
    assert code_id == "/subscriptions/s/resourceGroups/r/providers/p/workspaces/w/codes/c/versions/1"
    assert environment_id == "azureml:AzureML-Minimal:2"


def test_every_node_s_workers_run_here():
    node = {"input_data": "${{inputs.d}}", "max_concurrency_per_instance": 2, "resources": {"instance_count": 3},
            "task": {"entry_script": "s.py"}}
    assert "--max-concurrency 6" in driver_command(node, {"d": {"jobInputType": "uri_folder"}})
