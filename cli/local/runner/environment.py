"""The Python a job runs in: always its environment's own venv, never ml's interpreter.

The environment id in the job body names a workspace environment version (its record gives `condaFile`,
`image`, `build`), or a curated one (`azureml:AzureML-sklearn-1.5@latest`, `azureml://registries/azureml/
environments/sklearn-1.5/...`) built from its published definition. cli/local/environments does the rest.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from cli.local.environments import builder, curated
from cli.local.environments.definition import Definition
from cli.local.environments.sources import build_context, conda_file, python_of_image
from cli.local.runner.errors import JobError


@dataclass
class PythonEnvironment:
    bin_dir: Path
    notices: list[str] = field(default_factory=list)
    venv: Path | None = None
    build_log: Path | None = None

    def apply(self, env: dict[str, str]) -> dict[str, str]:
        """The job's process environment: this venv first on PATH, nothing of ml's own Python."""
        path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p not in _own_bin_dirs()]
        env = {**env, "PATH": os.pathsep.join([str(self.bin_dir), *path])}
        for name in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONEXECUTABLE", "__PYVENV_LAUNCHER__"):
            env.pop(name, None)
        if self.venv:
            env["VIRTUAL_ENV"] = str(self.venv)
        return env


def _own_bin_dirs() -> set[str]:
    """ml's venv's bin folder (its `pip`, `python`): a job must not reach it through PATH."""
    if sys.prefix == sys.base_prefix:
        return set()  # a system Python: its folder is /usr/bin, which the job needs
    return {str(Path(sys.prefix) / "bin"), str(Path(sys.executable).parent)}


def definition(service, environment_id: str | None) -> Definition:
    """What the job's environment asks for."""
    if not environment_id:
        return Definition("(no environment)").finish()
    record = service.store.get(environment_id) if environment_id.startswith("/subscriptions/") else None
    if record is None:
        try:
            name = curated.curated_name(environment_id)
            if name:
                return curated.definition(name)
        except curated.UnknownEnvironment as error:
            raise JobError(str(error)) from None
        short = environment_id.rsplit("/environments/", 1)[-1].replace("/versions/", ":")
        raise JobError(f"environment '{short}' does not exist in this workspace; list them with"
                       " `ml environment list`")
    return _from_record(service, record)


def _from_record(service, record) -> Definition:
    props = record.body.get("properties") or {}
    label = f"{record.name}:{record.version}" if record.version else record.name
    result = Definition(label)
    image = props.get("image")
    build = props.get("build") or {}
    if build.get("contextUri"):
        from cli.local.runner.data import DataResolver

        context = DataResolver(service).local_path(build["contextUri"])
        if not context.is_dir():
            raise JobError(f"the build context of environment {label} is missing: {build['contextUri']}")
        build_context(result, context, build.get("dockerfilePath"))
    elif props.get("condaFile"):
        result.python = python_of_image(image)
        try:
            conda_file(result, props["condaFile"])
        except ValueError as error:
            raise JobError(str(error)) from None
        if image:
            result.notices.append(f"image {image} is not pulled locally (no Docker): the conda file is installed"
                                  " in a venv instead")
    elif image:
        result.python = python_of_image(image)
        result.notices.append(f"image {image} is not pulled locally (no Docker): the job runs in a plain venv")
    return result.finish()


def prepare(service, environment_id: str | None, home: Path,
            progress: Callable[[str], None] | None = None) -> PythonEnvironment:
    """The job's own venv, built now if no job built it before; `progress` receives a line while building."""
    wanted = definition(service, environment_id)
    root = builder.environments_root(home)
    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        built = builder.ensure(wanted, root, say)
    except builder.BuildError as error:
        raise JobError(str(error), error.log) from None
    notices = wanted.notices + built.notices
    notices.append(f"{'built' if built.built_now else 'reusing'} environment {wanted.label}"
                   f" (Python {built.python}): {built.venv}")
    return PythonEnvironment(built.venv / "bin", notices, built.venv, built.build_log)
