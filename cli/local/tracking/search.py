"""MLflow search syntax over runs, experiments and logged models: `filter` clauses joined by AND, `order_by`, pages.

A local workspace holds few runs, so filters are evaluated in Python over whole runs rather than
compiled to SQL; the grammar is MLflow's (search_utils.SearchUtils), minus dataset filters.
"""

from __future__ import annotations

import re
from typing import Callable

from cli.local.tracking.errors import TrackingError

CLAUSE = re.compile(
    r"""\s*(?:(?P<entity>[A-Za-z_]+)\.)?(?:`(?P<bq>[^`]+)`|"(?P<dq>[^"]+)"|(?P<key>[\w.\-/:]+))\s*
        (?P<op>!=|>=|<=|=|>|<|NOT\s+ILIKE\b|NOT\s+LIKE\b|ILIKE\b|LIKE\b|NOT\s+IN\b|IN\b|IS\s+NOT\s+NULL\b|IS\s+NULL\b)\s*
        (?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\([^)]*\)|[-+\w.]+)?\s*""", re.I | re.X)
AND = re.compile(r"AND\b\s*", re.I)
ORDER = re.compile(r"""\s*(?:(?P<entity>[A-Za-z_]+)\.)?(?:`(?P<bq>[^`]+)`|"(?P<dq>[^"]+)"|(?P<key>[\w.\-/:]+))
                       \s*(?P<dir>ASC|DESC)?\s*$""", re.I | re.X)
MAX_FILTER = 10_000  # characters: far beyond any real filter, and it bounds matching time
ENTITIES = {"metric": "metrics", "metrics": "metrics", "param": "params", "params": "params",
            "parameter": "params", "parameters": "params", "tag": "tags", "tags": "tags",
            "attribute": "attributes", "attributes": "attributes", "attr": "attributes", "run": "attributes"}
NUMERIC_ATTRIBUTES = {"start_time", "end_time", "created", "creation_time", "last_update_time",
                      "creation_timestamp", "creation_timestamp_ms", "last_updated_timestamp",
                      "last_updated_timestamp_ms"}
MODEL_ALIASES = {"creation_time": "creation_timestamp_ms", "creation_timestamp": "creation_timestamp_ms",
                 "last_updated_timestamp": "last_updated_timestamp_ms"}
MODEL_ATTRIBUTES = {"model_id", "experiment_id", "name", "model_type", "source_run_id", "status",
                    "status_message", "creation_timestamp_ms", "last_updated_timestamp_ms"}


def _error(message: str) -> TrackingError:
    return TrackingError("INVALID_PARAMETER_VALUE", message)


def _entity(name: str | None) -> str:
    if name is None:
        return "attributes"
    try:
        return ENTITIES[name.lower()]
    except KeyError:
        raise _error(f"Invalid entity type '{name}'. Valid values are "
                     "['metrics', 'params', 'tags', 'attributes']") from None


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse_filter(text: str) -> list[tuple[str, str, str, object]]:
    """(entity, key, operator, value) for each clause of an MLflow filter string."""
    if len(text or "") > MAX_FILTER:
        raise _error(f"Invalid filter: {len(text)} characters, more than the {MAX_FILTER} allowed")
    clauses, pos, text = [], 0, (text or "").strip()
    while pos < len(text):
        match = CLAUSE.match(text, pos)
        if not match:
            raise _error(f"Invalid filter '{text}': cannot parse at '{text[pos:]}'")
        entity = _entity(match["entity"])
        key = match["bq"] or match["dq"] or match["key"]
        op = " ".join(match["op"].upper().split())
        raw = match["value"]
        if raw is None and not op.startswith("IS"):
            raise _error(f"Invalid filter '{text}': '{key} {op}' has no value")
        clauses.append((entity, key, op, _value(entity, key, op, raw)))
        pos = match.end()
        if pos < len(text):
            joiner = AND.match(text, pos)
            if not joiner:
                raise _error(f"Invalid filter '{text}': expected AND at '{text[pos:]}'")
            pos = joiner.end()
    return clauses


def _value(entity: str, key: str, op: str, raw: str | None):
    if raw is None:
        return None
    if op in ("IN", "NOT IN"):
        items = re.findall(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""", raw)
        return {_unquote(i) for i in items}
    if raw[0] in "'\"":
        return _unquote(raw)
    if entity == "metrics" or key in NUMERIC_ATTRIBUTES:
        try:
            return float(raw)
        except ValueError:
            raise _error(f"Expected a number for {entity}.{key}, got '{raw}'") from None
    raise _error(f"Expected a quoted string value for {entity}.{key}, got {raw}")


def _piece(piece: str) -> Callable[[str, int], int]:
    """A finder for one `%`-free piece of a LIKE pattern: the start of its first match at or after
    a position, or -1. `_` is any one character; the regex built has no quantifier, so it runs in
    time linear in the value for each position, never backtracking."""
    if "_" not in piece:
        return lambda value, start: value.find(piece, start)
    regex = re.compile("".join("." if c == "_" else re.escape(c) for c in piece), re.S)

    def find(value: str, start: int) -> int:
        found = regex.search(value, start)
        return found.start() if found else -1

    return find


def _like(pattern: str, value: str, ignore_case: bool) -> bool:
    """SQL LIKE (`%` any run, `_` any character) in O(len(value) * len(pattern)) at worst.

    The pattern is cut at each `%` into pieces of fixed length; the first must sit at the start, the
    last at the end, and each middle one is taken at its leftmost place after the one before it,
    which finds a match whenever one exists. (A regex of `.*` runs backtracks exponentially.)"""
    if ignore_case:
        pattern, value = pattern.casefold(), value.casefold()
    pieces = pattern.split("%")
    if len(pieces) == 1:
        return len(value) == len(pattern) and _piece(pattern)(value, 0) == 0
    first, *middle, last = pieces
    if len(first) + len(last) > len(value) or (first and _piece(first)(value[:len(first)], 0) != 0):
        return False
    if last and _piece(last)(value, len(value) - len(last)) != len(value) - len(last):
        return False
    position, end = len(first), len(value) - len(last)
    for piece in middle:
        if not piece:
            continue
        found = _piece(piece)(value[:end], position)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def _compare(actual, op: str, expected) -> bool:
    if op == "IS NULL":
        return actual is None
    if op == "IS NOT NULL":
        return actual is not None
    if actual is None:
        return False
    if op in ("IN", "NOT IN"):
        return (str(actual) in expected) == (op == "IN")
    if op.endswith("LIKE"):
        found = _like(str(expected), str(actual), "ILIKE" in op)
        return found != op.startswith("NOT")
    if isinstance(expected, float):
        try:
            actual = float(actual)
        except (TypeError, ValueError):
            return False
    elif op not in ("=", "!="):
        actual = str(actual)
    return {"=": actual == expected, "!=": actual != expected, ">": actual > expected,
            ">=": actual >= expected, "<": actual < expected, "<=": actual <= expected}[op]


def _run_field(run: dict, entity: str, key: str):
    if entity == "attributes":
        key = {"created": "start_time", "run_name": "run_name"}.get(key, key)
        if key not in run["info"] and key not in ("end_time",):
            raise _error(f"Invalid attribute key '{key}' specified")
        return run["info"].get(key)
    for item in run["data"][entity]:
        if item["key"] == key:
            return item["value"]
    return None


def _experiment_field(experiment: dict, entity: str, key: str):
    if entity == "tags":
        return next((t["value"] for t in experiment["tags"] if t["key"] == key), None)
    if entity != "attributes" or key not in ("name", "creation_time", "last_update_time", "experiment_id"):
        raise _error(f"Invalid experiment filter key '{entity}.{key}'")
    return experiment[key]


def _matches(item: dict, text: str, field: Callable) -> bool:
    return all(_compare(field(item, entity, key), op, value) for entity, key, op, value in parse_filter(text))


def run_matches(run: dict, text: str) -> bool:
    return _matches(run, text, _run_field)


def experiment_matches(experiment: dict, text: str) -> bool:
    return _matches(experiment, text, _experiment_field)


def order_runs(runs: list[dict], order_by: list[str]) -> list[dict]:
    """Sort as MLflow does: by each `order_by` key in turn (missing values last), then newest first."""
    runs = sorted(runs, key=lambda r: r["info"]["run_id"])
    runs.sort(key=lambda r: r["info"]["start_time"], reverse=True)
    for clause in reversed(list(order_by or ())):
        match = ORDER.match(clause)
        if not match:
            raise _error(f"Invalid order_by clause '{clause}'")
        entity, key = _entity(match["entity"]), match["bq"] or match["dq"] or match["key"]
        descending = (match["dir"] or "ASC").upper() == "DESC"
        present = [r for r in runs if _run_field(r, entity, key) is not None]
        missing = [r for r in runs if _run_field(r, entity, key) is None]
        present.sort(key=lambda r: _run_field(r, entity, key), reverse=descending)
        runs = present + missing
    return runs


def _on_datasets(metric: dict, datasets) -> bool:
    return not datasets or any(metric.get("dataset_name") == d.get("dataset_name") and
                               (not d.get("dataset_digest") or metric.get("dataset_digest") == d["dataset_digest"])
                               for d in datasets)


def _model_values(model: dict, entity: str, key: str, datasets=()) -> list:
    """The values a logged model has for `entity.key`: a metric may hold several (steps, datasets)."""
    if entity == "attributes":
        key = MODEL_ALIASES.get(key, key)
        if key not in MODEL_ATTRIBUTES:
            raise _error(f"Invalid logged model attribute '{key}'")
        return [model["info"].get(key)]
    if entity == "metrics":
        return [m["value"] for m in model["data"]["metrics"] if m["key"] == key and _on_datasets(m, datasets)]
    items = model["info"]["tags"] if entity == "tags" else model["data"]["params"]
    return [next((i["value"] for i in items if i["key"] == key), None)]


def model_matches(model: dict, text: str, datasets=()) -> bool:
    """Whether a logged model passes a filter; a metric clause holds when any of its values does."""
    return all(any(_compare(v, op, value) for v in _model_values(model, entity, key, datasets))
               for entity, key, op, value in parse_filter(text))


def model_metrics_on(model: dict, datasets) -> bool:
    return any(_on_datasets(m, datasets) for m in model["data"]["metrics"])


def order_models(models: list[dict], order_by: list[dict]) -> list[dict]:
    """Sort as MLflow does: by each `order_by` field (a metric by its latest value), then newest first."""
    models = sorted(models, key=lambda m: m["info"]["model_id"])
    models.sort(key=lambda m: m["info"]["creation_timestamp_ms"], reverse=True)
    for clause in reversed(list(order_by or ())):
        field = str(clause.get("field_name") or "")
        entity, _, key = field.partition(".") if "." in field else ("attributes", "", field)
        if entity not in ("attributes", "metrics"):
            raise _error(f"Invalid order by field name: {field}. Only attributes and metrics are supported.")

        def sort_value(model, entity=entity, key=key, clause=clause):
            if entity == "attributes":
                return _model_values(model, entity, key)[0]
            latest = [m for m in model["data"]["metrics"] if m["key"] == key and _on_datasets(m, [clause]
                      if clause.get("dataset_name") else ())]
            return max(latest, key=lambda m: (m["timestamp"], m["step"]))["value"] if latest else None

        present = [m for m in models if sort_value(m) is not None]
        present.sort(key=sort_value, reverse=not clause.get("ascending", True))
        models = present + [m for m in models if sort_value(m) is None]
    return models


def stage_visible(stage: str, view_type: str) -> bool:
    view = (view_type or "ACTIVE_ONLY").upper()
    return view == "ALL" or (stage == "deleted") == (view == "DELETED_ONLY")


def page(items: list, max_results: int, token: str) -> tuple[list, str]:
    """One page of `items` and the token of the next ('' at the end); a token is an offset."""
    try:
        start = int(token or 0)
    except ValueError:
        raise _error(f"Invalid page token '{token}'") from None
    end = start + max(int(max_results or 1000), 1)
    return items[start:end], (str(end) if end < len(items) else "")
