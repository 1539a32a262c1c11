"""Validate many spec files, each with its own family, and summarize."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from cli.errors import UsageError
from cli.spec.diagnostics import Diagnostic

SPEC_SUFFIXES = (".yml", ".yaml")


@dataclass
class FileResult:
    file: str
    family: str | None
    status: str  # valid | invalid | skipped
    diagnostics: list[Diagnostic] = field(default_factory=list)
    reason: str = ""


@dataclass
class ValidationReport:
    results: list[FileResult] = field(default_factory=list)

    @property
    def invalid(self) -> int:
        return sum(r.status == "invalid" for r in self.results)

    def lines(self, *, warnings: bool = True) -> Iterable[str]:
        for result in self.results:
            yield from (d.format() for d in result.diagnostics if warnings or d.is_error)

    def summary(self) -> str:
        counts = {s: sum(r.status == s for r in self.results) for s in ("valid", "invalid", "skipped")}
        total = len(self.results)
        text = f"{total} file{'s' if total != 1 else ''}: {counts['valid']} valid, {counts['invalid']} invalid"
        return text + (f", {counts['skipped']} skipped (not Azure ML specs)" if counts["skipped"] else "")

    def as_data(self) -> list[dict]:
        return [
            {"file": r.file, "family": r.family, "status": r.status, "errors": [d.format() for d in r.diagnostics], **({"reason": r.reason} if r.reason else {})}
            for r in self.results
        ]


def spec_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() in SPEC_SUFFIXES and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    return files


def validate_paths(paths: Sequence[Path], overrides: Sequence[str] = ()) -> ValidationReport:
    from cli.spec.families import FamilyError, choose_family
    from cli.spec.loader import check_spec, display_name
    from cli.spec.yaml_source import YamlSourceError, parse_yaml

    report = ValidationReport()
    for file in spec_files(paths):
        shown = display_name(file)
        try:
            data, _ = parse_yaml(file.read_bytes(), shown)
        except YamlSourceError:
            data = None
        except OSError as exc:
            report.results.append(FileResult(shown, None, "invalid", [Diagnostic(shown, 1, 1, f"cannot read it ({exc.strerror})")]))
            continue
        if isinstance(data, dict) and "$schema" not in data:
            try:
                choose_family(data, None)
            except FamilyError as exc:
                report.results.append(FileResult(shown, None, "skipped", reason=str(exc)))
                continue
        spec, diagnostics = check_spec(file, overrides=overrides)
        family = spec.family.name if spec else None
        invalid = spec is None or any(d.is_error for d in diagnostics)
        report.results.append(FileResult(shown, family, "invalid" if invalid else "valid", diagnostics))
    return report
