"""The Python interpreters on this machine, and the one closest to the version an environment wants.

Found without running anything where the file name says the version (`python3.10`): pyenv's versions,
uv's managed Pythons, $PATH and the usual system folders; ml's own interpreter counts too. uv is never
asked to download one (no network except package indexes)."""

from __future__ import annotations

import glob
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

_VERSIONED = re.compile(r"^python(\d)\.(\d+)$")
OLDEST = (3, 8)  # older ones cannot run today's installers


@dataclass(frozen=True)
class Interpreter:
    version: tuple[int, int]
    path: Path

    @property
    def label(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def _folders() -> list[str]:
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    uv_pythons = os.environ.get("UV_PYTHON_INSTALL_DIR") or os.path.expanduser("~/.local/share/uv/python")
    found = sorted(glob.glob(os.path.join(pyenv, "versions", "*", "bin")), reverse=True)
    found += sorted(glob.glob(os.path.join(uv_pythons, "*", "bin")), reverse=True)
    found += [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and "shims" not in Path(p).parts
              and not p.rstrip("/").endswith("/shims")]
    found += ["/usr/local/bin", "/usr/bin", "/opt/homebrew/bin"]
    return list(dict.fromkeys(found))


def own() -> Interpreter:
    """ml's own interpreter (the base one when ml runs in a venv)."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return Interpreter(sys.version_info[:2], Path(base))


def available() -> list[Interpreter]:
    """One interpreter per minor version, the first found winning (pyenv before $PATH before /usr)."""
    chosen: dict[tuple[int, int], Interpreter] = {own().version: own()}
    for folder in _folders():
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in sorted(names):
            match = _VERSIONED.match(name)
            if not match:
                continue
            version = (int(match.group(1)), int(match.group(2)))
            path = Path(folder) / name
            if version >= OLDEST and version not in chosen and os.access(path, os.X_OK) and path.is_file():
                chosen[version] = Interpreter(version, path)
    return sorted(chosen.values(), key=lambda i: i.version)


def choose(wanted: str | None) -> tuple[Interpreter, str | None]:
    """The interpreter for version `wanted` ("3.10"; None: ml's own), and a warning when it is not
    on this machine and the nearest one is used instead (the newer one on a tie)."""
    if not wanted:
        return own(), None
    parts = tuple(int(p) for p in wanted.split(".")[:2])
    candidates = available()
    exact = [i for i in candidates if i.version == parts]
    if exact:
        return exact[0], None
    nearest = min(candidates, key=lambda i: (abs(i.version[1] - parts[1]) if i.version[0] == parts[0] else 99,
                                             -i.version[1]))
    return nearest, (f"warning: Python {wanted} is not installed on this machine; using Python {nearest.label}"
                     f" ({nearest.path}), the nearest")
