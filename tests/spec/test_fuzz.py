"""Fuzz the spec layer with mutated real specs: it must always answer with diagnostics, never crash.

Seeds are the public specs in ../shared/conformance (the test skips when that folder is absent) and
specs/examples. Each example mutates one seed (structurally or as raw text) and runs
`ml <group> validate` in-process; a few fixed mutations also run as real subprocesses.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.app import main
from cli.spec.families import family_from_schema_url, infer_group

REPO = Path(__file__).resolve().parents[2]
SEED_ROOTS = [REPO.parent / "shared" / "conformance", REPO / "specs" / "examples"]
ALLOWED_EXITS = {0, 4}  # valid, or spec invalid
FORBIDDEN = ("Traceback", "internal error")

settings.register_profile(
    "spec-fuzz", max_examples=1000, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _seeds() -> list[Path]:
    return sorted(p for root in SEED_ROOTS if root.is_dir() for p in root.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


SEEDS = _seeds()
needs_seeds = pytest.mark.skipif(
    not (SEED_ROOTS[0].is_dir() and SEEDS),
    reason=f"{SEED_ROOTS[0]} is absent: the fuzz seeds are the shared conformance specs",
)


def group_of(text: bytes) -> list[str]:
    """The command line that validates this seed: its group's verb, or `ml validate` when unknown."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict):
        family = family_from_schema_url(data["$schema"]) if isinstance(data.get("$schema"), str) else None
        group = family.group if family else infer_group(data)
        if group:
            return [group, "validate", "-f"]
    return ["validate"]


# --- mutations: each takes (text, rnd) and returns (new bytes, extra CLI arguments) ------------

JUNK = ":{}[]&*!|>'\"%@`#\t\n-?,\\$\x0b\u00a0\u2028\ufeff\U0001f600"
VALUES = [None, True, 0, -1, 2**70, 1.5e308, float("nan"), "", "x" * 300, "azureml:", "azureml://datastores/x",
          "${{inputs.nope}}", "${{parent.jobs.ghost.outputs.out}}", "$[[ --x ${{inputs.", "./missing/path", [], {},
          [1, "a", None], {"type": "nope"}, {"<<": 1}, "~/x", "file:", "/subscriptions/x"]


def _paths(data, prefix=()):
    """Every key path inside parsed YAML data."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield prefix + (index,)
            yield from _paths(value, prefix + (index,))


def _structural(edit):
    """Lift an edit of parsed data at one random path into a text mutation (raw-text fallback)."""
    def mutate(text: bytes, rnd: random.Random):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            data = None
        paths = list(_paths(data))
        if not paths:
            return _inject_junk(text, rnd)
        path = rnd.choice(paths)
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        edit(parent, path[-1], rnd)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode(), []
    mutate.__name__ = edit.__name__
    return mutate


def _typo(word: str, rnd: random.Random) -> str:
    if not word:
        return "x"
    i = rnd.randrange(len(word))
    return rnd.choice([word[:i] + word[i + 1:], word[:i] + rnd.choice("aeiouxz_") + word[i:], word.upper(), word + "s"])


def _delete_key(parent, key, rnd):
    del parent[key]


def _rename_key(parent, key, rnd):
    if isinstance(parent, dict):
        parent[_typo(str(key), rnd)] = parent.pop(key)
    else:
        parent[key] = {_typo("type", rnd): parent[key]}


def _swap_type(parent, key, rnd):
    parent[key] = rnd.choice(VALUES)


def _inject_junk(text: bytes, rnd: random.Random):
    chars = text.decode("utf-8", "replace")
    for _ in range(rnd.randint(1, 5)):
        i = rnd.randint(0, len(chars))
        chars = chars[:i] + "".join(rnd.choice(JUNK) for _ in range(rnd.randint(1, 4))) + chars[i:]
    return chars.encode("utf-8", "surrogatepass"), []


def _truncate(text: bytes, rnd: random.Random):
    return text[: rnd.randint(0, len(text))], []


def _duplicate_lines(text: bytes, rnd: random.Random):
    lines = text.splitlines(keepends=True) or [b""]
    start = rnd.randrange(len(lines))
    end = min(len(lines), start + rnd.randint(1, 4))
    at = rnd.randint(0, len(lines))
    return b"".join(lines[:at] + lines[start:end] + lines[at:]), []


def _insert_tabs(text: bytes, rnd: random.Random):
    lines = text.splitlines(keepends=True) or [b""]
    for _ in range(rnd.randint(1, 3)):
        i = rnd.randrange(len(lines))
        stripped = lines[i].lstrip(b" ")
        lines[i] = b"\t" * rnd.randint(1, 2) + stripped if rnd.random() < 0.7 else lines[i].replace(b": ", b":\t", 1)
    return b"".join(lines), []


def _random_bytes(text: bytes, rnd: random.Random):
    data = bytearray(text)
    for _ in range(rnd.randint(1, 8)):
        i = rnd.randint(0, len(data))
        data[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 3)))
    return bytes(data), []


def _bad_override(text: bytes, rnd: random.Random):
    try:
        paths = list(_paths(yaml.safe_load(text)))
    except yaml.YAMLError:
        paths = []
    key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in rnd.choice(paths)).replace(".[", "[") if paths else "a.b"
    key = rnd.choice([key, key + ".deeper", key + "[7]", _typo(key, rnd), "", "..", key + "[x]", "[0]"])
    value = rnd.choice(["1", "-1", "x", "", "[1, 2", "{a: 1}", "null", "azureml:", "${{inputs.nope}}", "=", "\t"])
    return text, ["--set", rnd.choice([f"{key}={value}", key, f"={value}"])]


MUTATIONS = [
    _structural(_delete_key), _structural(_rename_key), _structural(_swap_type), _inject_junk, _truncate,
    _duplicate_lines, _insert_tabs, _random_bytes, _bad_override,
]


def mutate(seed: Path, mutation, rnd: random.Random, folder: Path) -> list[str]:
    """Write the mutated seed into `folder`; return the full `ml` argument list that validates it."""
    original = seed.read_bytes()
    text, extra = mutation(original, rnd)
    target = folder / f"fuzzed{seed.suffix}"
    target.write_bytes(text)
    return [*group_of(original), str(target), *extra]


def check(argv: list[str], code: int, out: str, err: str) -> None:
    context = f"ml {' '.join(argv)}\nexit {code}\nstderr:\n{err[-2000:]}"
    malformed_set = code == 2 and err.startswith("ml: error: --set ")  # a malformed --set is a usage error
    assert code in ALLOWED_EXITS or malformed_set, context
    for word in FORBIDDEN:
        assert word not in err and word not in out, context
    if code == 4:
        assert err.strip(), context  # an invalid spec always says why
    if argv[0] != "validate" and code != 0:
        assert out == "", context  # data goes to stdout only on success


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@needs_seeds
@settings(settings.get_profile("spec-fuzz"))
@given(seed=st.sampled_from(SEEDS or [Path("none")]), mutation=st.sampled_from(MUTATIONS), rnd=st.randoms(use_true_random=False))
def test_mutated_specs_never_crash(seed, mutation, rnd, scratch, capsys):
    argv = mutate(seed, mutation, rnd, scratch)
    capsys.readouterr()
    code = main([*argv, "-o", "json"])
    out, err = capsys.readouterr()
    check(argv, code, out, err)


@needs_seeds
def test_mutated_specs_in_subprocesses(tmp_path, capsys):
    """A few mutations through the real entry point; its verdict matches the in-process one."""
    rnd = random.Random(20240601)
    runs = []
    for index, mutation in enumerate(MUTATIONS):
        folder = tmp_path / str(index)
        folder.mkdir()
        runs.append(mutate(rnd.choice(SEEDS), mutation, rnd, folder))
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def run(argv):
        return subprocess.run([sys.executable, "-m", "cli", *argv], env=env, capture_output=True, text=True, timeout=60)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, runs))
    for argv, result in zip(runs, results):
        check(argv, result.returncode, result.stdout, result.stderr)
        capsys.readouterr()
        code = main(list(argv))
        assert (code, capsys.readouterr().err) == (result.returncode, result.stderr), f"ml {' '.join(argv)}"
