"""Copy the published definitions of Azure ML's curated environments into the package.

    python tools/curated_environments.py [SOURCE] [--target DIR]
    (defaults: ../shared/curated-environments, cli/local/environments/curated)

Writes cli/local/environments/curated/: index.json (name -> Python version from the spec's tags,
description, source folder) and, per environment, what a local build reads: the Dockerfile reduced to
its FROM line and its `pip`/`conda` install steps, and the files those steps read (conda files,
requirements files), comment lines dropped. Run it again when the source is updated.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cli.local.environments.definition import Definition  # noqa: E402
from cli.local.environments.sources import instructions, run_segment  # noqa: E402

TARGET = REPO / "cli" / "local" / "environments" / "curated"


def install_steps(dockerfile: str, context: Path) -> tuple[list[str], set[str]]:
    """The Dockerfile's FROM and install RUN lines, and the context files they read."""
    kept, used = [], set()
    for instruction, argument in instructions(dockerfile):
        if instruction == "FROM":
            kept.append(f"FROM {argument}")
        elif instruction == "RUN":
            segments = re.split(r"&&|\|\||;", argument)
            installs = [s.strip() for s in segments if run_segment(Definition("-"), s, context, used)]
            if installs:
                kept.append("RUN " + " && \\\n    ".join(installs))
    return kept, {u.removeprefix("./") for u in used}


def without_comments(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return "\n".join(lines) + "\n"


def copy_one(folder: Path, target: Path) -> tuple[str, dict]:
    import yaml

    asset = yaml.safe_load((folder / "asset.yaml").read_text())
    spec = yaml.safe_load((folder / "spec.yaml").read_text()) or {}
    tags = spec.get("tags") or {}
    python = re.match(r"(\d+\.\d+)", str(tags.get("Python", "")))
    name = asset["name"]
    context = folder / "context"
    out = target / name
    out.mkdir(parents=True)
    steps, used = [], set()
    if (context / "Dockerfile").is_file():
        steps, used = install_steps((context / "Dockerfile").read_text(), context)
        (out / "Dockerfile").write_text("\n".join(steps) + "\n")
    if not any(step.startswith("RUN") for step in steps):  # the build reads the context's files instead
        used = {"conda_dependencies.yaml", "requirements.txt"}
    for file in sorted(used):
        if (context / file).is_file() and "/" not in file:
            (out / file).write_text(without_comments((context / file).read_text()))
    description = " ".join(str(spec.get("description") or "").split())
    return name, {"python": python.group(1) if python else None, "description": description[:200],
                  "source": folder.name}


def main(argv: list[str]) -> int:
    target = TARGET
    if "--target" in argv:
        at = argv.index("--target")
        target, argv = Path(argv[at + 1]), argv[:at] + argv[at + 2:]
    source = Path(argv[0]) if argv else REPO.parent / "shared" / "curated-environments"
    if not (source / "SOURCES.tsv").is_file():
        print(f"{source} does not hold the curated environments (no SOURCES.tsv)", file=sys.stderr)
        return 2
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    index = {}
    for folder in sorted(p for p in source.iterdir() if (p / "asset.yaml").is_file()):
        name, entry = copy_one(folder, target)
        index[name] = entry
    readme = (source / "README.md").read_text()
    commit = re.search(r"commit ([0-9a-f]{40})", readme)
    (target / "index.json").write_text(json.dumps(
        {"source": "https://github.com/Azure/azureml-assets", "commit": commit.group(1) if commit else None,
         "environments": index}, indent=1, sort_keys=True) + "\n")
    shutil.copy(source / "LICENSE.txt", target / "LICENSE.txt")
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    print(f"{len(index)} curated environments, {size // 1024} KiB, in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
