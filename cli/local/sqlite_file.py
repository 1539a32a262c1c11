"""Opening the local workspace's SQLite files so that nothing is ever silently started afresh.

SQLite takes a 0-byte file for a new, empty database, and a missing file is simply created. For a
store of records that is data loss: a workspace whose database was emptied, truncated or removed
would come back empty with exit 0. So:
- a database is created only when it is meant to be new, atomically (built beside it under a
  temporary name, then hard-linked into place), so an existing name is always a whole database;
- an existing file is checked before SQLite sees it: its header, and its size against the page
  count the header records (a truncated copy); a damaged one is reported (exit 9), left untouched;
- a database in a folder we cannot write is opened read-only, so reads still work.
Errors never advise discarding anything: the file may be the user's only copy.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from cli.errors import LocalWorkspaceError
from cli.local.private import FILE_MODE

MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
TEMP_SUFFIX = ".new"
KEEP_IT = ("ml has not changed it; restore the file from a backup, or set ML_HOME to another folder"
           " to work elsewhere meanwhile")


def damaged(path: Path, what: str, detail: str) -> LocalWorkspaceError:
    """The one error for a database we will not use: exit 9, with what to do."""
    return LocalWorkspaceError(f"{what} {path} {detail}", hint=KEEP_IT)


def is_temporary(name: str) -> bool:
    """Whether `name` is a database being built by `create` (not yet a database of anyone's)."""
    # with its journal, WAL and shared-memory files: another process sees them while the database is
    # being built (SQLite writes a rollback journal before `journal_mode = WAL` takes effect)
    return name.startswith(".") and name.endswith(tuple(TEMP_SUFFIX + extra for extra in ("", "-journal", "-wal", "-shm")))


def _header_problem(path: Path) -> str | None:
    size = path.stat().st_size
    if size == 0:
        return "is empty (0 bytes)"
    with open(path, "rb") as handle:
        header = handle.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
        return "is not a SQLite database (its header is missing or damaged)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return "is damaged (its page size is invalid)"
    if size % page_size:
        return f"is truncated ({size} bytes is not a whole number of {page_size}-byte pages)"
    pages = int.from_bytes(header[28:32], "big")
    counter_valid = header[24:28] == header[92:96]  # the in-header page count is valid only then
    if counter_valid and pages * page_size > size:
        return f"is truncated ({size} bytes, its header records {pages * page_size})"
    return None


def check(path: Path, what: str) -> None:
    """Raise exit 9 unless `path` looks like a whole SQLite database."""
    for attempt in range(3):
        try:
            problem = _header_problem(path)
        except FileNotFoundError:
            raise damaged(path, what, "is missing") from None
        except OSError as exc:
            raise LocalWorkspaceError(f"cannot read {what} {path}: {exc.strerror}") from None
        if problem is None:
            return
        if not problem.startswith("is truncated") or attempt == 2:
            raise damaged(path, what, problem)
        time.sleep(0.1)  # a checkpoint may be extending the file right now: look again


def create(path: Path, initialize: Callable[[sqlite3.Connection], None]) -> None:
    """Create the database `path` whole: `initialize(conn)` builds it under a temporary name first.

    When another process creates it at the same time, its database is kept and ours discarded."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    try:
        conn = sqlite3.connect(temp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            initialize(conn)
        finally:
            conn.close()
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process made it first; theirs is as good as ours
        except OSError:  # no hard links on this file system: rename, without replacing
            if not path.exists():
                os.replace(temp, path)
    finally:
        for leftover in (temp, Path(f"{temp}-wal"), Path(f"{temp}-shm")):
            try:
                leftover.unlink()
            except FileNotFoundError:
                pass


def writable(path: Path) -> bool:
    """Whether we may write the database and create its -wal/-shm files beside it."""
    return os.access(path.parent, os.W_OK) and os.access(path, os.W_OK)


def connect(path: Path, *, read_only: bool, timeout: float, check_same_thread: bool = True
            ) -> sqlite3.Connection:
    """A connection in autocommit mode (we BEGIN ourselves); read-only ones never write anything."""
    if not read_only:
        return sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=check_same_thread)
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None,
                           check_same_thread=check_same_thread)
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.OperationalError:
        # WAL needs a -shm file it cannot create in a read-only folder: nobody can write here
        # either, so the file cannot change under us.
        conn.close()
        conn = sqlite3.connect(uri.replace("mode=ro", "immutable=1"), uri=True, timeout=timeout,
                               isolation_level=None, check_same_thread=check_same_thread)
    return conn


def is_read_only_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "read only" in text
