"""Slots of local computes: at most `max_instances` nodes of jobs run on a compute at once.

One table in `<workspace>/runner.db`; a runner takes its slots in a BEGIN IMMEDIATE transaction
(so two runners never both take the last one) and frees them when done. Rows of runners that died
are dropped by the next acquirer, so a killed runner never holds a slot forever.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from cli.local.runner.state import alive, process_start

SCHEMA = ("CREATE TABLE IF NOT EXISTS slots (job TEXT PRIMARY KEY, compute TEXT NOT NULL,"
          " nodes INTEGER NOT NULL, pid INTEGER NOT NULL, start TEXT)")


class ComputeSlots:
    def __init__(self, workspace_root: Path):
        self.conn = sqlite3.connect(Path(workspace_root) / "runner.db", timeout=60, isolation_level=None)
        self.conn.execute("PRAGMA busy_timeout = 60000")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute(SCHEMA)

    def try_acquire(self, compute: str, job: str, nodes: int, limit: int) -> bool:
        """Take `nodes` slots of `compute` for `job` if that keeps it within `limit`."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            rows = self.conn.execute("SELECT job, nodes, pid, start FROM slots WHERE compute = ?",
                                     (compute.lower(),)).fetchall()
            used = 0
            for other, count, pid, start in rows:
                if alive(pid, start):
                    used += count
                else:
                    self.conn.execute("DELETE FROM slots WHERE job = ?", (other,))
            taken = used + nodes <= limit
            if taken:
                pid = os.getpid()
                self.conn.execute("INSERT OR REPLACE INTO slots VALUES (?, ?, ?, ?, ?)",
                                  (job, compute.lower(), nodes, pid, process_start(pid)))
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return taken

    def release(self, job: str) -> None:
        self.conn.execute("DELETE FROM slots WHERE job = ?", (job,))

    def close(self) -> None:
        self.conn.close()
