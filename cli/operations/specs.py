"""The spec a create works from: a YAML file (validated, --set applied) and/or the verb's flags."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence

from cli.errors import UsageError


def load(group: str, file: Optional[Path], overrides: Sequence[str] = (), *, warn: Callable[[str], None]):
    """The validated Spec of `file`; each warning goes, formatted, to `warn`."""
    from cli.spec.loader import load_spec

    spec = load_spec(file, group=group, overrides=overrides)
    for warning in spec.warnings:
        warn(warning.format())
    return spec


def from_file_and_flags(group: str, file: Optional[Path], overrides: Sequence[str], flags: dict,
                        required: Sequence[str] = ("name",), *, warn: Callable[[str], None]) -> dict:
    """The spec data: the file's (if any), then every flag that was given on top.

    Flags are az's shortcuts for what a spec says; a flag naming a local path is taken relative to
    the working folder, as the shell user means it.
    """
    data = load(group, file, overrides, warn=warn).data if file else {}
    if not file and overrides:
        raise UsageError("--set needs a spec file (-f)")
    for key, value in flags.items():
        if value is None or value == []:
            continue
        if key == "tags":
            data["tags"] = {**(data.get("tags") or {}), **parse_tags(value)}
            continue
        data[key] = local_flag_path(value) if key in ("path", "conda_file") else value
    missing = [key for key in required if not data.get(key)]
    if missing:
        flags_text = " and ".join(f"--{key.replace('_', '-')}" for key in missing)
        raise UsageError(f"give a spec file with -f, or {flags_text}")
    if data.get("version") is not None:
        data["version"] = str(data["version"])
    return data


def parse_tags(pairs: Sequence[str]) -> dict:
    """`--tags team=ml owner=me` as az takes it; a bare key gets an empty value."""
    tags = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if not key:
            raise UsageError(f"--tags {pair}: expected key=value")
        tags[key] = value
    return tags


def local_flag_path(value: str) -> str:
    from cli.spec.paths import is_local_path, resolve_local
    from cli.spec.references import MalformedReference, is_reference, parse_reference

    if is_reference(value):  # the checks a spec file's references get (e.g. no '..' in a datastore path)
        try:
            parse_reference(value)
        except MalformedReference as exc:
            raise UsageError(str(exc)) from None
    if not is_local_path(value):
        return value
    target = resolve_local(value, Path.cwd())
    if not target.exists():
        raise UsageError(f"local path '{value}' does not exist (looked for {target})")
    return str(target)
