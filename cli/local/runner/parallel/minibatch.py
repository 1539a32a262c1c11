"""Input data -> mini-batches, as Azure's parallel run splits it. Standard library only: this module
runs in the job's own interpreter (the parallel driver imports it), never needing ml's packages.

- `mini_batch_size` is a file count ("10") or a size ("10kb", "1mb", "2gb"): file inputs are grouped so
  a mini-batch holds that many files, or files adding up to at most that size (at least one file each);
  tabular inputs (an MLTable with read_delimited / read_parquet / read_json_lines) are split by rows,
  the size (a plain number is bytes there, as on Azure: the SDK writes "10kb" as "10240") giving the
  rows of about that many bytes of the files.
- uri_file: one file; uri_folder: every file under the folder, sorted by relative path (hidden files
  and folders left out); mltable: the files its `paths:` name (file, folder, pattern).
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?b)?\s*$", re.IGNORECASE)
_UNITS = {None: None, "b": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3, "tb": 1024 ** 4}
TABULAR_READERS = ("read_delimited", "read_parquet", "read_json_lines")


class InputError(Exception):
    """The input data or the mini-batch size cannot be used; the message says why."""


@dataclass(frozen=True)
class BatchSize:
    count: int | None = None  # files (or rows) per mini-batch
    size: int | None = None  # bytes per mini-batch


def parse_size(text: str | int | None, default: int = 10) -> BatchSize:
    """'10' -> 10 files; '10kb' -> 10240 bytes (Azure's units are powers of 1024)."""
    if text is None or text == "":
        return BatchSize(count=default)
    match = _SIZE.match(str(text))
    if not match or int(match[1]) < 1:
        raise InputError(f"mini_batch_size '{text}' is neither a positive count nor a size such as 10kb or 1mb")
    unit = _UNITS[match[2].lower() if match[2] else None]
    return BatchSize(count=int(match[1])) if unit is None else BatchSize(size=int(match[1]) * unit)


@dataclass
class Table:
    """A tabular MLTable: its files and how to read them (the worker builds DataFrames from this)."""
    files: list[str]
    reader: str
    options: dict = field(default_factory=dict)


def files_under(folder: Path) -> list[str]:
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(root, n) for n in sorted(names) if not n.startswith("."))
    return sorted(found, key=lambda p: os.path.relpath(p, folder))


def input_files(path: str, input_type: str | None) -> list[str] | Table:
    """The files of the input (or the Table of an MLTable with a reader)."""
    source = Path(path)
    if not source.exists():
        raise InputError(f"input_data {path} does not exist")
    if source.is_dir() and (source / "MLTable").is_file() and input_type in (None, "mltable"):
        return read_mltable(source)
    if input_type == "mltable":
        raise InputError(f"input_data {path} is an mltable input without an MLTable file")
    if source.is_file():
        return [str(source)]
    return files_under(source)


def read_mltable(folder: Path) -> list[str] | Table:
    spec = _load_yaml((folder / "MLTable").read_text(encoding="utf-8"))
    files: list[str] = []
    for entry in spec.get("paths") or []:
        kind, value = next(iter(entry.items())) if isinstance(entry, dict) and entry else (None, None)
        if kind not in ("file", "folder", "pattern") or not isinstance(value, str):
            raise InputError(f"MLTable in {folder}: a path entry must be file:, folder: or pattern:")
        if "://" in value:
            raise InputError(f"MLTable in {folder}: remote path {value} is not read by local parallel jobs")
        target = (folder / value) if not os.path.isabs(value) else Path(value)
        if kind == "file":
            files.append(str(target))
        elif kind == "folder":
            files.extend(files_under(target))
        else:
            files.extend(sorted(p for p in glob.glob(str(target), recursive=True) if os.path.isfile(p)))
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        raise InputError(f"MLTable in {folder} names {missing[0]}, which does not exist")
    for step in spec.get("transformations") or []:
        name, options = (next(iter(step.items())) if isinstance(step, dict) else (step, {}))
        if name in TABULAR_READERS:
            return Table(files, name, options if isinstance(options, dict) else {})
    return files


def _load_yaml(text: str) -> dict:
    """PyYAML when the job's environment has it; else the plain subset MLTable files are written in."""
    try:
        import yaml
    except ImportError:
        return _plain_yaml(text)
    loaded = yaml.safe_load(text)
    return loaded if isinstance(loaded, dict) else {}


def _plain_yaml(text: str) -> dict:
    """`paths:` and `transformations:` lists of `- key: value` / `- key:` + indented `k: v` options."""
    result: dict = {}
    section, item = None, None
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if indent == 0 and stripped.endswith(":"):
            section, item = stripped[:-1], None
            result[section] = []
        elif stripped.startswith("- ") and section:
            key, _, value = stripped[2:].partition(":")
            item = {key.strip(): _scalar(value) if value.strip() else {}}
            result[section].append(item if value.strip() or ":" in stripped else key.strip())
        elif item is not None and ":" in stripped:
            key, _, value = stripped.partition(":")
            options = next(iter(item.values()))
            if isinstance(options, dict):
                options[key.strip()] = _scalar(value)
    return result


def _scalar(text: str):
    value = text.strip().strip("'\"")
    return {"true": True, "false": False}.get(value.lower(), value)


def split_files(files: list[str], size: BatchSize) -> list[list[str]]:
    if size.count:
        return [files[i:i + size.count] for i in range(0, len(files), size.count)]
    batches: list[list[str]] = []
    current, total = [], 0
    for path in files:
        length = os.path.getsize(path)
        if current and total + length > size.size:
            batches.append(current)
            current, total = [], 0
        current.append(path)
        total += length
    if current:
        batches.append(current)
    return batches


def split_rows(rows: int, total_bytes: int, size: BatchSize) -> list[tuple[int, int]]:
    """Row ranges [start, stop) of a table of `rows` rows taking `total_bytes` on disk."""
    if rows <= 0:
        return []
    per = size.count or max(1, int(size.size * rows / max(total_bytes, 1)))
    return [(start, min(start + per, rows)) for start in range(0, rows, per)]
