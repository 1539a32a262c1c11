"""Validate spec data against our JSON Schemas, with messages written for people.

A small validator for the draft 2020-12 keywords our schemas use (schemas/README.md lists them).
We do not use the `jsonschema` package here: importing it costs more than our whole validation
budget, and a union dump is the very error users complain about. Instead a failing `anyOf` reports
the one branch that matches the value's kind, an `if`/`then` reports the matching variant only, and
unknown keys and enum values get a "did you mean". The test suite checks our schemas and verdicts
against `jsonschema` itself.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cli.spec.diagnostics import did_you_mean

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


@dataclass(frozen=True)
class SchemaIssue:
    """One way an instance fails its schema. `at_key` points the report at the key, not the value."""

    path: tuple
    message: str
    at_key: bool = False


def json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() and math.isfinite(value) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_matches(value, expected) -> bool:
    actual = json_type(value)
    for name in expected if isinstance(expected, list) else [expected]:
        if name == actual or (name == "number" and actual == "integer"):
            return True
    return False


def _show(value) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


class SchemaStore:
    """Loads schema files from one folder by name and resolves `$ref`s between them."""

    def __init__(self, folder: Path):
        self.folder = folder

    @lru_cache(maxsize=None)
    def document(self, name: str) -> dict:
        with open(self.folder / name, encoding="utf-8") as handle:
            return json.load(handle)

    def resolve(self, ref: str, base: str) -> tuple[dict, str]:
        """Return (schema, file) for a reference made inside file `base`."""
        target, _, pointer = ref.partition("#")
        name = target.rsplit("/", 1)[-1] if target else base
        node = self.document(name)
        for part in filter(None, pointer.split("/")):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node, name


_COMBINATORS = ("allOf", "anyOf", "oneOf", "if", "$ref")


class Validator:
    """Checks one instance against one family schema and returns every issue found.

    One deliberate departure from JSON Schema, on by default: in a mapping that lets undeclared keys
    through (the SDK passes them to the service, which ignores them), a key that is a near miss of a
    declared one (`compuet:` beside `compute`) is reported as unknown, with its "did you mean".
    `near_misses=False` gives plain JSON Schema verdicts (the differential test compares those).
    """

    def __init__(self, store: SchemaStore, *, near_misses: bool = True):
        self.store = store
        self.near_misses = near_misses

    def validate(self, instance, schema_file: str) -> list[SchemaIssue]:
        return self._check(instance, self.store.document(schema_file), (), schema_file)

    def issues(self, instance, schema, base: str) -> list[SchemaIssue]:
        """Every issue of `instance` against `schema`, a node of document `base` (or a {"$ref": ...})."""
        return self._check(instance, schema, (), base)

    def is_valid(self, instance, schema, base: str) -> bool:
        return not self._check(instance, schema, (), base)

    def _check(self, value, schema, path: tuple, base: str) -> list[SchemaIssue]:
        if schema is True:
            return []
        if schema is False:
            return [SchemaIssue(path, "is not allowed here")]
        issues: list[SchemaIssue] = []
        if "$ref" in schema:
            target, target_base = self.store.resolve(schema["$ref"], base)
            issues += self._check(value, target, path, target_base)
        # A value of the wrong kind or outside its fixed values fails there; its insides are not checked.
        expected = schema.get("type")
        if expected is not None and not _type_matches(value, expected):
            return issues + [SchemaIssue(path, f"expected {_kinds(expected)}, got {_describe(value)}")]
        if "const" in schema and value != schema["const"]:
            return issues + [SchemaIssue(path, f"{_show(value)} must be {_show(schema['const'])}")]
        if "enum" in schema and value not in schema["enum"]:
            return issues + [SchemaIssue(path, _enum_message(value, schema["enum"]))]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            issues += _check_number(value, schema, path)
        elif isinstance(value, str):
            issues += _check_string(value, schema, path)
        elif isinstance(value, dict):
            issues += self._check_object(value, schema, path, base)
        elif isinstance(value, list):
            issues += self._check_array(value, schema, path, base)
        for sub in schema.get("allOf", ()):
            issues += self._check(value, sub, path, base)
        if "anyOf" in schema:
            issues += self._check_union(value, schema["anyOf"], path, base, exactly_one=False)
        if "oneOf" in schema:
            issues += self._check_union(value, schema["oneOf"], path, base, exactly_one=True)
        if "if" in schema:
            branch = "then" if self.is_valid(value, schema["if"], base) else "else"
            if branch in schema:
                issues += self._check(value, schema[branch], path, base)
        if "not" in schema and self.is_valid(value, schema["not"], base):
            issues.append(SchemaIssue(path, f"{_show(value)} is not allowed here"))
        return issues

    def _check_object(self, value: dict, schema, path: tuple, base: str) -> list[SchemaIssue]:
        issues = []
        properties = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in value:
                issues.append(SchemaIssue(path, f"missing required key '{key}'", at_key=True))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            issues.append(SchemaIssue(path, f"needs at least {schema['minProperties']} entr{'y' if schema['minProperties'] == 1 else 'ies'}"))
        patterns = schema.get("patternProperties", {})
        additional = schema.get("additionalProperties", True)
        names = schema.get("propertyNames")
        for key, item in value.items():
            child = path + (key,)
            if names is not None:
                for issue in self._check(key, names, child, base):
                    issues.append(SchemaIssue(child, f"key {issue.message}", at_key=True))
            matched = False
            if key in properties:
                matched = True
                issues += self._check(item, properties[key], child, base)
            for pattern, sub in patterns.items():
                if re.search(pattern, key):
                    matched = True
                    issues += self._check(item, sub, child, base)
            if matched:
                continue
            if additional is False:
                issues.append(SchemaIssue(child, f"unknown key '{key}'{did_you_mean(key, properties)}", at_key=True))
                continue
            hint = self._near_miss(key, schema, properties, value)
            if hint:
                issues.append(SchemaIssue(child, f"unknown key '{key}'{hint}", at_key=True))
            elif isinstance(additional, dict):
                issues += self._check(item, additional, child, base)
        return issues

    def _near_miss(self, key: str, schema: dict, properties: dict, value: dict) -> str:
        """The "did you mean" for an undeclared key of an open mapping.

        Where combinators declare more keys elsewhere, only a missing required key is a safe guess."""
        if not self.near_misses or not properties:
            return ""
        if any(k in schema for k in _COMBINATORS):
            return did_you_mean(key, [k for k in schema.get("required", ()) if k not in value])
        return did_you_mean(key, properties)

    def _check_array(self, value: list, schema, path: tuple, base: str) -> list[SchemaIssue]:
        issues = []
        if "minItems" in schema and len(value) < schema["minItems"]:
            issues.append(SchemaIssue(path, f"needs at least {schema['minItems']} item{'s' if schema['minItems'] != 1 else ''}, got {len(value)}"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            issues.append(SchemaIssue(path, f"takes at most {schema['maxItems']} item{'s' if schema['maxItems'] != 1 else ''}, got {len(value)}"))
        items = schema.get("items")
        if items is not None:
            for index, item in enumerate(value):
                issues += self._check(item, items, path + (index,), base)
        return issues

    def _check_union(self, value, branches: list, path: tuple, base: str, *, exactly_one: bool) -> list[SchemaIssue]:
        results = [self._check(value, branch, path, base) for branch in branches]
        passing = sum(1 for r in results if not r)
        if passing == 1 or (passing > 1 and not exactly_one):
            return []
        if passing > 1:
            return [SchemaIssue(path, "matches more than one of the allowed forms")]
        candidates = [
            (i, r) for i, r in enumerate(results)
            if not (len(r) == 1 and r[0].path == path and r[0].message.startswith("expected "))
        ]
        if not candidates:
            kinds = list(dict.fromkeys(k for b in branches for k in self._branch_kinds(b, base)))
            return [SchemaIssue(path, f"expected {_kinds(kinds) if kinds else 'another form'}, got {_describe(value)}")]
        # The branch the user meant: not one whose discriminator (`type`, `task`) says another variant,
        # then the one that got furthest (deepest issue), then the one with the fewest issues.
        _, best = min(candidates, key=lambda c: (_other_variant(c[1], path), -max(len(i.path) for i in c[1]), len(c[1])))
        return best

    def _branch_kinds(self, branch, base: str) -> list[str]:
        if isinstance(branch, dict) and "$ref" in branch and "type" not in branch:
            branch, base = self.store.resolve(branch["$ref"], base)
        if not isinstance(branch, dict):
            return []
        kind = branch.get("type")
        if kind is None:
            return [k for sub in branch.get("anyOf", branch.get("oneOf", ())) for k in self._branch_kinds(sub, base)]
        return kind if isinstance(kind, list) else [kind]


def _other_variant(issues: list, path: tuple) -> bool:
    """Whether a branch failed on a fixed value of one of its own keys: a variant the user did not write."""
    return any(len(i.path) == len(path) + 1 and (" is not one of " in i.message or " must be " in i.message) for i in issues)


def _kinds(expected) -> str:
    names = [_TYPE_NAMES.get(n, n) for n in (expected if isinstance(expected, list) else [expected])]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _describe(value) -> str:
    kind = json_type(value)
    name = _TYPE_NAMES.get(kind, kind)
    if kind in ("object", "array", "null"):
        return name
    return f"{name} ({_show(value)})"


def _enum_message(value, allowed: list) -> str:
    # Case-insensitive enums list every accepted spelling; show each value once.
    distinct = list({str(a).lower().replace("_", ""): a for a in reversed(allowed)}.values())[::-1]
    shown = ", ".join(_show(a) for a in distinct[:15]) + (", ..." if len(distinct) > 15 else "")
    hint = did_you_mean(value, allowed) if isinstance(value, str) else ""
    return f"{_show(value)} is not one of {shown}{hint}"


def _check_number(value, schema, path: tuple) -> list[SchemaIssue]:
    issues = []
    if "minimum" in schema and value < schema["minimum"]:
        issues.append(SchemaIssue(path, f"{value} is less than the minimum of {schema['minimum']}"))
    if "maximum" in schema and value > schema["maximum"]:
        issues.append(SchemaIssue(path, f"{value} is greater than the maximum of {schema['maximum']}"))
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        issues.append(SchemaIssue(path, f"{value} must be greater than {schema['exclusiveMinimum']}"))
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        issues.append(SchemaIssue(path, f"{value} must be less than {schema['exclusiveMaximum']}"))
    return issues


@lru_cache(maxsize=512)
def _regex(pattern: str):
    return re.compile(pattern)


def _check_string(value: str, schema, path: tuple) -> list[SchemaIssue]:
    issues = []
    if "minLength" in schema and len(value) < schema["minLength"]:
        issues.append(SchemaIssue(path, "must not be empty" if schema["minLength"] == 1 else f"must be at least {schema['minLength']} characters long"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        issues.append(SchemaIssue(path, f"must be at most {schema['maxLength']} characters long"))
    if "pattern" in schema and not _regex(schema["pattern"]).search(value):
        title = schema.get("title")
        what = f"is not a valid {title}" if title else f"does not match the pattern {schema['pattern']}"
        issues.append(SchemaIssue(path, f"{_show(value)} {what}"))
    return issues
