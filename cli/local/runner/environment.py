"""The Python a job runs in: the current one, or a venv built from its environment's pip dependencies.

A venv is built once per content hash (the requirements text and this Python's version) under
`$ML_HOME/envs/<hash>`, under a file lock so concurrent jobs build it once. `uv` is used when installed, else `python -m venv` and pip.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cli.local.runner.errors import JobError


@dataclass
class PythonEnvironment:
    bin_dir: Path
    notices: list[str] = field(default_factory=list)
    venv: Path | None = None
    build_log: Path | None = None

    def apply(self, env: dict[str, str]) -> dict[str, str]:
        env = {**env, "PATH": f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"}
        env.pop("PYTHONHOME", None)
        if self.venv:
            env["VIRTUAL_ENV"] = str(self.venv)
            env.pop("PYTHONPATH", None)  # isolation: nothing from the caller's environment
        return env


def current(*notices: str) -> PythonEnvironment:
    return PythonEnvironment(Path(sys.executable).parent, list(notices))


def requirements(service, environment_id: str | None) -> tuple[str | None, list[str]]:
    """(pip requirements text or None for the current Python, notices) of a job's environment."""
    if not environment_id:
        return None, []
    if environment_id.startswith("azureml://registries/") or "/registries/" in environment_id \
            or not environment_id.lower().startswith(service.workspace_id.lower()):
        return None, [f"environment {environment_id}: curated and registry environments run in the"
                      f" current Python ({sys.prefix})"]
    record = service.store.get(environment_id)
    if record is None:
        raise JobError(f"environment '{environment_id}' was not found in this workspace")
    props, notices = record.body["properties"], []
    if props.get("condaFile"):
        import yaml

        conda = yaml.safe_load(props["condaFile"]) or {}
        pip, others = [], []
        for dep in conda.get("dependencies") or ():
            if isinstance(dep, dict):
                pip.extend(str(p) for p in dep.get("pip") or ())
            elif not str(dep).startswith(("python", "pip")):
                others.append(str(dep))
        if others:
            notices.append(f"conda packages are not installed locally (no conda): {', '.join(others)}")
        return "\n".join(pip) + "\n", notices
    build = props.get("build") or {}
    if build.get("contextUri"):
        from cli.local.runner.data import DataResolver

        context = DataResolver(service).local_path(build["contextUri"])
        found = context / "requirements.txt"
        notices.append(f"the Dockerfile of {record.name} is not built locally; its requirements.txt is"
                       if found.is_file() else f"the Docker build context of {record.name} is not built"
                       " locally and has no requirements.txt: using the current Python")
        return (found.read_text(), notices) if found.is_file() else (None, notices)
    return None, [f"environment {record.name}: image {props.get('image')} is not pulled locally; using the"
                  f" current Python ({sys.prefix})"]


def prepare(service, environment_id: str | None, home: Path) -> PythonEnvironment:
    text, notices = requirements(service, environment_id)
    if text is None:
        return current(*notices)
    version = ".".join(map(str, sys.version_info[:3]))
    digest = hashlib.sha256(f"{sys.executable}\n{version}\n{text}".encode()).hexdigest()[:32]
    envs = Path(home) / "envs"
    venv = envs / digest
    envs.mkdir(parents=True, exist_ok=True)
    with open(envs / f"{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build per hash; the others wait and reuse it
        if not (venv / "build.log").exists():
            _build(venv, text)
            notices.append(f"built environment {venv}")
        else:
            notices.append(f"reusing environment {venv}")
    return PythonEnvironment(venv / "bin", notices, venv, venv / "build.log")


def _build(venv: Path, text: str) -> None:
    # Built in place (venv scripts hard-code their folder); `build.log` appears only when the build
    # is complete, so a half-built folder left by a killed runner is removed and built again.
    shutil.rmtree(venv, ignore_errors=True)
    venv.mkdir(parents=True)
    (venv / "requirements.txt").write_text(text)
    wanted = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    python = str(venv / "bin" / "python")
    uv = shutil.which("uv")
    if uv:
        steps = [[uv, "venv", "--allow-existing", "--python", sys.executable, str(venv)]]
        if wanted:
            steps.append([uv, "pip", "install", "--python", python, "-r", str(venv / "requirements.txt")])
    else:
        steps = [[sys.executable, "-m", "venv", *([] if wanted else ["--without-pip"]), str(venv)]]
        if wanted:
            steps.append([python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                          "-r", str(venv / "requirements.txt")])
    partial = venv / "build.log.partial"
    with open(partial, "ab") as log:
        for step in steps:
            log.write(f"$ {' '.join(step)}\n".encode())
            log.flush()
            code = subprocess.call(step, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            if code != 0:
                failed = venv.with_name(f"{venv.name}.failed.log")
                shutil.copy(partial, failed)
                shutil.rmtree(venv, ignore_errors=True)
                raise JobError(f"building the environment failed (exit code {code}); build log: {failed}",
                               failed)
    partial.rename(venv / "build.log")
