"""Nothing lost, nothing wedged: damaged databases are reported (exit 9) and left as they are, a
read-only ML_HOME still serves reads, bad bodies are refused, damaged records are skipped one by one."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cli.local.service import LocalWorkspaceService
from cli.local.store import open_store
from cli.local.tracking.store import TrackingStore  # noqa: F401 (the tracking DB shares the checks below)
from tests.conftest import REPO, run_ml

WS = ("https://management.ml.invalid/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local"
      "/providers/Microsoft.MachineLearningServices/workspaces/local")
API = {"api-version": "2025-12-01"}
KEEP_IT = "hint: ml has not changed it; restore the file from a backup, or set ML_HOME to another folder"


def _database(home: Path) -> Path:
    return home / "workspaces" / "local" / "workspace.db"


def _workspace_with_data(home: Path, count: int = 2) -> Path:
    """A workspace holding `count` data assets, made by the real CLI path in-process."""
    service = LocalWorkspaceService(home, "local")
    try:
        import httpx

        from cli.client.transports.local import LocalTransport

        with httpx.Client(transport=LocalTransport(service)) as client:
            for i in range(count):
                answer = client.put(f"{WS}/data/d{i}/versions/1", params=API, json={"properties": {
                    "dataType": "uri_file", "dataUri": f"https://example.invalid/{i}.csv",
                    "description": "x" * 2000}})
                assert answer.status_code == 201, answer.text
    finally:
        service.store.close()
    return _database(home)


def _assert_refused_untouched(home: Path, database: Path, what: str) -> None:
    before = database.read_bytes() if database.exists() else None
    for args in (("data", "list"), ("data", "create", "-n", "new", "-v", "1", "-t", "uri_file", "--path",
                                    "https://example.invalid/n.csv")):
        result = run_ml(*args, env={"ML_HOME": str(home)})
        assert (result.returncode, result.stdout) == (9, ""), result.stderr
        lines = result.stderr.splitlines()
        assert lines[0].startswith(f"ml: error: local workspace database {database} {what}"), lines
        assert lines[1].startswith(KEEP_IT) and len(lines) == 2
        assert "move it aside" not in result.stderr and "afresh" not in result.stderr
        assert (database.read_bytes() if database.exists() else None) == before  # byte-identical
    assert sorted(p.name for p in database.parent.iterdir() if p.name.startswith("workspace.db")) == (
        ["workspace.db"] if before is not None else [])


def test_an_empty_database_is_not_a_new_workspace(isolated_home):
    database = _workspace_with_data(isolated_home)
    database.write_bytes(b"")
    _assert_refused_untouched(isolated_home, database, "is empty (0 bytes)")


def test_a_truncated_database_is_refused(isolated_home):
    database = _workspace_with_data(isolated_home, count=40)
    data = database.read_bytes()
    assert len(data) >= 4 * 4096
    database.write_bytes(data[:len(data) // 2 + 100])  # mid-page
    _assert_refused_untouched(isolated_home, database, "is truncated")
    database.write_bytes(data[:2 * 4096])  # on a page boundary: the header still counts the lost pages
    _assert_refused_untouched(isolated_home, database, "is truncated")


def test_garbage_is_refused(isolated_home):
    database = _workspace_with_data(isolated_home)
    database.write_bytes(os.urandom(8192))
    _assert_refused_untouched(isolated_home, database, "is not a SQLite database")


def test_a_missing_database_of_an_existing_workspace_is_refused(isolated_home):
    database = _workspace_with_data(isolated_home)
    (database.parent / "blobs").mkdir(exist_ok=True)
    database.unlink()
    _assert_refused_untouched(isolated_home, database, "is missing, but its workspace folder")


@pytest.mark.parametrize("leftover", ["", "-journal", "-wal", "-shm"])
def test_a_database_another_process_is_building_is_not_data(tmp_path, leftover):
    # another `ml` creating the workspace at this instant leaves only these in the folder
    folder = tmp_path / "home" / "workspaces" / "local"
    folder.mkdir(parents=True)
    (folder / f".workspace.db.4242.abcd1234.new{leftover}").write_bytes(b"")
    store = open_store(tmp_path / "home", "local")
    assert store.path.exists()


def test_a_corrupt_page_is_exit_9_not_an_internal_error(isolated_home):
    database = _workspace_with_data(isolated_home, count=40)
    data = bytearray(database.read_bytes())
    for page in range(1, len(data) // 4096):  # every page but the header's
        data[page * 4096:(page + 1) * 4096] = b"\xa5" * 4096
    database.write_bytes(bytes(data))
    result = run_ml("data", "list")
    assert (result.returncode, result.stdout) == (9, ""), result.stderr
    assert result.stderr.startswith(f"ml: error: local workspace database {database} is unreadable (")
    assert "internal error" not in result.stderr and bytes(data) == database.read_bytes()


def test_a_damaged_tracking_database_is_not_started_afresh(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "tracking.db").write_bytes(b"")
    with pytest.raises(Exception, match="is empty"):
        TrackingStore(folder)
    assert (folder / "tracking.db").read_bytes() == b""


def _read_only(home: Path, *args: str) -> subprocess.CompletedProcess:
    """`ml args` with `home` read-only: a read-only bind mount when root (root ignores modes), else chmod."""
    env = {**os.environ, "ML_HOME": str(home), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "cli", *args]
    if os.geteuid() != 0:
        for path in [home, *home.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        try:
            return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        finally:
            for path in [home, *home.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)
    if not shutil.which("unshare"):
        pytest.skip("no unshare to make a read-only mount")
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    result = subprocess.run(["unshare", "-m", "sh", "-c", script, str(home), *command], env=env,
                            capture_output=True, text=True, timeout=60)
    if "mount:" in result.stderr:
        pytest.skip(f"cannot make a read-only mount here: {result.stderr.strip()}")
    return result


def test_a_read_only_ml_home_serves_reads_and_refuses_writes_in_one_line(isolated_home):
    _workspace_with_data(isolated_home)
    _add_jobs(isolated_home, done=_job_body("done"), lost={**_job_body("lost"), "properties": {
        **_job_body("lost")["properties"], "status": "Running"}})
    folder = isolated_home / "workspaces" / "local" / "jobs" / "lost" / "system_logs"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (folder / "runner.json").write_text(json.dumps({"pid": int(dead.stdout), "start": "1"}))
    jobs = _read_only(isolated_home, "job", "list", "--query", "[].[name, status]", "-o", "tsv")
    assert (jobs.returncode, sorted(jobs.stdout.splitlines()), jobs.stderr) == (
        0, ["done\tCompleted", "lost\tFailed"], "")  # its runner is gone: shown Failed, nothing written
    listed = _read_only(isolated_home, "data", "list", "--query", "[].name", "-o", "tsv")
    assert (listed.returncode, sorted(listed.stdout.split()), listed.stderr) == (0, ["d0", "d1"], "")
    shown = _read_only(isolated_home, "data", "show", "-n", "d1", "-v", "1", "--query", "name", "-o", "tsv")
    assert (shown.returncode, shown.stdout) == (0, "d1\n"), shown.stderr
    write = _read_only(isolated_home, "data", "create", "-n", "new", "-v", "1", "-t", "uri_file", "--path",
                       "https://example.invalid/n.csv")
    assert write.returncode == 9 and write.stdout == ""
    assert write.stderr == (f"ml: error: the local workspace {_database(isolated_home).parent} is read-only: this"
                            " command needs to change it; reads (show, list) still work\n")


def test_a_malformed_job_body_is_a_400_naming_the_field_and_lists_still_work(raw_client):
    bad = {"properties": {"jobType": "Command", "command": "echo", "environmentId": "azureml:env:1",
                          "inputs": {"x": {"jobInputType": "uri_file"}}}}
    answer = raw_client.put(f"{WS}/jobs/bad-1", params=API, json=bad)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["target"] == "properties.inputs.x"
    assert "properties.inputs.x: missing required key 'uri'" in error["message"]
    for body, field in (({"properties": {"jobType": "Command", "command": 5, "environmentId": "e"}},
                         "properties.command"),
                        ({"properties": {"jobType": "Cmd", "command": "echo", "environmentId": "e"}},
                         "properties.jobType"),
                        ({"properties": ["not", "an", "object"]}, "properties")):
        answer = raw_client.put(f"{WS}/jobs/bad-2", params=API, json=body)
        assert (answer.status_code, answer.json()["error"]["target"]) == (400, field), answer.text
    listed = raw_client.get(f"{WS}/jobs", params=API)
    assert (listed.status_code, listed.json()["value"]) == (200, [])


def _job_body(name: str) -> dict:
    return {"id": f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
                  f"Microsoft.MachineLearningServices/workspaces/local/jobs/{name}",
            "name": name, "type": "Microsoft.MachineLearningServices/workspaces/jobs",
            "systemData": {"createdAt": "2026-01-01T00:00:00Z", "createdBy": "me", "createdByType": "User"},
            "properties": {"jobType": "Command", "command": "echo", "environmentId": "azureml:env:1",
                           "status": "Completed", "experimentName": "Default", "displayName": name,
                           "isArchived": False, "properties": {}}}


def _add_jobs(home: Path, **bodies: dict) -> None:
    """Store job records directly (no runner starts): name -> body."""
    store = open_store(home, "local")
    ws_id = WS.split("management.ml.invalid", 1)[1]
    with store.transaction() as conn:
        for name, body in bodies.items():
            store.upsert(conn, f"{ws_id}/jobs/{name}", "jobs", ws_id, name, body)
    store.close()


def test_a_record_damaged_by_hand_is_reported_and_the_rest_listed(isolated_home):
    _add_jobs(isolated_home, **{name: _job_body(name) for name in ("good", "not-json", "wrong-shape", "bad-field")})
    with sqlite3.connect(_database(isolated_home)) as conn:
        conn.execute("UPDATE resources SET body = '{\"properties\": {' WHERE name = 'not-json'")
        conn.execute("UPDATE resources SET body = '{\"properties\": \"x\"}' WHERE name = 'wrong-shape'")
        broken = {**_job_body("bad-field"), "properties": {**_job_body("bad-field")["properties"], "inputs": 5}}
        conn.execute("UPDATE resources SET body = ? WHERE name = 'bad-field'", (json.dumps(broken),))
    listed = run_ml("job", "list", "--query", "[].name", "-o", "tsv")
    assert (listed.returncode, listed.stdout) == (0, "good\n"), listed.stderr
    warnings = sorted(listed.stderr.splitlines())
    assert len(warnings) == 3 and all(w.startswith("warning: skipped job '") for w in warnings)
    assert "'bad-field'" in warnings[0] and "properties.inputs: expected a mapping" in warnings[0]
    assert "'not-json'" in warnings[1] and "'wrong-shape'" in warnings[2]
    shown = run_ml("job", "show", "-n", "not-json")
    assert shown.returncode == 9 and shown.stderr.count("\n") == 1 and "'not-json'" in shown.stderr
    archived = run_ml("job", "archive", "-n", "good")
    assert archived.returncode == 0, archived.stderr
    assert run_ml("job", "list", "--all-results", "--include-archived", "--query", "[].name", "-o",
                  "tsv").stdout == "good\n"


def test_a_database_of_the_first_schema_is_migrated_and_its_records_checked(tmp_path):
    from cli.local.store import MIGRATIONS, SCHEMA_VERSION

    database = tmp_path / "workspaces" / "local" / "workspace.db"
    database.parent.mkdir(parents=True)
    ws_id = WS.split("management.ml.invalid", 1)[1]
    with sqlite3.connect(database) as conn:  # as the first release wrote it
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.executescript(MIGRATIONS[0])
        conn.execute("INSERT INTO schema_version VALUES (1)")
        for name, body in (("kept", _job_body("kept")), ("odd", {"properties": {"jobType": "Command"}})):
            conn.execute("INSERT INTO resources VALUES (?, ?, 'jobs', ?, ?, NULL, ?, 't', 't', 0)",
                         (f"{ws_id}/jobs/{name}".lower(), f"{ws_id}/jobs/{name}", ws_id.lower(), name, json.dumps(body)))
    store = open_store(tmp_path, "local")
    try:
        assert store.read_only is False and SCHEMA_VERSION == 2
        assert [r.name for r in store.list("jobs", ws_id)] == ["kept"]  # stored unchecked by an older ml
    finally:
        store.close()
