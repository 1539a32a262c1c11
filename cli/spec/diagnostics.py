"""Diagnostics: one problem in one file, reported compiler style at file:line:col."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

Path = tuple  # a key path into a spec: ("jobs", "train", "inputs", "lr")


@dataclass(frozen=True, order=True)
class Diagnostic:
    file: str
    line: int
    col: int
    message: str = field(compare=True)
    path: Path = field(default=(), compare=False)
    severity: str = field(default="error", compare=False)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        prefix = f"{format_path(self.path)}: " if self.path else ""
        return f"{where}: {self.severity}: {prefix}{self.message}"


def format_path(path: Iterable) -> str:
    """Render a key path the way users write --set paths: jobs.train.inputs[0]."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close choice exists, else ''."""
    return _did_you_mean(word, tuple(c for c in choices if isinstance(c, str)))


@lru_cache(maxsize=4096)  # the validator asks the same question of every branch of a union
def _did_you_mean(word: str, choices: tuple) -> str:
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f" (did you mean '{lowered[word.lower()]}'?)"
    # difflib's ratio cannot reach the cutoff when the lengths differ too much: skip its set-up cost
    near = [c for c in choices if 2 * min(len(c), len(word)) >= 0.7 * (len(c) + len(word))]
    matches = difflib.get_close_matches(word, near, n=1, cutoff=0.7) if near else []
    if not matches:  # a transposition ('rwa' for 'raw') scores low on difflib's ratio
        matches = [c for c in choices if len(c) == len(word) and sorted(c.lower()) == sorted(word.lower())][:1]
    if not matches and len(word) >= 4:
        matches = [c for c in choices if c.lower().startswith(word.lower())][:1]
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by file and position, duplicates removed."""
    return sorted(set(diagnostics), key=lambda d: (d.file, d.line, d.col, d.message))
