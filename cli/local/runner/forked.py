"""Child job runners forked from their parent's runner, instead of started as new interpreters.

A pipeline step's runner is a normal runner (its own process, session, watchdog and log); what
differs is how it starts. `python -m cli.local.runner` spends about a second importing the
workspace service and the tracking server before a step can begin, and a 100-step chain would pay
it 100 times. A parent job's runner has all of that imported already (preload()), so it forks:
the child gets a new session, the runner's umask and log, and runs run.main as the new interpreter
would. The parent records the child's pid (runner.json) before letting it go on, over a pipe, so
nothing the child records is overwritten. The child ends with os._exit: it never runs the parent's
exit handlers nor touches the parent's database connections.

The fork itself, and the child opening its workspace, cost ~15 ms, so they are done ahead: after
each spawn the parent forks a spare child, which opens the workspace and waits on a pipe; the next
spawn writes the spare's pid to the job's runner.json, then hands it the job over the pipe (_Spare).

What every step's runner would compute the same way (routers, the environment filter, a curated
environment's definition) is computed in the parent before forking (preload, warm). A child's runner
writes a byte to its parent's news pipe when it records its outcome (its watchdog does when the runner
died), so the parent's wait (wait_for_news) ends at once; the parent reaps its children as it waits.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from pathlib import Path

_enabled = False
_in_runner = False  # only a runner process forks runners (never a CLI, a test or `ml local serve`)
# News of the children: a parent's runner waits on the read end of its pipe (wait_for_news); each
# child's runner it forked, and that runner's watchdog, write a byte to it when they record an
# outcome (tell_parent), so a pipeline's next step starts at once instead of at the next poll.
_news_read: int | None = None
_news_write: int | None = None
_parent_news: int | None = None  # in a forked runner: the write end of its parent's pipe
_unreaped: list[int] = []  # pids of the runners this process forked and has not reaped yet


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
    # what every step's runner would otherwise compute again, the same each time (~40 ms a step)
    from cli.local import service
    from cli.local.runner import job_env, launch
    from cli.local.tracking import server

    service.shared_router()
    server.shared_router()
    job_env.filtered(os.environ)
    launch.shell()
    _enabled = hasattr(os, "fork")


def warm(properties: dict) -> None:
    """Before forking a child's runner: read the child's curated environment definition here, once
    for all the children using it (reading it is ~15 ms, and each fork would do it again)."""
    from cli.local.environments import curated

    if not _enabled or not properties.get("environmentId"):
        return
    try:
        name = curated.curated_name(properties["environmentId"])
        if name:
            curated.definition(name)
    except curated.UnknownEnvironment:
        pass  # the child's runner says so


def enabled() -> bool:
    return _enabled


def _open_news() -> None:
    global _news_read, _news_write
    if _news_read is None:
        _news_read, _news_write = os.pipe()
        os.set_blocking(_news_read, False)
        os.set_blocking(_news_write, False)  # a full pipe already says "look": never block a child on it


def has_news() -> bool:
    """Whether children forked from this process wake it (wait_for_news)."""
    return _news_read is not None


def wait_for_news(timeout: float) -> bool:
    """Sleep until a forked child's runner (or its watchdog) recorded an outcome, or `timeout` s;
    True when woken by one. Without forked children: a plain sleep."""
    if _news_read is None:
        time.sleep(timeout)
        return False
    reap()
    ready, _, _ = select.select([_news_read], [], [], timeout)
    if ready:
        try:
            while os.read(_news_read, 4096):
                pass
        except BlockingIOError:
            pass
    return bool(ready)


def tell_parent() -> None:
    """In a forked runner (or its watchdog): wake the parent's runner waiting in wait_for_news."""
    if _parent_news is not None:
        try:
            os.write(_parent_news, b".")
        except OSError:  # full (the parent will look anyway) or the parent is gone
            pass


class _Spare:
    """A forked child waiting for the job it will run (over a pipe), its workspace already opened.

    Forking and opening the workspace cost a child ~15 ms before its runner can start; the spare pays
    it while the previous child runs, so a step whose inputs just appeared starts at once."""

    def __init__(self, home: Path, workspace: str):
        self.home, self.workspace = Path(home), workspace
        job_read, self._job_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:
            _spare_child(self.home, workspace, job_read, self._job_write)
        os.close(job_read)

    def assign(self, job: str) -> None:
        """Hand the spare its job: it goes on as that job's runner (its runner.json is written already)."""
        try:
            os.write(self._job_write, job.encode() + b"\n")
        finally:
            self.dismiss()

    def dismiss(self) -> None:
        """No job for it (or its job sent): its end of the pipe closes; without a job, it ends."""
        if self._job_write is not None:
            os.close(self._job_write)
            self._job_write = None


def _spare_child(home: Path, workspace: str, job_read: int, job_write: int) -> None:
    """The spare's side: get ready, wait for a job, run it as `run.main` would in a new interpreter."""
    from cli.local.private import PRIVATE_UMASK
    from cli.local.runner.state import JobFolder

    global _news_read, _news_write, _parent_news, _unreaped, _spare
    code = 1
    try:
        early: list[int] = []
        for sig in (signal.SIGTERM, signal.SIGINT):  # a cancel may come before run.main is ready
            signal.signal(sig, lambda signum, frame: early.append(signum))
        os.close(job_write)
        os.close(_news_read)  # this runner tells its parent through the write end; it waits on its own
        _parent_news, _news_read, _news_write, _spare = _news_write, None, None, None
        _unreaped = []  # its siblings are not its children
        os.setsid()
        os.umask(PRIVATE_UMASK)
        from cli.local.runner import watchdog
        from cli.local.service import LocalWorkspaceService

        service = LocalWorkspaceService(home, workspace)  # what every runner opens first
        watchdog.start(str(home), workspace)  # told its job with the runner (name_job)
        line = b""
        while not line.endswith(b"\n"):
            chunk = os.read(job_read, 256)
            if not chunk:  # dismissed, or the parent is gone
                service.store.close()
                code = 0
                return
            line += chunk
        os.close(job_read)
        job = line.decode().strip()
        folder = JobFolder.of(home, workspace, job)
        log = os.open(folder.runner_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(null)
        os.chdir(folder.root)
        from cli.local.runner.run import main

        watchdog.name_job(job)
        code = main([str(home), workspace, job], canceled_early=early, service=service)
    except BaseException:  # noqa: BLE001 - a forked child never returns into its parent's stack
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


_spare: _Spare | None = None


def spawn(home: Path, workspace: str, job: str) -> int:
    """Hand `job` to a spare child (forked now if none is ready) and fork the next spare; returns the
    job runner's pid once runner.json names it."""
    from cli.local.runner.state import JobFolder, process_start, write_info

    global _spare
    folder = JobFolder.of(home, workspace, job)
    folder.make()
    _open_news()
    reap()
    spare = _spare if _spare is not None and (_spare.home, _spare.workspace) == (Path(home), workspace) else None
    if spare is None:
        dismiss_spare()
        spare = _Spare(home, workspace)
    _spare = None
    _unreaped.append(spare.pid)
    try:
        write_info(folder, pid=spare.pid, start=process_start(spare.pid))
        spare.assign(job)
    except BrokenPipeError:  # the spare died before its job came: a child forked now takes it
        spare = _Spare(home, workspace)
        _unreaped.append(spare.pid)
        write_info(folder, pid=spare.pid, start=process_start(spare.pid))
        spare.assign(job)
    except BaseException:
        spare.dismiss()  # it ends without a job; the caller learns why
        raise
    _spare = _Spare(home, workspace)  # ready for the next child, while this one runs
    return spare.pid


def dismiss_spare() -> None:
    """End the spare child, if any (a parent's runner does when it ends)."""
    global _spare
    if _spare is not None:
        _spare.dismiss()
        _unreaped.append(_spare.pid)
        _spare = None


def reap() -> None:
    """Collect the exit status of the children's runners that have ended (a zombie reads as ended
    already, see state.process_start): done at each wait_for_news and spawn, not by a thread each."""
    for pid in list(_unreaped):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _unreaped.remove(pid)
