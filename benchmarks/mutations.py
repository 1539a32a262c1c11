"""Mistakes as a user makes them: does `ml` point at the line where the mistake is?

    python benchmarks/mutations.py [--corpus ../shared/conformance] [--seed S] [--verbose]

Over every spec of azureml-examples that `ml` accepts as it stands, make three mutants: a typo in a
key, a duplicated `key: value` line, and a flow bracket left unclosed. Each mutant is validated
in-process (cli.spec.loader.check_spec, in a scratch copy of the corpus so relative paths still
resolve) and counts as a hit when its first error is on the mutated line, give or take one.
Prints the share of hits per kind and overall (target: 95%), and with --verbose every miss.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "conformance")]

from cli.spec.families import BY_NAME  # noqa: E402
from cli.spec.loader import check_spec  # noqa: E402
from cli.spec.paths import display_name  # noqa: E402
from cli.spec.yaml_source import YamlSourceError, parse_yaml  # noqa: E402
from cli_defaults import overrides_for  # noqa: E402

# Mappings whose keys are the user's own names: a typo there is a different name, not a mistake.
FREE_FORM = {"tags", "properties", "inputs", "outputs", "jobs", "environment_variables", "search_space",
             "conf", "parameters", "variables", "collections", "transformer_params", "column_name_and_types"}
_KEY_LINE = re.compile(r"^(\s*)(- )?([A-Za-z_$][\w$.-]*):( +)(\S.*)?$")


def typo(word: str, rng: random.Random) -> str:
    """Drop, double or swap one letter, as fingers do."""
    for _ in range(10):
        i = rng.randrange(len(word))
        kind = rng.choice(("drop", "double", "swap")) if len(word) > 3 else "double"
        if kind == "drop":
            out = word[:i] + word[i + 1:]
        elif kind == "double":
            out = word[:i] + word[i] + word[i:]
        else:
            i = min(i, len(word) - 2)
            out = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if out != word:
            return out
    return word + "x"


def key_lines(text: str, source_map) -> list[tuple[int, tuple]]:
    """(line number, key path) of each key that is not a name of the user's own choosing."""
    lines = text.splitlines()
    found = []
    for path, pos in source_map.keys.items():
        names = [p for p in path[:-1] if isinstance(p, str)]
        if any(n in FREE_FORM for n in names[-1:]) or path[0] == "$schema":
            continue
        if path[:1] == ("jobs",) and len(path) == 2:
            continue
        line = lines[pos.line - 1] if pos.line <= len(lines) else ""
        if _KEY_LINE.match(line) and line[pos.col - 1:].startswith(str(path[-1])):
            found.append((pos.line, path))
    return sorted(found)


def scalar_lines(text: str, source_map) -> list[int]:
    """Lines holding one `key: value` of a mapping with a plain value on the same line (not a list
    item, whose copy is just another item, and not a line inside a block scalar)."""
    lines = text.splitlines()
    hits = set()
    for pos in source_map.keys.values():
        match = _KEY_LINE.match(lines[pos.line - 1])
        if match and not match.group(2) and match.group(5) and not match.group(5).startswith(("|", ">", "[", "{", "&", "*", "#", "'", '"')):
            hits.add(pos.line)
    return sorted(hits)


def mutants(text: str, source_map, rng: random.Random):
    """Yield (kind, mutated line, new text) for one spec."""
    lines = [line if line.endswith("\n") else line + "\n" for line in text.splitlines(keepends=True)]
    keys = key_lines(text, source_map)
    if keys:
        number, path = rng.choice(keys)
        line = lines[number - 1]
        col = source_map.keys[path].col - 1
        name = str(path[-1])
        new = line[:col] + typo(name, rng) + line[col + len(name):]
        yield "typo", number, "".join(lines[:number - 1] + [new] + lines[number:])
    scalars = scalar_lines(text, source_map)
    if scalars:
        number = rng.choice(scalars)
        yield "duplicate", number + 1, "".join(lines[:number] + [lines[number - 1]] + lines[number:])
        number = rng.choice(scalars)
        match = _KEY_LINE.match(lines[number - 1].rstrip("\n"))
        value = match.group(5)
        start = lines[number - 1].index(value, match.end(4) - 1)
        new = lines[number - 1][:start] + "[" + value + "\n"
        yield "unclosed", number, "".join(lines[:number - 1] + [new] + lines[number:])


def first_error(path: Path, rel: str, family: str, data: dict):
    sets = [f"{k}={v}" for k, v in overrides_for(rel, family, data if isinstance(data, dict) else {})]
    _, diagnostics = check_spec(path, group=BY_NAME[family.lower()].group, overrides=sets)
    return next((d for d in diagnostics if d.is_error and d.file == display_name(path)), None), diagnostics


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "conformance")
    ap.add_argument("--seed", default="0", help="another seed picks other keys and lines to mutate")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if not (args.corpus / "azureml-examples").is_dir():
        print(f"{args.corpus}/azureml-examples is absent", file=sys.stderr)
        return 2
    with open(REPO / "tests" / "conformance" / "sdk_verdicts.tsv", newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t")
                if r["path"].startswith("azureml-examples/") and r["family"].lower() in BY_NAME]
    scratch = Path(tempfile.mkdtemp(prefix="ml-mutations-"))
    started = time.perf_counter()
    try:
        shutil.copytree(args.corpus / "azureml-examples", scratch / "azureml-examples", symlinks=True)
        tally: dict[str, list[int]] = {}
        misses = []
        specs = 0
        for row in rows:
            rel, family = row["path"], row["family"]
            target = scratch / rel
            original = target.read_text(encoding="utf-8")
            try:
                data, source_map = parse_yaml(original, target.name)
            except YamlSourceError:
                continue
            if first_error(target, rel, family, data)[0] is not None:
                continue  # only specs ml accepts as they stand
            specs += 1
            rng = random.Random(f"{args.seed}:{rel}")
            for kind, line, text in mutants(original, source_map, rng):
                target.write_text(text, encoding="utf-8")
                error, _ = first_error(target, rel, family, data)
                hit = error is not None and abs(error.line - line) <= 1
                tally.setdefault(kind, [0, 0, 0])
                tally[kind][0] += hit
                tally[kind][1] += 1
                tally[kind][2] += error is not None and error.line == line
                if not hit:
                    misses.append((rel, kind, line, error.format() if error else "accepted", text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""))
            target.write_text(original, encoding="utf-8")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.verbose:
        for rel, kind, line, error, source in misses:
            print(f"MISS {kind:9s} {rel}:{line}  [{source.strip()[:60]}]\n     -> {error}")
    hits = sum(h for h, _, _ in tally.values())
    total = sum(n for _, n, _ in tally.values())
    exact = sum(e for _, _, e in tally.values())
    print(f"{specs} specs, {total} mutants, {time.perf_counter() - started:.1f} s")
    for kind, (h, n, e) in sorted(tally.items()):
        print(f"  {kind:10s} {h:4d}/{n:<4d} {100 * h / n:5.1f}% first error on the mutated line (±1); {100 * e / n:5.1f}% exactly on it")
    print(f"  {'all':10s} {hits:4d}/{total:<4d} {100 * hits / max(total, 1):5.1f}%  (target 95%); {100 * exact / max(total, 1):5.1f}% exactly")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
