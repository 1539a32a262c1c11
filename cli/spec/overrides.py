"""`--set key.path=value` overrides, applied to the spec data before validation."""

from __future__ import annotations

import re

from cli.spec.yaml_source import MAX_DEPTH, YamlSourceError, parse_value

_INDEX = re.compile(r"^(.*?)\[(\d+)\]$")


class OverrideError(Exception):
    """An override that cannot be applied; the message names the offending --set."""


def parse_override(text: str) -> tuple[tuple, object]:
    """'resources.instance_count=2' -> (('resources', 'instance_count'), 2)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise OverrideError(f"--set {text}: expected KEY=VALUE, e.g. --set resources.instance_count=2")
    path: list = []
    for part in key.strip().split("."):
        match = _INDEX.match(part)
        name, index = (match.group(1), int(match.group(2))) if match else (part, None)
        if not name:
            raise OverrideError(f"--set {text}: empty segment in key '{key}'")
        path.append(int(name) if name.isdigit() and path else name)
        if index is not None:
            path.append(index)
    value = _parse_value(raw, text)
    if len(path) + _depth(value) > MAX_DEPTH:
        raise OverrideError(f"--set {_shown(text)}: nesting is too deep (more than {MAX_DEPTH} levels)")
    return tuple(path), value


def _parse_value(raw: str, text: str):
    """Values are YAML: 2 -> int, true -> bool, null -> None, [a, b] -> a list; what is not YAML stays text.

    They pass the guards a spec file does (size, nesting, alias expansion, duplicate keys, tags)."""
    if not raw.strip():
        return raw
    try:
        return parse_value(raw, "--set")
    except YamlSourceError as exc:
        if exc.syntax:
            return raw
        raise OverrideError(f"--set {_shown(text)}: {exc.diagnostics[0].message}") from None


def _depth(value) -> int:
    """How deeply lists and mappings nest in a parsed value (already bounded by the parser)."""
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return 1 + max((_depth(child) for child in children), default=0) if isinstance(value, (dict, list)) else 0


def _shown(text: str) -> str:
    """The --set as typed, cut short when it is long (a hostile value can be megabytes)."""
    return text if len(text) <= 80 else text[:77] + "..."


def apply_override(data: dict, path: tuple, value, text: str) -> None:
    """Set `value` at `path` inside `data`, creating mappings on the way."""
    node = data
    for depth, part in enumerate(path[:-1]):
        nxt = path[depth + 1]
        if isinstance(node, dict):
            if isinstance(part, int):
                raise OverrideError(f"--set {text}: '{_dotted(path[:depth])}' is a mapping; it has no index {part}")
            child = node.get(part)
            if child is None:
                child = node[part] = [] if isinstance(nxt, int) else {}
        elif isinstance(node, list) and isinstance(part, int):
            if part >= len(node):
                raise OverrideError(f"--set {text}: index {part} is past the end of '{_dotted(path[:depth])}' ({len(node)} items)")
            child = node[part]
        else:
            raise OverrideError(f"--set {text}: '{_dotted(path[:depth])}' is not a mapping")
        if isinstance(child, str):
            what = "a reference string" if child.startswith("azureml:") else "a string"
            raise OverrideError(f"--set {text}: '{_dotted(path[:depth + 1])}' is {what} ('{child}'); it has no keys to set")
        if not isinstance(child, (dict, list)):
            from cli.spec.schema import _describe

            raise OverrideError(f"--set {text}: '{_dotted(path[:depth + 1])}' holds {_describe(child)}, not a mapping")
        node = child
    last = path[-1]
    if isinstance(node, list):
        if not isinstance(last, int):
            raise OverrideError(f"--set {text}: '{_dotted(path[:-1])}' is a list; use an index such as [0]")
        if last > len(node):
            raise OverrideError(f"--set {text}: index {last} is past the end of '{_dotted(path[:-1])}' ({len(node)} items)")
        if last == len(node):
            node.append(value)
        else:
            node[last] = value
    elif isinstance(last, int):
        raise OverrideError(f"--set {text}: '{_dotted(path[:-1])}' is a mapping; it has no index {last}")
    else:
        node[last] = value


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path) or "(root)"


def updated(data: dict, overrides, mutable) -> tuple[dict, list[str]]:
    """`update --set` as az does it on what `show` prints: (the updated copy, keys changed outside `mutable`).

    A malformed or inapplicable --set is a usage error."""
    import copy

    from cli.errors import UsageError

    after = copy.deepcopy(data)
    for text in overrides or ():
        try:
            path, value = parse_override(text)
            apply_override(after, path, value, text)
        except OverrideError as exc:
            raise UsageError(str(exc)) from None
    changed = sorted(k for k in set(data) | set(after) if k not in mutable and data.get(k) != after.get(k))
    return after, changed
