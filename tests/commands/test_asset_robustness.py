"""Many writers at once, an upload killed halfway, a corrupt store: real processes on one ML_HOME."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.commands.asset_cli import ml_fails, ml_json, ml_ok
from tests.conftest import REPO, run_ml

WRITERS = 50


@pytest.mark.slow
def test_concurrent_creates_get_distinct_versions(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"weights")
    # Threads only wait on subprocesses; 4 at a time keeps 2 cores busy without thrashing.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: run_ml("model", "create", "-n", "m", "--path", "model.bin",
                                                 "--query", "version", "-o", "tsv", cwd=tmp_path, timeout=120),
                                range(WRITERS)))
    failures = [r.stderr for r in results if r.returncode != 0]
    assert failures == []
    versions = sorted(int(r.stdout) for r in results)
    assert versions == list(range(1, WRITERS + 1))
    listed = ml_json("model", "list", "-n", "m", "-r", "100", "--query", "[].version")
    assert sorted(map(int, listed)) == versions


@pytest.mark.slow
def test_upload_killed_halfway_leaves_no_asset(tmp_path, isolated_home):
    big = tmp_path / "big.bin"
    with open(big, "wb") as handle:  # real bytes, so the upload takes a while
        for _ in range(160):
            handle.write(os.urandom(1 << 20))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "cli", "data", "create", "-n", "big", "-v", "1", "-t", "uri_file",
                                "--path", str(big)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    staging = isolated_home / "workspaces" / "local" / "blobs" / ".staging"
    deadline = time.monotonic() + 60
    while not (staging.is_dir() and any(staging.rglob("*"))):
        assert process.poll() is None, "the upload finished before it could be interrupted"
        assert time.monotonic() < deadline, "the upload never started"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL

    assert ml_json("data", "list") == []
    assert ml_fails(3, "data", "show", "-n", "big", "-v", "1").startswith("ml: error: (ResourceNotFound)")
    blobs = isolated_home / "workspaces" / "local" / "blobs" / "workspaceblobstore"
    assert [p for p in blobs.rglob("*") if p.is_file()] == []  # nothing committed under the datastore
    # and the same create afterwards completes
    assert ml_ok("data", "create", "-n", "big", "-v", "1", "-t", "uri_file", "--path", str(big),
                 "--query", "version", "-o", "tsv", timeout=180) == "1\n"


def test_corrupt_store_is_one_line_and_exit_9(isolated_home):
    database = isolated_home / "workspaces" / "local" / "workspace.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"this is not a database" * 300)
    result = run_ml("model", "list")
    assert (result.returncode, result.stdout) == (9, "")
    assert result.stderr == (f"ml: error: local workspace database {database} is not a SQLite database (its header"
                             " is missing or damaged)\nhint: ml has not changed it; restore the file from a backup,"
                             " or set ML_HOME to another folder to work elsewhere meanwhile\n")


def test_an_invalid_asset_name_is_refused_and_nothing_is_stored(tmp_path):
    (tmp_path / "d.csv").write_text("a\n1\n")
    bad = run_ml("data", "create", "-n", "bad name!", "-p", str(tmp_path / "d.csv"), "-t", "uri_file")
    assert bad.returncode == 2 and bad.stdout == ""  # refused by the client, before any request
    assert "'bad name!' is not a valid data name" in bad.stderr
    assert run_ml("data", "list").stdout.strip() == "[]"


def test_an_ml_home_that_is_a_file_is_a_one_line_error(tmp_path):
    home = tmp_path / "file"
    home.write_text("")
    result = run_ml("data", "list", env={"ML_HOME": str(home)})
    assert result.returncode == 9
    assert result.stderr.splitlines()[0] == f"ml: error: cannot use the local workspace folder {home}/workspaces/local: Not a directory"
