"""$ML_HOME is private whatever the umask: folders 0700, files 0600.

It holds datastore keys, SAS signing keys, compute passwords, job logs and data, so nothing in it is
for other local users. Three mechanisms, each where it fits:
- `private_folder` creates ML_HOME and the workspace folders 0700, and takes group/other bits off
  ones made by older versions (never adding bits: a folder made read-only on purpose stays so);
- `private_files()` holds umask 077 while the local service handles a request in the caller's
  process (reference-counted, so threads handling requests at once keep it until the last is done);
- job runners run with umask 077 from the start (runner.spawn), so logs, snapshots, outputs, venvs
  and the tracking database they write are private too.
SQLite gives a database's -wal and -shm files the database file's mode, so a 0600 database is enough.
"""

from __future__ import annotations

import os
import stat
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

PRIVATE_UMASK = 0o077
FOLDER_MODE = 0o700
FILE_MODE = 0o600

_lock = threading.Lock()
_depth = 0
_saved_umask = 0


def tighten(path: Path) -> None:
    """Take group and other permission bits off `path` when we own it; errors are left to the caller's use."""
    try:
        info = os.stat(path)
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
    except (OSError, AttributeError):  # read-only file system, not ours, no getuid (Windows)
        pass


def private_folder(path: Path) -> Path:
    """Create `path` (and missing parents) 0700, or tighten an existing one."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            pass
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode passes through the umask
    if not missing:
        tighten(path)
    return path


@contextmanager
def private_files() -> Iterator[None]:
    """Hold umask 077 for the duration: files made meanwhile are 0600, folders 0700."""
    global _depth, _saved_umask
    with _lock:
        if _depth == 0:
            _saved_umask = os.umask(PRIVATE_UMASK)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                os.umask(_saved_umask)
