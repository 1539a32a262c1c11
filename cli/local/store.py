"""The local workspace's SQLite store: resources keyed by ARM id, transactional, multi-process safe.

Every write runs in BEGIN IMMEDIATE, so concurrent `ml` processes serialise on the write lock
(waiting up to `busy_timeout`) instead of failing; WAL lets readers proceed meanwhile.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from cli.errors import LocalWorkspaceError

BUSY_TIMEOUT_MS = 60_000

# Each entry migrates the schema from version i to i + 1; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE resources (
        key TEXT PRIMARY KEY,          -- lower-cased ARM id (ARM ids compare case-insensitively)
        id TEXT NOT NULL,
        kind TEXT NOT NULL,            -- collection path below the workspace, e.g. 'models/versions'
        parent TEXT NOT NULL,          -- key of the container (versions) or of the workspace
        name TEXT NOT NULL,
        version TEXT,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL,
        archived INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX resources_by_parent ON resources (kind, parent);
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE operations (
        id TEXT PRIMARY KEY, status TEXT NOT NULL, resource_id TEXT NOT NULL,
        started_at TEXT NOT NULL, ended_at TEXT
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def utcnow() -> str:
    """The current time as ARM writes it (ISO 8601, UTC, microseconds)."""
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Record:
    id: str
    kind: str
    name: str
    version: str | None
    body: dict
    created_at: str
    modified_at: str
    archived: bool


def _record(row: sqlite3.Row) -> Record:
    return Record(row["id"], row["kind"], row["name"], row["version"], json.loads(row["body"]),
                  row["created_at"], row["modified_at"], bool(row["archived"]))


class Store:
    """One workspace database. Thread-safe: each thread gets its own connection."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise self._unreadable(exc) from None

    def _unreadable(self, exc: Exception) -> LocalWorkspaceError:
        return LocalWorkspaceError(
            f"local workspace database {self.path} is unreadable ({exc}); move it aside to start afresh")

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we issue BEGIN ourselves, so every transaction is explicit.
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database write lock from its first statement."""
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise self._unreadable(exc) from None
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _migrate(self) -> None:
        with self.transaction() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            current = row[0] if row else 0
            if current > SCHEMA_VERSION:
                raise LocalWorkspaceError(
                    f"local workspace database {self.path} has schema version {current}, newer than "
                    f"this ml understands ({SCHEMA_VERSION}); upgrade ml")
            for script in MIGRATIONS[current:]:
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
            if row is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            else:
                conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ---- reads (each a single statement: consistent without an explicit transaction)

    def get(self, id: str, conn: sqlite3.Connection | None = None) -> Record | None:
        row = (conn or self._connection()).execute(
            "SELECT * FROM resources WHERE key = ?", (id.lower(),)).fetchone()
        return _record(row) if row else None

    def list(self, kind: str, parent: str, archived: bool | None = False) -> list[Record]:
        """Resources of one collection in creation order; `archived` None means both."""
        sql = "SELECT * FROM resources WHERE kind = ? AND parent = ?"
        args: list = [kind, parent.lower()]
        if archived is not None:
            sql += " AND archived = ?"
            args.append(int(archived))
        return [_record(r) for r in self._connection().execute(sql + " ORDER BY rowid", args)]

    def latest_and_next_version(self, container_id: str,
                                conn: sqlite3.Connection | None = None) -> tuple[str | None, str]:
        """(newest non-archived version, max integer version + 1) of a container."""
        conn = conn or self._connection()
        latest = conn.execute(
            "SELECT version FROM resources WHERE parent = ? AND version IS NOT NULL AND archived = 0"
            " ORDER BY created_at DESC, rowid DESC LIMIT 1", (container_id.lower(),)).fetchone()
        top = conn.execute(
            "SELECT MAX(CAST(version AS INTEGER)) FROM resources WHERE parent = ? AND version IS NOT NULL"
            " AND version GLOB '[0-9]*' AND version NOT GLOB '*[^0-9]*'", (container_id.lower(),)).fetchone()
        return (latest[0] if latest else None), str((top[0] or 0) + 1)

    # ---- writes (callers pass the connection of their transaction)

    def upsert(self, conn: sqlite3.Connection, id: str, kind: str, parent: str, name: str, body: dict,
               *, version: str | None = None, archived: bool = False,
               created_at: str | None = None) -> Record:
        """Insert or replace one resource, keeping its creation time and order when it exists."""
        now = utcnow()
        text = json.dumps(body, sort_keys=True)
        updated = conn.execute(
            "UPDATE resources SET id = ?, body = ?, modified_at = ?, archived = ? WHERE key = ?",
            (id, text, now, int(archived), id.lower())).rowcount
        if not updated:
            conn.execute(
                "INSERT INTO resources (key, id, kind, parent, name, version, body, created_at, modified_at,"
                " archived) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (id.lower(), id, kind, parent.lower(), name, version, text, created_at or now, now,
                 int(archived)))
        return self.get(id, conn)  # type: ignore[return-value]

    def add_next_version(self, container_id: str, kind: str, name: str, build) -> Record:
        """Create the next integer version of a container atomically; `build(version)` -> (id, body)."""
        with self.transaction() as conn:
            _, version = self.latest_and_next_version(container_id, conn)
            id, body = build(version)
            return self.upsert(conn, id, kind, container_id, name, body, version=version)

    def delete(self, conn: sqlite3.Connection, id: str) -> bool:
        """Delete a resource and everything under it (a container's versions)."""
        key = id.lower()
        conn.execute("DELETE FROM resources WHERE parent = ?", (key,))
        return conn.execute("DELETE FROM resources WHERE key = ?", (key,)).rowcount > 0

    # ---- settings and long-running operations

    def setting(self, name: str, make) -> str:
        """A per-workspace value, created by `make()` on first use and then fixed."""
        row = self._connection().execute("SELECT value FROM settings WHERE key = ?", (name,)).fetchone()
        if row:
            return row[0]
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (name,)).fetchone()
            if row:
                return row[0]
            value = make()
            conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)", (name, value))
            return value

    def secret(self) -> bytes:
        """The workspace's random key for signing SAS tokens."""
        return bytes.fromhex(self.setting("sas-signing-key", lambda: secrets.token_bytes(32).hex()))

    def record_operation(self, conn: sqlite3.Connection, op_id: str, resource_id: str,
                         status: str = "Succeeded") -> None:
        now = utcnow()
        conn.execute("INSERT INTO operations (id, status, resource_id, started_at, ended_at) VALUES"
                     " (?, ?, ?, ?, ?)", (op_id, status, resource_id, now,
                                          None if status == "InProgress" else now))

    def operation(self, op_id: str) -> dict | None:
        row = self._connection().execute("SELECT * FROM operations WHERE id = ?", (op_id,)).fetchone()
        return dict(row) if row else None


def open_store(home: Path, workspace: str) -> Store:
    """The store of workspace `workspace` under ML_HOME `home`, created on first use."""
    return Store(Path(home) / "workspaces" / workspace / "workspace.db")
