"""stdout carries data only: -o json|yaml|table|tsv|none, filtered by --query (JMESPath)."""

from __future__ import annotations

import json
import sys

FORMATS = ("json", "jsonc", "yaml", "yamlc", "table", "tsv", "none")


def render(data, fmt: str, query: str | None = None, columns: tuple = ()) -> str:
    """The text printed on stdout for `data` (empty for -o none).

    `columns` (dotted keys) picks what `-o table` shows of a list, as az's table transformers do."""
    if query:
        import jmespath

        data = jmespath.search(query, data)
    if fmt == "none":
        return ""
    if fmt in ("json", "jsonc"):
        return json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n"
    if fmt in ("yaml", "yamlc"):
        import yaml

        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
    if fmt == "tsv":
        return _tsv(data)
    if fmt == "table":
        return _table(_pick(data, columns) if columns and not query else data)
    raise ValueError(fmt)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


def _tsv(data) -> str:
    """As az: one line per item; a mapping prints its scalar values tab-separated."""
    rows = data if isinstance(data, list) else [data]
    lines = []
    for row in rows:
        if isinstance(row, dict):
            lines.append("\t".join(_cell(v) for v in row.values() if not isinstance(v, (dict, list))))
        elif isinstance(row, list):
            lines.append("\t".join(_cell(v) for v in row))
        elif row is not None:
            lines.append(_cell(row))
    return "".join(line + "\n" for line in lines)


def _table(data) -> str:
    rows = data if isinstance(data, list) else [data]
    rows = [r if isinstance(r, dict) else {"Result": r} for r in rows if r is not None]
    if not rows:
        return ""
    columns: list = []
    for row in rows:
        for key, value in row.items():
            if key not in columns and not isinstance(value, (dict, list)):
                columns.append(key)
    widths = {c: max(len(_title(c)), *(len(_cell(r.get(c))) for r in rows)) for c in columns}
    head = "  ".join(_title(c).ljust(widths[c]) for c in columns).rstrip()
    rule = "  ".join("-" * widths[c] for c in columns)
    body = ["  ".join(_cell(r.get(c)).ljust(widths[c]) for c in columns).rstrip() for r in rows]
    return "\n".join([head, rule, *body]) + "\n"


def _pick(data, columns: tuple):
    """Each mapping of a list reduced to `columns`, named by their last segment."""
    if not isinstance(data, list):
        return data
    picked = []
    for row in data:
        if not isinstance(row, dict):
            return data
        entry = {}
        for column in columns:
            value = row
            for part in column.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            entry[column.rsplit(".", 1)[-1]] = value
        picked.append(entry)
    return picked


def _title(key: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in str(key).replace("-", "_").split("_"))


def write(text: str) -> None:
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()
