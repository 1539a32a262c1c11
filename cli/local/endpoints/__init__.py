"""Local online endpoints: one router process per endpoint, outliving the CLI, serving its scoring URI.

Layout under `$ML_HOME/workspaces/<ws>/endpoints/<endpoint>/`: `keys.json` (primary and secondary keys,
the token-signing secret; 0600), `router.json` (pid, port), `router.log`, and per deployment
`<deployment>/worker-<generation>-<i>.log`. The router (cli.local.endpoints.router) reads the endpoint and
its deployments from the workspace store and reconciles: it starts each deployment's workers in the
deployment environment's venv, replaces them (blue/green) when the deployment changes, restarts a crashed
one, and records provisioningState. The REST handlers only write the store and start/stop the router.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path


def folder(home: Path, workspace: str, endpoint: str) -> Path:
    return Path(home) / "workspaces" / workspace / "endpoints" / endpoint


def new_key() -> str:
    return secrets.token_urlsafe(32)


def read_keys(root: Path) -> dict:
    try:
        return json.loads((root / "keys.json").read_text())
    except (OSError, ValueError):
        return {}


def write_keys(root: Path, keys: dict) -> None:
    root.mkdir(parents=True, exist_ok=True)
    temp = root / "keys.json.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keys, handle)
    os.replace(temp, root / "keys.json")


def mark_routing_changed(root: Path) -> None:
    """Tell the router the endpoint's record changed (traffic, mirror, auth): it checks this file's identity
    on each request and reads the store at once, so an update is in force when the CLI returns."""
    root.mkdir(parents=True, exist_ok=True)
    temp = root / "routing.stamp.tmp"
    temp.write_text(str(time.time_ns()))
    os.replace(temp, root / "routing.stamp")


def router_info(root: Path) -> dict:
    try:
        return json.loads((root / "router.json").read_text())
    except (OSError, ValueError):
        return {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of this process counts as gone
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True


def ensure_router(home: Path, workspace: str, endpoint: str, port: int, timeout: float = 30.0) -> None:
    """Start the endpoint's router unless one runs; return once it listens on `port`."""
    import socket

    root = folder(home, workspace, endpoint)
    info = router_info(root)
    if info.get("pid") and _alive(int(info["pid"])):
        return
    root.mkdir(parents=True, exist_ok=True)
    package_root = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (package_root, os.environ.get("PYTHONPATH"))))}
    with open(root / "router.log", "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "cli.local.endpoints.router", str(home), workspace, endpoint,
                                    str(port)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, env=env, cwd=str(root))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (root / "router.log").read_text(errors="replace")[-800:]
            raise OSError(f"the router of endpoint '{endpoint}' exited at start: {tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise OSError(f"the router of endpoint '{endpoint}' did not listen on port {port} within {timeout:.0f} s")


def stop_router(home: Path, workspace: str, endpoint: str, timeout: float = 15.0) -> None:
    """SIGTERM the router (it stops its workers first), SIGKILL its group if it lingers."""
    info = router_info(folder(home, workspace, endpoint))
    pid = int(info.get("pid") or 0)
    if not pid or not _alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
