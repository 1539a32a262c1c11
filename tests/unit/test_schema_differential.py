"""Our schema validator (cli/spec/schema.py) against the `jsonschema` package, on the same schemas.

Both must give the same verdict (valid or not) on every spec of the shared corpus and on generated
mutants of the bundled examples; where both reject, each place one of them blames must be at, above or
below a place the other blames (ours reports the variant the user meant, jsonschema the whole union).
Our validator runs with near_misses=False: its one extension to JSON Schema is covered in
test_schema_validator.py.
"""

from __future__ import annotations

import copy
import csv
import json
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.spec.families import BY_NAME, FamilyError, choose_family, schema_folder, schema_store
from cli.spec.schema import Validator
from cli.spec.yaml_source import YamlSourceError, parse_yaml
from tests.conftest import shared_path

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "specs" / "examples").rglob("*.yml"))
VERDICTS = REPO / "tests" / "conformance" / "sdk_verdicts.tsv"


@lru_cache(maxsize=1)
def registry():
    resources = []
    for file in sorted(schema_folder().glob("*.schema.json")):
        document = json.loads(file.read_text(encoding="utf-8"))
        resources.append((document["$id"], referencing.Resource.from_contents(document)))
    return referencing.Registry().with_resources(resources)


@lru_cache(maxsize=None)
def reference_validator(schema_file: str):
    schema = json.loads((schema_folder() / schema_file).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, registry=registry())


OURS = Validator(schema_store(), near_misses=False)


def _related(a: tuple, b: tuple) -> bool:
    return a[: len(b)] == b or b[: len(a)] == a


def compare(data, schema_file: str, label: str) -> None:
    """Same verdict; and, when both reject, blamed places that correspond."""
    ours = {tuple(issue.path) for issue in OURS.validate(data, schema_file)}
    theirs = {tuple(error.absolute_path) for error in reference_validator(schema_file).iter_errors(data)}
    assert bool(ours) == bool(theirs), f"{label}: ours {sorted(ours, key=str) or 'valid'}, jsonschema {sorted(theirs, key=str) or 'valid'}"
    for path in ours:
        assert any(_related(path, other) for other in theirs), f"{label}: we blame {path}, jsonschema blames only {sorted(theirs, key=str)}"
    for path in theirs:
        assert any(_related(path, other) for other in ours), f"{label}: jsonschema blames {path}, we blame only {sorted(ours, key=str)}"


def test_every_schema_is_valid_draft_2020_12():
    for file in sorted(schema_folder().glob("*.schema.json")):
        jsonschema.Draft202012Validator.check_schema(json.loads(file.read_text(encoding="utf-8")))


def _corpus_rows() -> list[dict]:
    with open(VERDICTS, newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t") if row["family"].lower() in BY_NAME]


@pytest.mark.parametrize("row", _corpus_rows(), ids=lambda row: row["path"])
def test_corpus_spec(row):
    path = shared_path("conformance", row["path"])
    try:
        data, _ = parse_yaml(path.read_bytes(), path.name)
    except YamlSourceError:
        pytest.skip("not YAML our loader reads; no schema verdict to compare")
    if not isinstance(data, dict):
        pytest.skip("not a mapping")
    try:
        family = choose_family(data, BY_NAME[row["family"].lower()].group)
    except FamilyError:
        pytest.skip("no family; no schema verdict to compare")
    compare(data, family.schema_file, row["path"])


def _example(path: Path) -> tuple[dict, str]:
    data, _ = parse_yaml(path.read_bytes(), path.name)
    first = "component" if "components" in path.parts else "job"
    for group in (first, "compute", "batch-endpoint", "batch-deployment", "online-endpoint", "online-deployment"):
        try:  # examples beside jobs: computes and endpoints, each its own command group
            return data, choose_family(data, group).schema_file
        except FamilyError:
            continue
    return data, choose_family(data, first).schema_file


def _paths(node, prefix=()):
    """Every key path in a document, containers included."""
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _paths(child, prefix + (key,))


def _get(node, path):
    for part in path:
        node = node[part]
    return node


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(["", "x", "command", "pipeline", "uri_file", "azureml:env:1", "${{inputs.x}}", "ro_mount", "1.0"]),
    st.lists(st.sampled_from(["a", 1, None]), max_size=2), st.dictionaries(st.sampled_from(["type", "path", "x"]), st.sampled_from(["a", 1]), max_size=2),
)
_KEYS = st.sampled_from(["type", "name", "path", "mode", "compute", "comand", "x_extra", "inputs", "environment", "code"])


@st.composite
def mutants(draw, data: dict):
    """The document with one to three edits: a value replaced, a key removed, or a key added."""
    mutant = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(mutant) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _get(mutant, path[:-1])
        edit = draw(st.sampled_from(["replace", "delete", "add"]))
        if edit == "replace":
            parent[path[-1]] = draw(_VALUES)
        elif edit == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(_KEYS)] = draw(_VALUES)
    return mutant


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(REPO / "specs" / "examples")))
def test_bundled_example_and_its_mutants(path):
    data, schema_file = _example(path)
    compare(data, schema_file, str(path.name))

    @settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(mutants(data))
    def check(mutant):
        compare(mutant, schema_file, f"mutant of {path.name}: {json.dumps(mutant, default=str)[:300]}")

    check()
