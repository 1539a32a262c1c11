"""One mistake, one error: drop the issues that a misspelling already explains.

A misspelt required key (`evironment:`) makes the key both unknown and missing; a misspelt `type:`
key or value makes the whole mapping validate as another variant. The user made one mistake, so
they see one error, at the misspelt word, with its "did you mean".
"""

from __future__ import annotations

import re
from typing import Sequence, TypeVar

_UNKNOWN_KEY = re.compile(r"^unknown key '.*' \(did you mean '(.+)'\?\)$")
_BAD_VALUE = re.compile(r" is not one of .* \(did you mean '.+'\?\)$")
# Keys whose value picks the variant a mapping is validated as.
DISCRIMINATORS = ("type",)

Issue = TypeVar("Issue")  # anything with .path (a key path) and .message


def drop_explained(issues: Sequence[Issue], data) -> list[Issue]:
    """`issues` without those explained by a misspelt key or discriminator value."""
    causes = []  # (the misspelling, the mapping it sits in, the key it was meant to be)
    for issue in issues:
        match = _UNKNOWN_KEY.match(issue.message)
        if match and len(issue.path) >= 1:
            owner, meant = tuple(issue.path[:-1]), match.group(1)
            mapping = _lookup(data, owner)
            if isinstance(mapping, dict) and meant not in mapping:
                causes.append((issue, owner, meant))
        elif issue.path and issue.path[-1] in DISCRIMINATORS and _BAD_VALUE.search(issue.message):
            causes.append((issue, tuple(issue.path[:-1]), None))
    if not causes:
        return list(issues)
    # A misspelling is never explained away by another: whatever is dropped, the misspellings stay.
    kept = {id(cause[0]) for cause in causes}
    return [issue for issue in issues if id(issue) in kept or not any(_explains(cause, issue) for cause in causes)]


def _explains(cause, issue) -> bool:
    _, owner, meant = cause
    path = tuple(issue.path)
    if meant is None or meant in DISCRIMINATORS:  # the mapping was checked as the wrong variant
        return path[: len(owner)] == owner
    if path == owner and issue.message.startswith(("missing required key", f"'{meant}'")):
        return True
    return path[: len(owner) + 1] == owner + (meant,)


def _lookup(data, path: tuple):
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data
