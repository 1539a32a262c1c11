"""One tracking server for all the child jobs of a parent job's runner (pipeline steps, sweep trials).

A job's runner serves the tracking API to its command (server.py). A parent's children are forks of
the parent's runner (runner/forked.py), and a server of their own cost each of them ~25 ms before its
command could start, mostly in the server's thread contending with the runner for the interpreter.
So a parent's runner starts one server, in a process of its own, before it forks its first child;
each child's runner creates its job's run in the store and hands its command the server's URL and a
token of its own job.

A token is `<job>.<HMAC-SHA256 of the job name>` under a secret that only this runner and its forks
hold (in memory): the server derives the job from the token and limits the caller to that job's runs
(scope.RunScope), as a job's own server does. The server is a new interpreter (see SharedTracking),
on a socket the runner bound to 127.0.0.1. It lives while anyone holds its lifeline: the parent's
runner and the children's runners it forked; it ends when the last of them is gone.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import signal
import socket
import sys
from pathlib import Path

from cli.local.serving import BACKLOG, LOOPBACK


class JobTokens:
    """Tokens that each name one job, signed with one secret."""

    def __init__(self, secret: bytes | None = None):
        self._secret = secret or secrets.token_bytes(32)

    def _mac(self, job: str) -> str:
        return hmac.new(self._secret, job.encode(), hashlib.sha256).hexdigest()

    def token_for(self, job: str) -> str:
        return f"{job}.{self._mac(job)}"

    def job_of(self, token: str) -> str | None:
        """The job a token names, or None when it was not signed with this secret."""
        job, dot, mac = token.rpartition(".")
        if not dot or not job or not hmac.compare_digest(mac.encode(), self._mac(job).encode()):
            return None
        return job


class SharedTracking:
    """The server process: `url`, `token_for(job)`, and `release()` (the owner lets go of its lifeline)."""

    def __init__(self, workspace_dir: Path):
        import subprocess

        from cli.local import interpreter

        secret = secrets.token_bytes(32)
        self.tokens = JobTokens(secret)
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listening.bind((LOOPBACK, 0))
        listening.listen(BACKLOG)  # requests wait in the backlog until the server's loop runs
        self.url = f"http://{LOOPBACK}:{listening.getsockname()[1]}"
        lifeline, self._lifeline = os.pipe()
        # a new interpreter, not a fork: a fork would share this runner's SQLite state (its open files'
        # locks), which SQLite forbids carrying into another process; ~0.3 s once per parent job. In a
        # session of its own: a cancel signals the parent's process group, and the children being
        # canceled still log their last metrics; the lifeline ends it.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.local.tracking.shared", str(workspace_dir), str(listening.fileno()),
             str(lifeline)], stdin=subprocess.PIPE, pass_fds=(listening.fileno(), lifeline),
            env=interpreter.environment(), cwd=workspace_dir, start_new_session=True)
        os.close(lifeline)
        listening.close()  # the server's now; children forked later do not hold the port
        self.process.stdin.write(secret.hex().encode() + b"\n")  # never on its command line or environment
        self.process.stdin.close()
        self.owner = os.getpid()

    def token_for(self, job: str) -> str:
        return self.tokens.token_for(job)

    def release(self) -> None:
        """In the runner that started it: let go of the lifeline (children still going keep it)."""
        if os.getpid() == self.owner and self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None
            self.process.poll()


def main(argv: list[str]) -> int:
    """The server process (`python -m cli.local.tracking.shared WORKSPACE_DIR SOCKET_FD LIFELINE_FD`,
    the secret on stdin): serve until the lifeline's last writer is gone."""
    from cli.local.serving import Served
    from cli.local.tracking.server import TrackingServer
    from cli.local.tracking.store import TrackingStore

    workspace_dir, listening_fd, lifeline = Path(argv[0]), int(argv[1]), int(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tokens = JobTokens(bytes.fromhex(sys.stdin.readline().strip()))
    listening = socket.socket(fileno=listening_fd)
    server = TrackingServer(TrackingStore(workspace_dir), tokens=tokens)
    served = Served(server.app, name="mlflow-tracking-children", listening=listening).start(wait=False)
    try:
        while os.read(lifeline, 1):  # EOF: no runner holds the lifeline any more
            pass
    finally:
        served.close()
        server.store.close()
    return 0


_current: SharedTracking | None = None


def start(workspace_dir: Path) -> SharedTracking | None:
    """In a parent's runner, before its first fork: the children's server (inherited by the forks)."""
    global _current
    if _current is None and hasattr(os, "fork"):
        _current = SharedTracking(workspace_dir)
    return _current


def current() -> SharedTracking | None:
    """The server this runner's parent (or an ancestor) started for its children, if any."""
    return _current


def release() -> None:
    if _current is not None:
        _current.release()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
