"""Child job runners forked from their parent's runner, instead of started as new interpreters.

A pipeline step's runner is a normal runner (its own process, session, watchdog and log); what
differs is how it starts. `python -m cli.local.runner` spends about a second importing the
workspace service and the tracking server before a step can begin, and a 100-step chain would pay
it 100 times. A parent job's runner has all of that imported already (preload()), so it forks:
the child gets a new session, the runner's umask and log, and runs run.main as the new interpreter
would. The parent records the child's pid (runner.json) before letting it go on, over a pipe, so
nothing the child records is overwritten. The child ends with os._exit: it never runs the parent's
exit handlers nor touches the parent's database connections.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

_enabled = False
_in_runner = False  # only a runner process forks runners (never a CLI, a test or `ml local serve`)


def mark_runner() -> None:
    """Called by run.main: this process is a job's runner."""
    global _in_runner
    _in_runner = True


def preload() -> None:
    """In a runner: import what a runner needs, then let spawn() fork runners from this process."""
    global _enabled
    if not _in_runner:
        return
    import uvicorn  # noqa: F401  the tracking server's toolkit, imported lazily otherwise
    import cli.local.app  # noqa: F401
    import cli.local.runner.run  # noqa: F401
    import cli.local.tracking.server  # noqa: F401

    # what uvicorn imports when a server first loads its config (protocols, loop): ~0.3 s otherwise
    uvicorn.Config(app=lambda scope, receive, send: None, log_level="error", lifespan="off").load()
    _enabled = hasattr(os, "fork")


def enabled() -> bool:
    return _enabled


def spawn(home: Path, workspace: str, job: str) -> int:
    """Fork the runner of `job`; returns its pid once runner.json names it."""
    from cli.local.private import PRIVATE_UMASK
    from cli.local.runner.state import JobFolder, process_start, write_info

    folder = JobFolder.of(home, workspace, job)
    folder.make()
    go_read, go_write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child runner
        code = 1
        try:
            early: list[int] = []
            for sig in (signal.SIGTERM, signal.SIGINT):  # a cancel may come before run.main is ready
                signal.signal(sig, lambda signum, frame: early.append(signum))
            os.close(go_write)
            os.setsid()
            os.umask(PRIVATE_UMASK)
            log = os.open(folder.runner_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(log)
            os.close(null)
            os.chdir(folder.root)
            os.read(go_read, 1)  # the parent has written runner.json
            os.close(go_read)
            from cli.local.runner.run import main
            from cli.local.runner.watchdog import start as start_watchdog

            start_watchdog(str(home), workspace, job)
            code = main([str(home), workspace, job], canceled_early=early)
        except BaseException:  # noqa: BLE001 - a forked child never returns into its parent's stack
            import traceback

            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    os.close(go_read)
    try:
        write_info(folder, pid=pid, start=process_start(pid))
    finally:
        os.write(go_write, b"1")
        os.close(go_write)
    threading.Thread(target=_reap, args=(pid,), daemon=True, name=f"reap-runner-{job}").start()
    return pid


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
