import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cli.errors import LocalWorkspaceError
from cli.local.store import SCHEMA_VERSION, Store, open_store

REPO = Path(__file__).resolve().parents[2]
CONTAINER = "/subscriptions/s/resourceGroups/local/providers/p/workspaces/local/models/m"


def add_version(store: Store) -> str:
    record = store.add_next_version(CONTAINER, "models/versions", "m",
                                    lambda v: (f"{CONTAINER}/versions/{v}", {"properties": {"v": v}}))
    return record.version


def test_new_store_records_its_schema_version(tmp_path):
    store = open_store(tmp_path, "local")
    rows = sqlite3.connect(store.path).execute("SELECT version FROM schema_version").fetchall()
    assert rows == [(SCHEMA_VERSION,)]
    assert sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    assert Store(store.path).get(CONTAINER) is None  # reopening migrates nothing and works


def test_newer_schema_version_is_refused(tmp_path):
    path = open_store(tmp_path, "local").path
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = 999")
    with pytest.raises(LocalWorkspaceError, match="schema version 999, newer than this ml understands"):
        Store(path)


def test_corrupt_database_is_refused(tmp_path):
    path = tmp_path / "workspaces" / "local" / "workspace.db"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database\n" * 300)
    with pytest.raises(LocalWorkspaceError, match="is not a SQLite database") as info:
        open_store(tmp_path, "local")
    assert "\n" not in info.value.message


def test_next_version_is_atomic_across_50_threads(tmp_path):
    store = open_store(tmp_path, "local")
    versions, barrier = [], threading.Barrier(50)

    def worker():
        barrier.wait()
        versions.append(add_version(store))

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(versions, key=int) == [str(i) for i in range(1, 51)]


WORKER = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from cli.local.store import open_store
C = "/subscriptions/s/resourceGroups/local/providers/p/workspaces/local/models/m"
store = open_store(Path(sys.argv[2]), "local")
for _ in range(int(sys.argv[3])):
    r = store.add_next_version(C, "models/versions", "m", lambda v: (f"{C}/versions/{v}", {"properties": {}}))
    print(r.version, flush=True)
"""


def test_next_version_is_atomic_across_8_processes(tmp_path):
    open_store(tmp_path, "local").close()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(REPO), str(tmp_path), "10"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    versions = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        versions += out.split()
    assert sorted(versions, key=int) == [str(i) for i in range(1, 81)]
