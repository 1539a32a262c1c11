"""Reading what an environment asks for: conda files, requirements files, Dockerfiles, build contexts."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from cli.local.environments.definition import Definition

# pip options that take a value (the value is not a requirement)
PIP_VALUED = {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f",
              "--find-links", "-t", "--target", "--prefix", "--root", "--platform", "--python-version",
              "--implementation", "--abi", "--src", "--upgrade-strategy", "--progress-bar", "--cache-dir",
              "--log", "--timeout", "--retries", "--trusted-host", "--config-settings", "-C", "--global-option",
              "--only-binary", "--no-binary", "--python", "-e", "--editable"}
CONDA_VALUED = {"-p", "--prefix", "-n", "--name", "-c", "--channel", "-f", "--file", "--override-channels"}
CONDA_FILES = ("conda_dependencies.yaml", "conda_dependencies.yml", "conda.yaml", "conda.yml",
               "environment.yaml", "environment.yml")


def conda_file(definition: Definition, text: str, folder: Path | None = None) -> None:
    """A conda environment file: its Python version, conda packages (mapped to PyPI) and pip section."""
    import yaml

    try:
        conda = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"the conda file of {definition.label} is not valid YAML: {error}".splitlines()[0])
    for dep in (conda.get("dependencies") or []) if isinstance(conda, dict) else []:
        if isinstance(dep, dict):
            for line in dep.get("pip") or []:
                pip_line(definition, str(line), folder)
        elif dep is not None:
            definition.add_conda(str(dep))


def pip_line(definition: Definition, line: str, folder: Path | None) -> None:
    """One requirements line; `-r FILE` is read relative to `folder` when there is one."""
    stripped = line.strip()
    if stripped.startswith(("-r ", "--requirement ", "-r\t")):
        requirements_file(definition, stripped.split(None, 1)[1], folder)
    else:
        definition.add_pip(stripped)


def requirements_file(definition: Definition, name: str, folder: Path | None) -> None:
    path = (folder / name) if folder else None
    if path is None or not path.is_file():
        definition.notices.append(f"warning: requirements file {name} is not available locally: not installed")
        return
    for line in path.read_text(errors="replace").splitlines():
        pip_line(definition, line, path.parent)


def dockerfile(definition: Definition, text: str, context: Path | None) -> bool:
    """The Dockerfile's `pip install` and `conda install/create/env` steps (True if it has any); other
    instructions are named in one notice."""
    used: set[str] = set()
    others, any_step = [], False
    for instruction, argument in instructions(text):
        if instruction == "RUN":
            installed = False
            for segment in re.split(r"&&|\|\||;", argument):
                installed |= run_segment(definition, segment, context, used)
            any_step |= installed
            if not installed:
                others.append(f"RUN {argument.split()[0] if argument.split() else ''}".strip())
        elif instruction not in ("FROM", "COPY", "ADD", "WORKDIR", "ARG", "LABEL"):
            others.append(instruction)
        elif instruction == "FROM":
            definition.python = definition.python or python_of_image(argument)
    if others:
        seen = list(dict.fromkeys(others))
        definition.notices.append("Dockerfile instructions not carried out locally (no Docker): " + ", ".join(seen))
    return any_step


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, argument) pairs with line continuations joined and comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and current):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            lines.append(current.strip())
        current = ""
    if current.strip():
        lines.append(current.strip())
    found = []
    for line in lines:
        head, _, rest = line.partition(" ")
        found.append((head.upper(), rest.strip()))
    return found


def run_segment(definition: Definition, segment: str, context: Path | None, used: set[str]) -> bool:
    """One shell command of a RUN step; True when it was an install step we honoured."""
    try:
        words = shlex.split(segment, comments=True)
    except ValueError:
        return False
    base = [w.rsplit("/", 1)[-1] for w in words]
    for i, word in enumerate(base):
        if re.fullmatch(r"pip3?(\.\d+)?", word) and base[i + 1:i + 2] == ["install"]:
            pip_install(definition, words[i + 2:], context, used)
            return True
        if word in ("conda", "mamba", "micromamba"):
            rest = words[i + 1:]
            if rest[:1] in (["install"], ["create"]):
                conda_install(definition, rest[1:], context, used)
                return True
            if rest[:1] == ["env"] and rest[1:2] in (["create"], ["update"]):
                conda_install(definition, rest[2:], context, used)
                return True
            if rest[:1] == ["run"]:
                continue  # `conda run -p X pip install ...`: the pip step follows
            return False
    return False


def _arguments(args: list[str], valued: set[str] | frozenset[str]) -> Iterator[tuple[str | None, str]]:
    """An installer's arguments as (option, value) pairs, and (None, word) for the rest.

    Options in `valued` take a value, inline (`--file=x`) or as the next word; other flags come as
    (None, "-flag") for the caller to skip."""
    i = 0
    while i < len(args):
        option, _, inline = args[i].partition("=")
        if option in valued:
            yield option, inline or (args[i + 1] if i + 1 < len(args) else "")
            i += 1 if inline else 2
        else:
            yield None, args[i]
            i += 1


def pip_install(definition: Definition, args: list[str], context: Path | None, used: set[str]) -> None:
    for option, value in _arguments(args, PIP_VALUED):
        if option in ("-r", "--requirement"):
            used.add(value)
            requirements_file(definition, value, context)
        elif option in ("-i", "--index-url", "--extra-index-url"):
            definition.options.append(f"{option} {value}")
        elif option in ("-e", "--editable"):
            definition.notices.append(f"not installed locally (an editable install): {value}")
        elif option is None and value.startswith("-r") and len(value) > 2:
            used.add(value[2:])
            requirements_file(definition, value[2:], context)
        elif option is None and not value.startswith("-"):
            if "$" in value:
                definition.notices.append(f"not installed locally (depends on a build variable): {value}")
            else:
                definition.add_pip(value)


def conda_install(definition: Definition, args: list[str], context: Path | None, used: set[str]) -> None:
    for option, value in _arguments(args, CONDA_VALUED):
        if option in ("-f", "--file"):
            used.add(value)
            path = (context / value) if context else None
            if path is not None and path.is_file():
                conda_file(definition, path.read_text(errors="replace"), path.parent)
            else:
                definition.notices.append(f"warning: conda file {value} is not available locally: not installed")
        elif option is None and not value.startswith("-") and "$" not in value:
            definition.add_conda(value)


def build_context(definition: Definition, context: Path, dockerfile_path: str | None) -> None:
    """A Docker build context: its Dockerfile's install steps; when the Dockerfile has none, the
    context's requirements.txt and conda file, as its evident intent."""
    docker = context / (dockerfile_path or "Dockerfile")
    steps = False
    if docker.is_file():
        steps = dockerfile(definition, docker.read_text(errors="replace"), context)
    else:
        definition.notices.append(f"the build context of {definition.label} has no {dockerfile_path or 'Dockerfile'}")
    if steps:
        return
    if (context / "requirements.txt").is_file():
        requirements_file(definition, "requirements.txt", context)
    for name in CONDA_FILES:
        if (context / name).is_file():
            conda_file(definition, (context / name).read_text(errors="replace"), context)
            break


def python_of_image(image: str) -> str | None:
    """The Python version an image name promises (`python:3.11-slim`), if it says."""
    found = re.search(r"(?:^|/)python:(\d+\.\d+)", image or "")
    return found.group(1) if found else None
