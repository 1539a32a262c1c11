"""Load YAML once, keeping the line and column of every key and value.

PyYAML's C composer gives a node tree with marks; we build plain Python data from it ourselves so
that duplicate keys, alias bombs, deep nesting and unsupported tags become diagnostics instead of
silent overwrites, hangs or crashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from cli.spec.diagnostics import Diagnostic

MAX_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000  # after alias expansion; stops "billion laughs"
MAX_DEPTH = 100
# libyaml's composer recurses on the C stack for flow collections and can crash on deep input;
# above this many brackets we use the pure-Python composer, which raises RecursionError instead.
_C_COMPOSER_BRACKET_LIMIT = 2_000

_TOO_LARGE = f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB, the limit for a spec"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_scalar_constructor = yaml.constructor.SafeConstructor()
_STR, _INT, _FLOAT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))
_TIMESTAMP, _MERGE = "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge"
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


@dataclass(frozen=True)
class Position:
    line: int
    col: int


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of a document stands in its file."""

    file: str
    values: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)

    def at(self, path: tuple) -> Position:
        """The position of the value at `path`, or of its nearest existing ancestor."""
        path = tuple(path)
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, Position(1, 1))

    def key_at(self, path: tuple) -> Position:
        """The position of the key that introduces `path` (falls back to the value)."""
        return self.keys.get(tuple(path)) or self.at(path)


class YamlSourceError(Exception):
    """The text is not a YAML document we can read; carries the diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__(diagnostics[0].message if diagnostics else "invalid YAML")
        self.diagnostics = diagnostics
        self.syntax = False  # True: not YAML at all, as opposed to YAML that breaks a limit or a rule


def _pos(mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def parse_yaml(text: str | bytes, file: str) -> tuple[object, SourceMap]:
    """Parse one YAML document into plain data plus its source map; raise YamlSourceError."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise _fail(file, 1, 1, _TOO_LARGE)
        if b"\x00" in text:
            raise _fail(file, 1, 1, "not a text file (it contains NUL bytes)")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _fail(file, 1, 1, f"not UTF-8 text (invalid byte at offset {exc.start})") from None
    nodes = _compose(text, file)
    if not nodes or nodes[0] is None:
        raise _fail(file, 1, 1, "the file is empty; expected a YAML mapping")
    if len(nodes) > 1:
        second = nodes[1]
        p = _pos(second.start_mark) if second is not None else Position(1, 1)
        raise _fail(file, p.line, p.col, "expected one YAML document, found several ('---')")
    return _build(nodes[0], file)


def parse_value(text: str, where: str):
    """One YAML value written on the command line (a `--set` value), under the guards a file gets."""
    nodes = _compose(text, where)
    if len(nodes) > 1:
        error = _fail(where, 1, 1, "expected one YAML value, found several documents ('---')")
        error.syntax = True
        raise error
    if not nodes or nodes[0] is None:
        return None
    return _build(nodes[0], where)[0]


def _compose(text: str, file: str) -> list:
    """The node tree of every document in `text`, within the size and nesting limits."""
    if len(text) > MAX_BYTES:
        raise _fail(file, 1, 1, _TOO_LARGE)
    loader = _Loader if text.count("[") + text.count("{") < _C_COMPOSER_BRACKET_LIMIT else yaml.SafeLoader
    try:
        return list(yaml.compose_all(text, Loader=loader))
    except yaml.MarkedYAMLError as exc:
        error = _syntax_error(exc, text, file)
    except yaml.YAMLError as exc:
        error = _fail(file, 1, 1, f"YAML error: {exc}")
    except RecursionError:
        line, col = _where_nesting_exceeds(text, MAX_DEPTH)
        raise _fail(file, line, col, f"YAML nesting is too deep (more than {MAX_DEPTH} levels)") from None
    error.syntax = True
    raise error


def _build(node, file: str) -> tuple[object, SourceMap]:
    builder = _Builder(file)
    data = builder.build(node, (), 0)
    if builder.diagnostics:
        raise YamlSourceError(builder.diagnostics)
    return data, builder.source_map


_OPENERS = {"while parsing a flow sequence": "[", "while parsing a flow mapping": "{"}
_BLOCKS = {"while parsing a block mapping": "mapping", "while parsing a block collection": "list"}


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, file: str) -> YamlSourceError:
    """Where the broken construct began and where the parser gave up, from its context and problem marks.

    An unclosed bracket or quote is reported where it opens (the parser only notices lines later);
    a block mapping or list is reported where parsing stopped, naming the line the block began on.
    """
    problem_mark, context_mark = exc.problem_mark, exc.context_mark
    mark = problem_mark or context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = _plain_problem(exc.problem or exc.context or "invalid YAML")
    if _char_at(text, line, col) == "\t" or "tab" in problem.lower():
        return _fail(file, line, col, "YAML syntax error: a tab character where YAML expects spaces; indent with spaces")
    if context_mark is None or problem_mark is None:
        return _fail(file, line, col, f"YAML syntax error: {problem}")
    began = _pos(context_mark)
    stopped = f"{line}:{col}"
    opener = _OPENERS.get(exc.context)
    if exc.context in ("while scanning a quoted scalar", "while parsing a quoted scalar"):
        opener = _char_at(text, began.line, began.col) or '"'
        if "file ends" not in problem and "document" not in problem:
            return _fail(file, line, col, f"YAML syntax error: {problem} (in the string quoted at {began.line}:{began.col})")
    if opener:
        closed = "is never closed" if line > began.line else "is not closed where expected"
        shown = f'"{opener}"' if opener == "'" else f"'{opener}'"
        return _fail(file, began.line, began.col, f"{shown} {closed} (parsing stopped at {stopped}: {problem})")
    block = _BLOCKS.get(exc.context)
    if block:
        return _fail(file, line, col, f"YAML syntax error: {problem} in the {block} that begins at {began.line}:{began.col}; check this line's indentation")
    return _fail(file, line, col, f"YAML syntax error: {problem} ({exc.context} at {began.line}:{began.col})")


def _plain_problem(problem: str) -> str:
    """libyaml and PyYAML word the same problem differently; say it one way."""
    problem = problem.replace("did not find expected ", "expected ")
    if problem.startswith("expected ") and ", but " in problem:
        problem = problem.split(", but ")[0]
    problem = problem.replace("found unexpected end of stream", "the file ends first")
    problem = problem.replace("expected key", "expected a key").replace("expected '-' indicator", "expected a '-' item")
    return problem.replace("<block end>", "the end of the block")


def _where_nesting_exceeds(text: str, limit: int) -> tuple[int, int]:
    """Line and column where flow brackets first nest deeper than `limit` (1:1 if they never do)."""
    depth, line, col = 0, 1, 0
    for char in text:
        col += 1
        if char == "\n":
            line, col = line + 1, 0
        elif char in "[{":
            depth += 1
            if depth > limit:
                return line, col
        elif char in "]}":
            depth -= 1
    return 1, 1


def _char_at(text: str, line: int, col: int) -> str:
    lines = text.splitlines()
    if 0 < line <= len(lines) and 0 < col <= len(lines[line - 1]):
        return lines[line - 1][col - 1]
    return ""


def _fail(file: str, line: int, col: int, message: str) -> YamlSourceError:
    return YamlSourceError([Diagnostic(file, line, col, message)])


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.source_map = SourceMap(file)
        self.diagnostics: list[Diagnostic] = []
        self.count = 0

    def error(self, mark, message: str, path: tuple = ()) -> None:
        p = _pos(mark)
        self.diagnostics.append(Diagnostic(self.file, p.line, p.col, message, path))

    def build(self, node, path: tuple, depth: int):
        self.count += 1
        if self.count > MAX_NODES:
            raise _fail(self.file, 1, 1, f"document expands to more than {MAX_NODES:,} nodes (YAML alias bomb?)")
        if depth > MAX_DEPTH:
            p = _pos(node.start_mark)
            raise _fail(self.file, p.line, p.col, f"YAML nesting is too deep (more than {MAX_DEPTH} levels)")
        self.source_map.values.setdefault(path, _pos(node.start_mark))
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in (_MAP, _SEQ):
            self.error(node.start_mark, f"unsupported YAML tag '{node.tag}'", path)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node, path: tuple, depth: int) -> dict:
        result: dict = {}
        seen: dict = {}
        merged: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.update(self._merge_sources(value_node, path, depth))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node.start_mark, "mapping keys must be plain scalars", path)
                continue
            key = self._scalar(key_node, path)
            key = key if isinstance(key, str) else ("null" if key is None else str(key).lower() if isinstance(key, bool) else str(key))
            if key in seen:
                first = seen[key]
                self.error(key_node.start_mark, f"duplicate key '{key}' (first defined at line {first.line})", path + (key,))
                continue
            seen[key] = _pos(key_node.start_mark)
            self.source_map.keys[path + (key,)] = seen[key]
            result[key] = self.build(value_node, path + (key,), depth + 1)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _merge_sources(self, node, path: tuple, depth: int) -> dict:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                self.error(source.start_mark, "'<<' merge needs a mapping or a list of mappings", path)
                continue
            merged.update(self._mapping(source, path, depth + 1))
        return merged

    def _scalar(self, node, path: tuple):
        tag = node.tag
        if tag == _STR or not isinstance(node, yaml.ScalarNode):
            return node.value
        if tag in (_INT, _FLOAT, _BOOL, _NULL):
            try:
                return _scalar_constructor.construct_object(node, deep=True)
            except (ValueError, yaml.YAMLError):
                return node.value
        if tag == _TIMESTAMP:
            return node.value  # kept as written: specs carry dates as strings
        self.error(node.start_mark, f"unsupported YAML tag '{tag}'", path)
        return node.value
