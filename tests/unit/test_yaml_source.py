import pytest

from cli.spec.yaml_source import MAX_NODES, YamlSourceError, parse_yaml


def errors(text: bytes | str) -> list[str]:
    with pytest.raises(YamlSourceError) as info:
        parse_yaml(text, "spec.yml")
    return [d.format() for d in info.value.diagnostics]


def test_positions_of_keys_and_values():
    data, smap = parse_yaml("a: 1\nb:\n  c: [1, x]\n", "spec.yml")
    assert data == {"a": 1, "b": {"c": [1, "x"]}}
    assert (smap.key_at(("b", "c")).line, smap.key_at(("b", "c")).col) == (3, 3)
    assert (smap.at(("b", "c", 1)).line, smap.at(("b", "c", 1)).col) == (3, 10)
    assert smap.at(("b", "missing", "deeper")) == smap.at(("b",))


def test_scalars_keep_yaml_types_and_dates_stay_text():
    data, _ = parse_yaml("i: 3\nf: 0.5\nb: true\nn: null\nd: 2024-01-02\ns: '3'\n", "spec.yml")
    assert data == {"i": 3, "f": 0.5, "b": True, "n": None, "d": "2024-01-02", "s": "3"}


def test_duplicate_key_points_at_the_second_one():
    assert errors("a: 1\nb: 2\na: 3\n") == ["spec.yml:3:1: error: a: duplicate key 'a' (first defined at line 1)"]


def test_tab_indentation():
    assert errors("a:\n\t- b\n") == ["spec.yml:2:1: error: YAML syntax error: a tab character where YAML expects spaces; indent with spaces"]


@pytest.mark.parametrize("text, message", [
    (b"", "spec.yml:1:1: error: the file is empty; expected a YAML mapping"),
    (b"# only a comment\n", "spec.yml:1:1: error: the file is empty; expected a YAML mapping"),
    (b"\x00\x01\x02", "spec.yml:1:1: error: not a text file (it contains NUL bytes)"),
    (b"\xff\xfe\xfa", "spec.yml:1:1: error: not UTF-8 text (invalid byte at offset 0)"),
    (b"a: 1\n---\nb: 2\n", "spec.yml:3:1: error: expected one YAML document, found several ('---')"),
])
def test_unreadable_documents(text, message):
    assert errors(text) == [message]


def test_alias_bomb_is_stopped():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]")
    message = errors("\n".join(lines) + "\n")[0]
    assert f"more than {MAX_NODES:,} nodes" in message


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, "a: " + "[" * 150 + "]" * 150, "".join(" " * i + "k:\n" for i in range(150)) + " " * 150 + "v: 1\n"])
def test_deep_nesting_is_an_error_not_a_crash(text):
    assert "nesting is too deep" in errors(text)[0]


def test_merge_keys_are_expanded_and_explicit_keys_win():
    data, _ = parse_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n", "spec.yml")
    assert data["use"] == {"x": 1, "y": 3}


def test_unsupported_tag():
    assert errors("a: !include other.yml\n") == ["spec.yml:1:4: error: a: unsupported YAML tag '!include'"]


@pytest.mark.parametrize("text, message", [
    ("a: 1\nbroken: [unclosed, list\nenvironment: x\n",
     "spec.yml:2:9: error: '[' is never closed (parsing stopped at 3:12: expected ',' or ']')"),
    ("a: 1\nbroken: {a: 1, b\nc: x\n", "spec.yml:2:9: error: '{' is never closed (parsing stopped at 3:2: expected ',' or '}')"),
    ("x: [a, {b: 1]\n", "spec.yml:1:8: error: '{' is not closed where expected (parsing stopped at 1:13: expected ',' or '}')"),
    ('a: "python x.py\nb: 2\n', "spec.yml:1:4: error: '\"' is never closed (parsing stopped at 3:1: the file ends first)"),
    ("a: 'python x.py\nb: 2\n", "spec.yml:1:4: error: \"'\" is never closed (parsing stopped at 3:1: the file ends first)"),
    ('a: "x\\qy"\n', "spec.yml:1:6: error: YAML syntax error: found unknown escape character (in the string quoted at 1:4)"),
    ("a: 1\nb:\n  c: 1\n d: 2\n",
     "spec.yml:4:2: error: YAML syntax error: expected a key in the mapping that begins at 1:1; check this line's indentation"),
    ("a:\n  - 1\n  b: 2\n",
     "spec.yml:3:3: error: YAML syntax error: expected a '-' item in the list that begins at 2:3; check this line's indentation"),
])
def test_syntax_errors_name_where_the_construct_began_and_where_parsing_stopped(text, message):
    assert errors(text) == [message]


def test_the_pure_python_parser_words_errors_the_same_way():
    text = "a: 1\nbroken: [unclosed, list\nenvironment: x\n" + "#[" * 2000  # past the C composer's bracket limit
    assert errors(text) == ["spec.yml:2:9: error: '[' is never closed (parsing stopped at 3:12: expected ',' or ']')"]
