"""`${{inputs.x}}` / `${{outputs.y}}` in a command bound to values, `$[[ ... ]]` optional segments.

Literal values go in verbatim, as on Azure (`--lr ${{inputs.lr}}` -> `--lr 0.01`); paths are
shell-quoted, so a folder name with spaces stays one argument.
"""

from __future__ import annotations

import re
import shlex

from cli.local.runner.errors import JobError

_REFERENCE = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_OPTIONAL = re.compile(r"\$\[\[(.*?)\]\]", re.DOTALL)


def bind(command: str, literals: dict[str, str], paths: dict[str, str]) -> str:
    """The command with every reference replaced; `paths` is keyed 'inputs.x' / 'outputs.y'."""

    def value(match: re.Match) -> str | None:
        key = f"{match[1]}.{match[2]}"
        if key in literals:
            return literals[key]
        if key in paths:
            return shlex.quote(paths[key])
        return None

    def substitute(text: str) -> str:
        def one(match: re.Match) -> str:
            found = value(match)
            if found is None:
                raise JobError(f"the command uses ${{{{{match[1]}.{match[2]}}}}} but the job has no"
                               f" {match[1][:-1]} '{match[2]}'")
            return found

        return _REFERENCE.sub(one, text)

    def optional(match: re.Match) -> str:
        inner = match[1]
        if any(value(ref) is None for ref in _REFERENCE.finditer(inner)):
            return ""  # an optional input left out drops its whole segment
        return substitute(inner)

    bound = substitute(_OPTIONAL.sub(optional, command))
    if "${{" in bound:
        expression = bound[bound.index("${{"):].split("}}", 1)[0] + "}}"
        raise JobError(f"the command uses {expression}, which local jobs cannot bind")
    return bound
