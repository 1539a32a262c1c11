"""The local workspace's SQLite store: resources keyed by ARM id, transactional, multi-process safe.

Every write runs in BEGIN IMMEDIATE, so concurrent `ml` processes serialise on the write lock
(waiting up to `busy_timeout`) instead of failing; WAL lets readers proceed meanwhile.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from cli.errors import LocalWorkspaceError
from cli.local import sqlite_file
from cli.local.private import private_folder

WHAT = "local workspace database"
log = logging.getLogger("ml.local.store")

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
    # The digest of each body as the service wrote it (after checking it): a body that no longer
    # matches its digest was changed behind the service's back and is checked again when read.
    """
    ALTER TABLE resources ADD COLUMN body_sha256 TEXT
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


class UnreadableRecord(ValueError):
    """A stored body that is not JSON, or not of its resource's contract shape (damaged by hand or on disk)."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _record(row: sqlite3.Row) -> Record:
    try:
        body = json.loads(row["body"])
    except (TypeError, ValueError) as exc:
        raise UnreadableRecord(f"its body is not JSON ({exc})") from None
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise UnreadableRecord("its body is not an object with a 'properties' object")
    if row["body_sha256"] != _digest(row["body"]):  # changed behind the service's back (or by an older ml)
        from cli.local.contract import problems, stored_definition

        definition = stored_definition(row["kind"])
        found = problems(definition, body, stored=True) if definition else []
        if found:  # what reads it (show, list, the runner) would break on it
            raise UnreadableRecord(f"{found[0][0]}: {found[0][1]}")
    return Record(row["id"], row["kind"], row["name"], row["version"], body,
                  row["created_at"], row["modified_at"], bool(row["archived"]))


def _reading(method):
    """Translate SQLite's errors on a read (a damaged page, a vanished file) into exit 9."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    return wrapper


class Store:
    """One workspace database. Thread-safe: each thread gets its own connection.

    `new_ok` False: a missing file is an error, not a new workspace (see cli.local.sqlite_file)."""

    def __init__(self, path: Path, *, new_ok: bool = True):
        self.path = Path(path)
        self._local = threading.local()
        self.read_only = False
        if not self.path.exists():
            if not new_ok:
                raise sqlite_file.damaged(self.path, WHAT, f"is missing, but its workspace folder"
                                          f" {self.path.parent} holds data")
            try:
                sqlite_file.create(self.path, self._initialize)
            except OSError as exc:
                raise LocalWorkspaceError(f"cannot create {WHAT} {self.path}: {exc.strerror}",
                                          hint="set ML_HOME to a writable folder") from None
        sqlite_file.check(self.path, WHAT)
        self.read_only = not sqlite_file.writable(self.path)
        try:
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> LocalWorkspaceError:
        if sqlite_file.is_read_only_error(exc):
            return self._read_only_error()
        if "locked" in str(exc).lower() or "busy" in str(exc).lower():
            return LocalWorkspaceError(f"{WHAT} {self.path} stayed locked by another process for"
                                       f" {BUSY_TIMEOUT_MS // 1000} s ({exc})")
        return sqlite_file.damaged(self.path, WHAT, f"is unreadable ({exc})")

    def _read_only_error(self) -> LocalWorkspaceError:
        return LocalWorkspaceError(f"the local workspace {self.path.parent} is read-only: this command"
                                   " needs to change it; reads (show, list) still work")

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite_file.connect(self.path, read_only=self.read_only, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not self.read_only:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database write lock from its first statement."""
        if self.read_only:
            raise self._read_only_error()
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            self._rollback(conn)
            raise self._error(exc) from None
        except BaseException:
            self._rollback(conn)
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback(conn)
            raise self._error(exc) from None

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.DatabaseError:  # the failure may have ended the transaction already
            pass

    @staticmethod
    def _initialize(conn: sqlite3.Connection) -> None:
        """Build a new database's schema (on its temporary file, before it takes its name)."""
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for script in MIGRATIONS:
            for statement in filter(str.strip, script.split(";")):
                conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        conn.execute("COMMIT")

    def _version(self, conn: sqlite3.Connection) -> int:
        try:
            row = conn.execute("SELECT version FROM schema_version").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
            row = None
        if row is None:  # every database ml creates has one from its first instant
            raise sqlite_file.damaged(self.path, WHAT, "is not an ml workspace database (no schema version)")
        return row[0]

    def _migrate(self) -> None:
        current = self._version(self._connection())
        if current > SCHEMA_VERSION:
            raise LocalWorkspaceError(
                f"{WHAT} {self.path} has schema version {current}, newer than "
                f"this ml understands ({SCHEMA_VERSION}); upgrade ml")
        if current == SCHEMA_VERSION:
            return
        if self.read_only:
            raise LocalWorkspaceError(f"{WHAT} {self.path} needs upgrading from schema version {current},"
                                      " but it is read-only")
        with self.transaction() as conn:
            current = self._version(conn)
            for script in MIGRATIONS[current:]:
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
            conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ---- reads (each a single statement: consistent without an explicit transaction)

    @_reading
    def get(self, id: str, conn: sqlite3.Connection | None = None) -> Record | None:
        row = (conn or self._connection()).execute(
            "SELECT * FROM resources WHERE key = ?", (id.lower(),)).fetchone()
        if not row:
            return None
        try:
            return _record(row)
        except UnreadableRecord as exc:
            raise LocalWorkspaceError(f"the stored record of {row['kind'].split('/')[0]} '{row['name']}'"
                                      f"{' version ' + row['version'] if row['version'] else ''} in {self.path}"
                                      f" is unreadable: {exc}") from None

    @_reading
    def list(self, kind: str, parent: str, archived: bool | None = False,
             where: tuple[str, str] | None = None) -> list[Record]:
        """Resources of one collection in creation order; `archived` None means both; `where`
        (a JSON path into the body, a value) keeps those whose body has that value there.

        A record that cannot be read is left out with a warning naming it: one damaged record
        must not hide all the others."""
        sql = "SELECT * FROM resources WHERE kind = ? AND parent = ?"
        args: list = [kind, parent.lower()]
        if archived is not None:
            sql += " AND archived = ?"
            args.append(int(archived))
        if where is not None:  # filtered by SQLite: the other bodies are never parsed here
            sql += " AND json_extract(body, ?) = ?"
            args.extend(where)
        records = []
        for row in self._connection().execute(sql + " ORDER BY rowid", args):
            try:
                records.append(_record(row))
            except UnreadableRecord as exc:
                warn_unreadable(row["kind"], row["name"], row["version"], str(exc))
        return records

    @_reading
    def json_values(self, ids: list[str], path: str) -> dict:
        """{lower-cased id: the value at JSON `path` in its body} for those of `ids` that exist, in one
        query per 500 (SQLite reads the bodies: a parent polling its 100 children parses none here)."""
        keys, found = [i.lower() for i in ids], {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = self._connection().execute(
                f"SELECT key, json_extract(body, ?) FROM resources WHERE key IN ({', '.join('?' * len(chunk))})",
                [path, *chunk])
            found.update((key, value) for key, value in rows)
        return found

    @_reading
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
            "UPDATE resources SET id = ?, body = ?, body_sha256 = ?, modified_at = ?, archived = ? WHERE key = ?",
            (id, text, _digest(text), now, int(archived), id.lower())).rowcount
        if not updated:
            conn.execute(
                "INSERT INTO resources (key, id, kind, parent, name, version, body, body_sha256, created_at,"
                " modified_at, archived) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (id.lower(), id, kind, parent.lower(), name, version, text, _digest(text), created_at or now, now,
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

    @_reading
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

    @_reading
    def operation(self, op_id: str) -> dict | None:
        row = self._connection().execute("SELECT * FROM operations WHERE id = ?", (op_id,)).fetchone()
        return dict(row) if row else None


def warn_unreadable(kind: str, name: str, version: str | None, why: str) -> None:
    """Report one stored record left out of a list (stderr; the runner's log in a runner)."""
    what = kind.split("/")[0].rstrip("s") if kind != "data/versions" else "data"
    log.warning("warning: skipped %s '%s'%s: its stored record is unreadable: %s", what, name,
                f" version {version}" if version else "", why)


def workspace_folder_holds_data(folder: Path) -> bool:
    """Whether a workspace folder has anything in it besides a database being created."""
    try:
        return any(not sqlite_file.is_temporary(entry.name) for entry in folder.iterdir())
    except FileNotFoundError:
        return False
    except NotADirectoryError:  # it, or ML_HOME above it, is a file
        raise LocalWorkspaceError(f"cannot use the local workspace folder {folder}: Not a directory",
                                  hint="set ML_HOME to a writable folder") from None


def open_store(home: Path, workspace: str) -> Store:
    """The store of workspace `workspace` under ML_HOME `home`, created on first use.

    ML_HOME and the workspace folder are made private (0700) whatever the umask; a folder that
    already holds data but no database is an error, never a new workspace."""
    home = Path(home)
    folder = home / "workspaces" / workspace
    new_ok = not workspace_folder_holds_data(folder)
    try:
        for path in (home, home / "workspaces", folder):
            private_folder(path)
    except OSError as exc:
        if new_ok:  # an existing workspace may still be read from a read-only ML_HOME
            raise LocalWorkspaceError(f"cannot create the local workspace folder {folder}: {exc.strerror}",
                                      hint="set ML_HOME to a writable folder") from None
    return Store(folder / "workspace.db", new_ok=new_ok)
