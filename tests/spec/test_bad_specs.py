"""The bad-spec corpus: every broken spec in bad_specs/ must fail with exactly the stderr in its .expected.

Each case is NAME.expected, beside NAME.yml (absent for the missing-file case) and optionally NAME.args.
The command group comes from a `# group: NAME` line at the top of the spec or of NAME.args; other
lines of NAME.args are extra arguments (shlex), and `# exit: N` there overrides the default exit code 4.
The real CLI runs in subprocesses, all at once in a thread pool, with the bad_specs folder as cwd.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "bad_specs"
REPO = HERE.parents[1]
_DIRECTIVE = re.compile(rb"^#\s*(group|exit):\s*(\S+)\s*$")

# Cases whose .expected states what the CLI should print but does not yet: name -> the bug.
KNOWN_BUGS: dict[str, str] = {}


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    extra: tuple
    exit_code: int
    expected: str


def _directives(path: Path) -> tuple[dict, list[str]]:
    """`# group:` / `# exit:` directives from the head of a file, and the remaining non-comment lines."""
    found, rest = {}, []
    if path.is_file():
        for raw in path.read_bytes().splitlines():
            match = _DIRECTIVE.match(raw)
            if match:
                found[match.group(1).decode()] = match.group(2).decode()
            elif path.suffix == ".args" and raw.strip() and not raw.startswith(b"#"):
                rest.append(raw.decode())
    return found, rest


def load_cases() -> list[Case]:
    cases = []
    for expected in sorted(CORPUS.glob("*.expected")):
        name = expected.stem
        spec_head, _ = _directives(CORPUS / f"{name}.yml") if (CORPUS / f"{name}.yml").is_file() else ({}, [])
        args_head, arg_lines = _directives(CORPUS / f"{name}.args")
        head = {**spec_head, **args_head}
        assert "group" in head, f"{name}: no '# group:' line in {name}.yml or {name}.args"
        extra = tuple(token for line in arg_lines for token in shlex.split(line))
        cases.append(Case(name, head["group"], extra, int(head.get("exit", 4)), expected.read_text(encoding="utf-8")))
    return cases


def ml_env() -> dict:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_case(case: Case, cwd: Path = CORPUS) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "cli", case.group, "validate", "-f", f"{case.name}.yml", *case.extra]
    return subprocess.run(argv, cwd=cwd, env=ml_env(), capture_output=True, text=True, timeout=60)


@lru_cache(maxsize=1)
def all_results() -> dict:
    """Every case run once, concurrently: the interpreter start-up dominates, so overlap it."""
    cases = load_cases()
    with ThreadPoolExecutor(max_workers=max(4, (os.cpu_count() or 2) * 2)) as pool:
        return dict(zip((c.name for c in cases), pool.map(run_case, cases)))


CASES = load_cases()


def _param(case: Case):
    bug = KNOWN_BUGS.get(case.name)
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    return pytest.param(case, id=case.name, marks=marks)


def test_corpus_is_large_and_paired():
    assert len(CASES) >= 70
    for spec in CORPUS.glob("*.yml"):
        assert (CORPUS / f"{spec.stem}.expected").is_file(), f"{spec.name} has no .expected"
    for name in KNOWN_BUGS:
        assert name in {c.name for c in CASES}, f"KNOWN_BUGS names no case '{name}'"


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_spec(case: Case):
    result = all_results()[case.name]
    assert (result.returncode, result.stderr) == (case.exit_code, case.expected)
    assert result.stdout == ""


def test_ten_megabyte_spec(tmp_path):
    """Generated here rather than committed: a spec far over the size limit is refused up front."""
    body = "# group: job\ncommand: python train.py\nenvironment: azureml:env:1\ntags:\n"
    line = "  k{:08d}: " + "x" * 80 + "\n"
    count = (10 * 1024 * 1024 - len(body)) // len(line.format(0)) + 1
    (tmp_path / "huge.yml").write_text(body + "".join(line.format(i) for i in range(count)), encoding="utf-8")
    size = (tmp_path / "huge.yml").stat().st_size
    assert size >= 10 * 1024 * 1024
    result = run_case(Case("huge", "job", (), 4, ""), cwd=tmp_path)
    assert result.returncode == 4
    assert result.stderr == "huge.yml:1:1: error: the file is larger than 4 MiB, the limit for a spec\n"
    assert result.stdout == ""


def test_empty_model_folder(tmp_path):
    """Generated here because git keeps no empty folders: a model folder without files is refused."""
    (tmp_path / "weights" / "nested").mkdir(parents=True)
    (tmp_path / "empty_model.yml").write_text("# group: model\nname: clf\nversion: '1'\npath: ./weights\n", encoding="utf-8")
    result = run_case(Case("empty_model", "model", (), 4, ""), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (4, "")
    assert result.stderr == "empty_model.yml:4:7: error: path: the folder 'weights' holds no files; a model needs at least one\n"
    (tmp_path / "weights" / "nested" / "model.pkl").write_bytes(b"\x80\x04")
    assert run_case(Case("empty_model", "model", (), 0, ""), cwd=tmp_path).returncode == 0
