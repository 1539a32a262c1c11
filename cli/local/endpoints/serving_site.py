"""The HTTP toolkit a scoring worker imports, placed after its deployment environment's own packages.

The worker runs in the deployment's venv, which holds the user's packages only. ML_SERVING_SITE gives it
uvicorn and its dependencies, with httptools (HTTP parsing in C) and uvloop (a libuv event loop): several
times the requests/s of h11 and asyncio (benchmarks/endpoints.py). For a venv of ml's own Python these
are links into ml's site-packages; for another Python (an environment that asks for 3.10: ml's uvicorn
may not even import there, and the compiled two never do) they are installed once, for that Python, into
a folder of that version under the cache. If that fails (offline), the links are all there is.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

LINKED = ("starlette", "uvicorn", "anyio", "h11", "click", "sniffio", "idna", "typing_extensions.py", "httptools",
          "uvloop")
INSTALLED = ("uvicorn", "httptools", "uvloop")  # what the worker imports (its ASGI app is bare)


def folders(home: Path, python: Path, say: Callable[[str], None]) -> str:
    """ML_SERVING_SITE for a worker run by `python`: os.pathsep-separated folders, in the order to search."""
    linked = _linked(Path(home) / "cache" / "serving-site", LINKED)
    version = _version(python)
    own = "%d.%d" % sys.version_info[:2]
    if version is None or version == own:
        return str(linked)
    installed = _installed(Path(home) / "cache" / f"serving-site-{version}", python, say)
    return os.pathsep.join(str(folder) for folder in (installed, linked) if folder)


def _linked(target: Path, names: tuple) -> Path:
    """A folder of links to where ml's interpreter finds each package."""
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        spec = importlib.util.find_spec(name.removesuffix(".py"))
        if spec is None or not spec.origin:
            continue  # an optional one (httptools, uvloop) that is not installed
        source = Path(spec.origin).parent if spec.submodule_search_locations else Path(spec.origin)
        link = target / name
        if link.is_symlink() and link.resolve() != source.resolve():
            link.unlink()  # ml's interpreter moved (a new venv): follow it
        if not link.exists():
            try:
                link.symlink_to(source)
            except FileExistsError:
                pass
    return target


def _version(python: Path) -> str | None:
    try:
        return subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=30).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def _installed(target: Path, python: Path, say: Callable[[str], None]) -> Path | None:
    """The worker's toolkit for `python`, installed once into `target` (None: not to be had)."""
    if (target / ".complete").exists():
        return target
    failed = target.with_name(f"{target.name}.unavailable")
    try:
        if time.time() - failed.stat().st_mtime < 3600:  # failed within the hour: not every build again
            return None
    except OSError:
        pass
    wanted = list(INSTALLED)
    from cli.local.environments.builder import Installer

    installer = Installer.pick()
    building = target.with_name(f"{target.name}.{os.getpid()}")
    if installer.name == "uv":
        command = [installer.binary, "pip", "install", "--quiet", "--target", str(building), "--python", str(python),
                   "--only-binary", ":all:", *wanted]
        env = installer.environment()
    else:
        command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target",
                   str(building), "--only-binary", ":all:", *wanted]
        env = dict(os.environ)
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        say(f"installing {' '.join(wanted)} for the scoring workers' Python failed (they use ml's own, if they"
            f" can): {result.stderr.strip()[-300:]}")
        failed.write_text(result.stderr[-2000:])
        shutil.rmtree(building, ignore_errors=True)
        return None
    (building / ".complete").write_text(" ".join(wanted))
    try:
        os.rename(building, target)
    except OSError:  # another router placed it first
        shutil.rmtree(building, ignore_errors=True)
    say(f"installed {' '.join(wanted)} for the scoring workers' Python: {target}")
    return target
