import json

import pytest

from cli.spec.schema import SchemaIssue, SchemaStore, Validator
from cli.spec.typos import drop_explained

NODE = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"enum": ["command", "sweep"]}},
    "allOf": [
        {"if": {"properties": {"type": {"const": "command"}}, "required": ["type"]},
         "then": {"type": "object", "additionalProperties": False, "required": ["command"],
                  "properties": {"type": {}, "command": {"type": "string"}, "count": {"type": "integer", "minimum": 1}}}},
        {"if": {"properties": {"type": {"const": "sweep"}}, "required": ["type"]},
         "then": {"type": "object", "additionalProperties": False,
                  "properties": {"type": {}, "trial": {"type": "string"}}}},
    ],
}
ROOT = {
    "$id": "https://ml.invalid/schemas/test.schema.json",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "environment": {"anyOf": [{"type": "string", "pattern": "^azureml:", "title": "environment reference"}, {"$ref": "other.schema.json"}]},
        "jobs": {"type": "object", "additionalProperties": {"$ref": "#/$defs/node"}},
        "tags": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
    },
    "$defs": {"node": NODE},
}
OTHER = {"type": "object", "additionalProperties": False, "required": ["image"], "properties": {"image": {"type": "string"}, "conda_file": {"type": "string"}}}


@pytest.fixture()
def validator(tmp_path):
    (tmp_path / "test.schema.json").write_text(json.dumps(ROOT))
    (tmp_path / "other.schema.json").write_text(json.dumps(OTHER))
    store = SchemaStore(tmp_path)
    return lambda data: [(i.path, i.message) for i in Validator(store).validate(data, "test.schema.json")]


def test_valid_instance(validator):
    assert validator({"name": "x", "environment": {"image": "python"}, "jobs": {"a": {"type": "command", "command": "echo"}}}) == []


def test_unknown_key_with_suggestion(validator):
    assert validator({"nmae": "x"}) == [(("nmae",), "unknown key 'nmae' (did you mean 'name'?)")]


def test_discriminated_node_reports_only_its_variant(validator):
    issues = validator({"jobs": {"a": {"type": "command", "comand": "echo", "count": 0}}})
    assert issues == [
        (("jobs", "a"), "missing required key 'command'"),
        (("jobs", "a", "comand"), "unknown key 'comand' (did you mean 'command'?)"),
        (("jobs", "a", "count"), "0 is less than the minimum of 1"),
    ]


def test_bad_enum_with_suggestion(validator):
    assert validator({"jobs": {"a": {"type": "comand"}}}) == [(("jobs", "a", "type"), "'comand' is not one of 'command', 'sweep' (did you mean 'command'?)")]


def test_union_picks_the_branch_of_the_value_kind(validator):
    assert validator({"environment": {"image": "x", "conda": "y"}}) == [(("environment", "conda"), "unknown key 'conda' (did you mean 'conda_file'?)")]
    assert validator({"environment": "docker:x"}) == [(("environment",), "'docker:x' is not a valid environment reference")]
    assert validator({"environment": 3}) == [(("environment",), "expected a string or a mapping, got an integer (3)")]


def test_type_errors_name_both_kinds(validator):
    assert validator({"name": 3, "tags": {"a": [1]}}) == [
        (("name",), "expected a string, got an integer (3)"),
        (("tags", "a"), "expected a string, a number or a boolean, got a list"),
    ]


def test_booleans_are_not_integers(validator):
    assert validator({"jobs": {"a": {"type": "command", "command": "x", "count": True}}}) == [(("jobs", "a", "count"), "expected an integer, got a boolean (true)")]


OPEN = {"type": "object", "properties": {"compute": {"type": "string"}, "component": {"type": "string"}}}


@pytest.fixture()
def open_validator(tmp_path):
    """A pass-through mapping (no additionalProperties: false), as the SDK's pipeline nodes are."""
    (tmp_path / "open.schema.json").write_text(json.dumps(OPEN))
    store = SchemaStore(tmp_path)
    return lambda data, **kw: [(i.path, i.message) for i in Validator(store, **kw).validate(data, "open.schema.json")]


def test_near_miss_in_a_pass_through_mapping(open_validator):
    assert open_validator({"compuet": "cpu"}) == [(("compuet",), "unknown key 'compuet' (did you mean 'compute'?)")]
    assert open_validator({"jeff_special_option": {"joo": "bar"}}) == []  # passed through, as the SDK does
    assert open_validator({"compuet": "cpu"}, near_misses=False) == []  # plain JSON Schema


def test_union_prefers_the_variant_the_discriminator_names(tmp_path):
    variants = {"anyOf": [
        {"type": "object", "additionalProperties": False, "required": ["task", "training_data"],
         "properties": {"task": {"const": "classification"}, "training_data": {"type": "string"}}},
        {"type": "object", "additionalProperties": False, "required": ["task", "training_data"],
         "properties": {"task": {"const": "regression"}, "training_data": {"type": "string"}}},
    ]}
    (tmp_path / "v.schema.json").write_text(json.dumps(variants))
    issues = Validator(SchemaStore(tmp_path)).validate({"task": "regression", "training_ata": "x"}, "v.schema.json")
    assert [(i.path, i.message) for i in issues] == [
        ((), "missing required key 'training_data'"),
        (("training_ata",), "unknown key 'training_ata' (did you mean 'training_data'?)"),
    ]


def test_a_misspelling_explains_the_errors_it_causes():
    data = {"jobs": {"a": {"type": "command", "comand": "echo"}}}
    issues = [SchemaIssue(("jobs", "a"), "missing required key 'command'", True),
              SchemaIssue(("jobs", "a", "comand"), "unknown key 'comand' (did you mean 'command'?)", True)]
    assert drop_explained(issues, data) == issues[1:]
    # the suggested key is there: the missing key is another mistake and stays
    data["jobs"]["a"]["command"] = "echo"
    assert drop_explained(issues, data) == issues


def test_a_misspelt_discriminator_hides_what_the_wrong_variant_says():
    data = {"jobs": {"a": {"type": "comand", "trial": "x"}}, "name": 3}
    issues = [SchemaIssue(("jobs", "a", "type"), "'comand' is not one of 'command', 'sweep' (did you mean 'command'?)"),
              SchemaIssue(("jobs", "a"), "missing required key 'command'", True),
              SchemaIssue(("jobs", "a", "trial"), "unknown key 'trial'", True),
              SchemaIssue(("name",), "expected a string, got an integer (3)")]
    assert drop_explained(issues, data) == [issues[0], issues[3]]
    data = {"jobs": {"a": {"tyep": "command", "count": 0}}}
    issues = [SchemaIssue(("jobs", "a", "tyep"), "unknown key 'tyep' (did you mean 'type'?)", True),
              SchemaIssue(("jobs", "a", "count"), "0 is less than the minimum of 1")]
    assert drop_explained(issues, data) == issues[:1]


def test_misspellings_never_explain_each_other_away():
    data = {"tyep": "command", "tpye": "command"}
    issues = [SchemaIssue(("tyep",), "unknown key 'tyep' (did you mean 'type'?)", True),
              SchemaIssue(("tpye",), "unknown key 'tpye' (did you mean 'type'?)", True)]
    assert drop_explained(issues, data) == issues


def _refs(node, pointer=""):
    if isinstance(node, dict):
        if "$ref" in node:
            yield pointer, node
        for key, value in node.items():
            yield from _refs(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, f"{pointer}/{index}")


def test_no_shipped_schema_refers_to_itself_without_reading_the_value():
    # a `$ref` chain that comes back to where it started recurses forever on any instance
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "schemas"
    store = SchemaStore(folder)
    loops = []
    for file in sorted(folder.glob("*.schema.json")):
        for pointer, node in _refs(json.loads(file.read_text(encoding="utf-8"))):
            seen, schema, base = set(), node, file.name
            while "$ref" in schema:
                step = (base, schema["$ref"])
                if step in seen:
                    loops.append(f"{file.name}#{pointer}")
                    break
                seen.add(step)
                schema, base = store.resolve(schema["$ref"], base)
    assert loops == []
