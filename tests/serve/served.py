"""`ml local serve` as a test fixture: a real subprocess on an ephemeral 127.0.0.1 port, stopped with SIGINT."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    process: subprocess.Popen
    port: int
    env: dict = field(default_factory=dict)  # what `--print-env` printed
    stderr_path: Path | None = None

    def client_env(self) -> dict:
        """The test's environment plus the printed variables, as a client's shell would have it."""
        return {**os.environ, **self.env}

    def log(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path else ""

    def stop(self) -> int:
        """Ctrl-C, and the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                return self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return self.process.returncode


def start(workspace: str, tmp: Path, *extra: str, env: dict | None = None, cwd: Path | None = None) -> Served:
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    stderr_path = tmp / f"serve-{workspace}.stderr"
    with open(stderr_path, "w") as err:
        process = subprocess.Popen([sys.executable, "-m", "cli", *extra, "local", "serve", "-w", workspace, "--port", "0"],
                                   env=full_env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 60
    while True:
        found = re.search(r"127\.0\.0\.1:(\d+)", stderr_path.read_text())
        if found:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"ml local serve did not start: {stderr_path.read_text()}")
        time.sleep(0.05)
    served = Served(process, int(found.group(1)), stderr_path=stderr_path)
    printed = subprocess.run([sys.executable, "-m", "cli", "local", "serve", "-w", workspace, "--port", str(served.port),
                              "--print-env"], env=full_env, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    for line in printed.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        served.env[name] = shlex.split(value)[0] if value else ""
    return served
