"""Azure ML's curated environments (`azureml:AzureML-sklearn-1.5@latest`, `azureml://registries/azureml/
environments/sklearn-1.5/...`), built from their published definitions shipped in curated/ (made by
tools/curated_environments.py from the public azureml-assets repository)."""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path

from cli.local.environments.definition import Definition
from cli.local.environments.sources import build_context

FOLDER = Path(__file__).parent / "curated"
WORKSPACE_PREFIX = "AzureML-"  # the workspace-scoped name of a curated environment
_REGISTRY = re.compile(r"^azureml://registries/([^/]+)/environments/([^/]+)(?:/(?:versions|labels)/[^/]+)?$", re.I)
_SHORT = re.compile(r"^(?:azureml:)?AzureML-([^:@/]+)(?:[:@].*)?$")
_ARM = re.compile(r"/environments/AzureML-([^/]+)(?:/versions/[^/]+)?$")


class UnknownEnvironment(LookupError):
    """A curated or registry environment this machine has no definition of; str() says which."""


@lru_cache(maxsize=1)
def index() -> dict:
    return json.loads((FOLDER / "index.json").read_text())


def curated_name(environment_id: str) -> str | None:
    """The curated short name an id refers to (`sklearn-1.5`), or None for a workspace environment.
    Raises UnknownEnvironment for a registry other than `azureml` (nothing to build it from locally)."""
    found = _REGISTRY.match(environment_id)
    if found:
        if found.group(1).lower() != "azureml":
            raise UnknownEnvironment(f"environment {environment_id} is in registry '{found.group(1)}', which is"
                                     " not available locally; register the environment in the workspace instead")
        return found.group(2)
    found = _SHORT.match(environment_id) or _ARM.search(environment_id)
    return found.group(1) if found else None


def definition(name: str) -> Definition:
    """The Definition of curated environment `name` (`sklearn-1.5`), from its shipped build context."""
    return copy.deepcopy(_definition(name))  # a caller may add notices to its own copy


@lru_cache(maxsize=64)
def _definition(name: str) -> Definition:
    # the shipped files do not change while ml runs: read once per process (and by a pipeline's runner
    # before it forks its steps' runners, see runner/forked.py warm)
    known = index()["environments"]
    entry = known.get(name) or next((v for k, v in known.items() if k.lower() == name.lower()), None)
    if entry is None:
        close = sorted(k for k in known if k.split("-")[0] == name.split("-")[0])
        hint = f" (known: {', '.join(close)})" if close else f"; {len(known)} are known, e.g. sklearn-1.5"
        raise UnknownEnvironment(f"curated environment '{name}' has no published definition here{hint}")
    name = next(k for k, v in known.items() if v is entry)
    result = Definition(f"AzureML-{name}", python=entry.get("python"))
    build_context(result, FOLDER / name, None)
    return result.finish()
