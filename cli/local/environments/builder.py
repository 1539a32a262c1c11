"""One venv per environment Definition, built once and shared by jobs.

`<root>/<digest>/` holds the venv; `<root>/<digest>/ml-ready.json` is written last, so a venv without
it is half-built (a killed runner) and is built again. Builds take `<root>/<digest>.lock`: jobs that
need the same environment at once wait for one build. A failed build removes the venv and keeps its
log as `<root>/<digest>.failed.log`.

The installer is uv (measured: benchmarks/environments.py), `python -m venv` + pip where uv is
missing or ML_ENV_INSTALLER=pip. Pins with no wheel for the chosen Python are relaxed (named in one
line) rather than built from source; offline, the first package that cannot be fetched is one line.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from cli.local.environments.definition import Definition, requirement_name

READY = "ml-ready.json"
HTTP_TIMEOUT_SECONDS = "20"  # per request; uv's default (30 s) times 3 retries is a long hang offline
HTTP_RETRIES = "1"
MAX_ATTEMPTS = 6  # relaxing pins, dropping unknown conda names: each retry resolves again
NETWORK = (r"(dns error|failed to lookup address|Could not connect|Connection refused|error sending request"
                     r"|operation timed out|timed out|Network is unreachable|Failed to fetch|NewConnectionError"
                     r"|Temporary failure in name resolution|No route to host)")  # compiled when a build fails


class BuildError(Exception):
    """The environment could not be built: str() is one line, `log` the installer's whole output."""

    def __init__(self, message: str, log: Path | None = None):
        super().__init__(message)
        self.log = log


@dataclass
class BuiltEnvironment:
    venv: Path
    python: str  # "3.10"
    notices: list[str] = field(default_factory=list)
    built_now: bool = False

    @property
    def build_log(self) -> Path:
        return self.venv / "build.log"


def environments_root(home: Path) -> Path:
    """Where built venvs live: $ML_ENVIRONMENTS_DIR (to share them between ML_HOMEs), else $ML_HOME/envs."""
    return Path(os.environ.get("ML_ENVIRONMENTS_DIR") or Path(home) / "envs").absolute()  # relative: to ml's cwd


def cached(definition: Definition, root: Path) -> BuiltEnvironment | None:
    """The built venv of `definition`, if there is one: a file read, no lock, no process."""
    venv = root / definition.digest()
    try:
        record = json.loads((venv / READY).read_text())
    except (OSError, ValueError):
        return None
    if not (venv / "bin" / "python").exists():  # its base interpreter was removed: build again
        return None
    return BuiltEnvironment(venv, record.get("python", "?"), list(record.get("notices") or []))


def ensure(definition: Definition, root: Path, progress: Callable[[str], None]) -> BuiltEnvironment:
    """The venv of `definition`, built now if needed (once, whoever else asks at the same time)."""
    found = cached(definition, root)
    if found:
        return found
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = definition.digest()
    with open(root / f"{digest}.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"waiting for environment {definition.label}: another job is building it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        found = cached(definition, root)  # built by the job we waited for
        if found:
            return found
        venv = root / digest
        shutil.rmtree(venv, ignore_errors=True)  # half-built by a runner that was killed
        try:
            python, notices = _build(definition, venv, progress)
        except BaseException:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        partial = venv / f"{READY}.partial"
        partial.write_text(json.dumps({"label": definition.label, "python": python, "notices": notices,
                                       "requirements": definition.requirements}))
        partial.rename(venv / READY)
        (root / f"{digest}.failed.log").unlink(missing_ok=True)
        return BuiltEnvironment(venv, python, notices, built_now=True)


def _build(definition: Definition, venv: Path, progress: Callable[[str], None]) -> tuple[str, list[str]]:
    """Creates and fills the venv; (its Python version, notices about what differs from the definition)."""
    from cli.local.environments import pythons  # only a build looks for interpreters

    interpreter, warning = pythons.choose(definition.python)
    notices = [warning] if warning else []
    installer = Installer.pick()
    count = len(definition.requirements)
    progress(f"building environment {definition.label}: Python {interpreter.label}, {count} package"
             f"{'' if count == 1 else 's'}, with {installer.name} (once; later jobs reuse it)")
    venv.mkdir(parents=True)
    log_path = venv / "build.log"
    requirements = list(definition.requirements)
    with open(log_path, "ab") as log:
        installer.create(venv, interpreter, log)
        relaxed, dropped = [], []
        for _ in range(MAX_ATTEMPTS):
            (venv / "requirements.txt").write_text("\n".join(definition.options + requirements) + "\n")
            if not requirements:
                break
            code, output = installer.install(venv, requirements, log)
            if code == 0:
                break
            no_wheel = _mentioned(output, requirements, pinned_only=True) if installer.no_wheel(output) else []
            unknown = [r for r in _mentioned(output, requirements) if requirement_name(r) in definition.from_conda] \
                if installer.not_found(output) else []
            if not no_wheel and not unknown:
                raise _failure(definition, venv, output, code)
            relaxed += no_wheel
            dropped += [requirement_name(r) for r in unknown]
            requirements = [_unpinned(r) if r in no_wheel else r for r in requirements if r not in unknown]
        else:
            raise _failure(definition, venv, output, code)
    if relaxed:
        notices.append(f"relaxed pins that have no wheel for Python {interpreter.label}: {', '.join(relaxed)}")
    if dropped:
        notices.append(f"warning: conda packages not found on PyPI, not installed: {', '.join(dropped)}")
    return interpreter.label, notices


def _mentioned(output: str, requirements: list[str], pinned_only: bool = False) -> list[str]:
    """The requirements the installer's error names (only version-pinned ones when `pinned_only`)."""
    text = output.lower().replace("_", "-")
    found = []
    for requirement in requirements:
        name = requirement_name(requirement)
        if name is None or (pinned_only and requirement.strip().lower().replace("_", "-") == name):
            continue
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
            found.append(requirement)
    return found


def _unpinned(requirement: str) -> str:
    found = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?)", requirement)
    marker = requirement.split(";", 1)[1] if ";" in requirement else ""
    return found.group(1) + (f"; {marker.strip()}" if marker else "")


def _failure(definition: Definition, venv: Path, output: str, code: int) -> BuildError:
    failed = venv.with_name(f"{venv.name}.failed.log")
    shutil.copy(venv / "build.log", failed)
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    network = next((line for line in lines if re.search(NETWORK, line, re.I)), None)
    if network:
        return BuildError(f"building environment {definition.label} needs packages that could not be fetched"
                          f" (offline?): {network[:300]}", failed)
    last = " | ".join(lines[-4:])[:600] or f"exit code {code}"
    return BuildError(f"building environment {definition.label} failed: {last}", failed)


class Installer:
    name = "uv"

    def __init__(self, binary: str):
        self.binary = binary

    @staticmethod
    def pick() -> "Installer":
        if os.environ.get("ML_ENV_INSTALLER", "uv") != "pip":
            binary = _uv_binary()
            if binary:
                return Installer(binary)
        return PipInstaller("pip")

    def environment(self) -> dict[str, str]:
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
        env.setdefault("UV_HTTP_TIMEOUT", HTTP_TIMEOUT_SECONDS)
        env.setdefault("UV_HTTP_RETRIES", HTTP_RETRIES)
        env.pop("VIRTUAL_ENV", None)
        return env

    def create(self, venv: Path, interpreter, log) -> None:
        """A venv with pip in it, as every Azure ML environment has (a job may `pip install`)."""
        command = [self.binary, "venv", "--quiet", "--allow-existing", "--python", str(interpreter.path), str(venv)]
        code, output = _run([*command, "--seed"], log, self.environment())
        if code != 0 and re.search(NETWORK, output, re.I):  # offline, no pip in uv's cache: the interpreter's own
            code, output = _run(command, log, self.environment())
            if code == 0:
                code, output = _run([str(venv / "bin" / "python"), "-m", "ensurepip", "--default-pip"], log,
                                    dict(os.environ))
        if code != 0:
            raise BuildError(f"creating a venv of Python {interpreter.label} failed: {output.strip()[-300:]}")

    def install(self, venv: Path, requirements: list[str], log) -> tuple[int, str]:
        pinned = sorted({requirement_name(r) for r in requirements if requirement_name(r)
                         and r.strip().lower() != requirement_name(r)})
        command = [self.binary, "pip", "install", "--python", str(venv / "bin" / "python"),
                   "-r", str(venv / "requirements.txt")]
        if pinned:  # a pin with no wheel for this Python is relaxed, not built from source
            command += ["--only-binary", ",".join(pinned)]
        return _run(command, log, self.environment())

    @staticmethod
    def no_wheel(output: str) -> bool:
        return "no usable wheels" in output or "no wheels with a matching" in output or "Wheels are required" in output

    @staticmethod
    def not_found(output: str) -> bool:
        return "not found in the package registry" in output or "was not found in the package registry" in output


class PipInstaller(Installer):
    name = "pip"

    def create(self, venv: Path, interpreter, log) -> None:
        code, output = _run([str(interpreter.path), "-m", "venv", str(venv)], log, dict(os.environ))
        if code != 0:
            raise BuildError(f"creating a venv of Python {interpreter.label} failed: {output.strip()[-300:]}")

    def install(self, venv: Path, requirements: list[str], log) -> tuple[int, str]:
        pinned = sorted({requirement_name(r) for r in requirements if requirement_name(r)
                         and r.strip().lower() != requirement_name(r)})
        command = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                   "--timeout", HTTP_TIMEOUT_SECONDS, "--retries", HTTP_RETRIES, "-r", str(venv / "requirements.txt")]
        if pinned:
            command += ["--only-binary", ",".join(pinned)]
        return _run(command, log, {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})

    @staticmethod
    def no_wheel(output: str) -> bool:
        return "Could not find a version that satisfies" in output or "No matching distribution" in output

    @staticmethod
    def not_found(output: str) -> bool:
        return "No matching distribution found" in output


def _uv_binary() -> str | None:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _run(command: list[str], log, env: dict[str, str]) -> tuple[int, str]:
    """Runs one installer step, appending its output to the build log; (exit code, its output)."""
    log.write(f"$ {' '.join(command)}\n".encode())
    log.flush()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          env=env)
    log.write(done.stdout)
    log.flush()
    return done.returncode, done.stdout.decode(errors="replace")
