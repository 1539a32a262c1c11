"""Local paths in specs: resolved against the spec's folder, and checked to exist."""

from __future__ import annotations

import os
import re
from pathlib import Path

from cli.spec.bindings import Finding

_REMOTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://|azureml:|git\+|/subscriptions/)")
# Keys whose string values name local files or folders the spec reads from.
_PATH_KEYS = {"code", "path", "conda_file"}
# Subtrees whose paths are destinations (outputs) or belong to another resource.
_SKIP_SUBTREES = {"outputs", "trigger", "component", "trial", "create_job", "inference_config"}  # inference_config paths are URL routes


def display_name(file: Path) -> str:
    """A path as the user would name it: relative to the working folder when inside it."""
    try:
        relative = os.path.relpath(file)
    except ValueError:
        return str(file)
    return str(file) if relative.startswith("..") else relative


def missing(target: Path) -> str | None:
    """Why `target` cannot be used ('does not exist', 'File name too long'), or None."""
    try:
        return None if target.exists() else "does not exist"
    except OSError as exc:
        return f"cannot be checked ({exc.strerror})"


def is_local_path(value) -> bool:
    return isinstance(value, str) and bool(value.strip()) and "${{" not in value and not _REMOTE.match(value)


def resolve_local(value: str, base: Path) -> Path:
    """`./src`, `file:./src` or `src` relative to the spec's folder; absolute paths stay."""
    text = value[len("file:"):] if value.startswith("file:") else value
    return Path(os.path.normpath(base / os.path.expanduser(text)))


def resolve_paths(data, base: Path, path: tuple = ()) -> list[Finding]:
    """Make local paths absolute in place; report those that do not exist."""
    findings: list[Finding] = []
    if isinstance(data, dict):
        for key, value in data.items():
            child = path + (key,)
            if key in _PATH_KEYS and is_local_path(value):
                target = resolve_local(value, base)
                problem = missing(target)
                if problem:
                    # Data paths are often produced by a script before `create`; code must be there.
                    severity = "warning" if key == "path" and problem == "does not exist" else "error"
                    findings.append(Finding(child, f"local path '{_short(value)}' {problem} (looked for {_short(display_name(target))})", severity))
                data[key] = str(target)
            elif key == "additional_includes" and isinstance(value, list):
                for index, item in enumerate(value):
                    if is_local_path(item):
                        target = resolve_local(item, base)
                        problem = missing(target)
                        if problem:
                            findings.append(Finding(child + (index,), f"local path '{_short(item)}' {problem} (looked for {_short(display_name(target))})"))
                        value[index] = str(target)
            elif key not in _SKIP_SUBTREES:
                findings += resolve_paths(value, base, child)
            elif key in ("component", "trial", "create_job") and isinstance(value, dict):
                findings += resolve_paths(value, base, child)  # inline components read local code too
    elif isinstance(data, list):
        for index, item in enumerate(data):
            findings += resolve_paths(item, base, path + (index,))
    return findings


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
