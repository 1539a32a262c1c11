"""A byte progress bar on stderr for long uploads; silent whenever nobody is watching."""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

SHOW_ABOVE = 5 * 1000 * 1000  # bytes; smaller uploads finish before a bar is worth drawing


def wanted(total_bytes: int, enabled: bool = True) -> bool:
    """A bar only for big uploads, on a terminal, and only when `enabled` (the client's `progress`)."""
    if total_bytes <= SHOW_ABOVE or not enabled:
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def byte_progress(total_bytes: int, description: str, *, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yields `advance(n)`, safe to call from any thread; draws a bar only when `wanted`."""
    if not wanted(total_bytes, enabled):
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)

    console = Console(file=sys.stderr)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    lock = threading.Lock()
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total_bytes)

        def advance(n: int) -> None:
            with lock:
                bar.advance(task, n)

        yield advance
