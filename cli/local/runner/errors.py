"""The one error a runner step raises: the job fails with its message as the reason."""

from __future__ import annotations

from pathlib import Path


class JobError(Exception):
    """The job cannot run or failed; str(self) is the reason recorded on it, `log` the log to quote."""

    def __init__(self, reason: str, log: Path | None = None):
        super().__init__(reason)
        self.log = log
