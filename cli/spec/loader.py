"""The spec layer's entry point: a file (and --set overrides) in, a validated spec out.

Pure with respect to the workspace: it reads the spec and the files it names, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from cli.errors import SpecInvalidError, UsageError
from cli.spec import bindings, rules
from cli.spec.diagnostics import Diagnostic, sort_diagnostics
from cli.spec.families import Family, FamilyError, choose_family, schema_store
from cli.spec.overrides import OverrideError, apply_override, parse_override
from cli.spec.paths import display_name, is_local_path, missing, resolve_local, resolve_paths
from cli.spec.references import MalformedReference, is_reference, parse_reference
from cli.spec.typos import drop_explained
from cli.spec.yaml_source import SourceMap, YamlSourceError, parse_yaml


@dataclass
class Spec:
    """A validated spec: its family, its data (overrides applied, local paths absolute)."""

    file: Path
    family: Family
    data: dict
    source_map: SourceMap
    included: dict = field(default_factory=dict)  # key path -> Spec loaded from another file
    warnings: list = field(default_factory=list)  # Diagnostics that do not make the spec invalid

    def resolved(self) -> dict:
        """The data with every included file inlined: what would be sent."""
        import copy

        data = copy.deepcopy(self.data)
        for path, included in self.included.items():
            node = data
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = included.resolved()
        return data


class _Checker:
    """Collects the diagnostics of one top-level spec and of every file it includes."""

    def __init__(self):
        self.diagnostics: list[Diagnostic] = []
        self.loaded: dict[Path, Spec | None] = {}

    def report(self, smap: SourceMap, path: tuple, message: str, *, at_key: bool = False, severity: str = "error") -> None:
        pos = smap.key_at(path) if at_key else smap.at(path)
        self.diagnostics.append(Diagnostic(smap.file, pos.line, pos.col, message, tuple(path), severity))

    def load(self, file: Path, group: str | None, overrides: Sequence[str] = (), stack: tuple = ()) -> Spec | None:
        resolved = file.resolve()
        if resolved in stack:
            return None  # an include cycle; reported by the includer
        if resolved in self.loaded and not overrides:
            return self.loaded[resolved]
        spec = self._load(file, group, overrides, stack + (resolved,))
        self.loaded[resolved] = spec
        return spec

    def _load(self, file: Path, group, overrides, stack) -> Spec | None:
        shown = display_name(file)
        try:
            raw = read_spec_bytes(file)
        except FileNotFoundError:
            raise UsageError(f"{shown}: no such file") if len(stack) == 1 else _MissingInclude(shown)
        except OSError as exc:
            raise UsageError(f"{shown}: cannot read it ({exc.strerror})")
        try:
            data, smap = parse_yaml(raw, shown)
        except YamlSourceError as exc:
            self.diagnostics += exc.diagnostics
            return None
        if not isinstance(data, dict):
            from cli.spec.schema import _describe

            self.report(smap, (), f"expected a mapping of keys at the top level, got {_describe(data)}")
            return None
        overridden = self._apply_overrides(data, overrides)
        try:
            family = choose_family(data, group)
        except FamilyError as exc:
            if len(stack) > 1 and "not a spec family ml knows" in str(exc):
                raise _UnknownFamily(str(exc).replace(" ml knows", "")) from None
            where = ("$schema",) if "$schema" in data else ("type",) if "type" in data else ()
            misspelt = None if where else _misspelt_type_key(data)
            if misspelt:  # `tyep: amlcompute`: the one mistake is the key
                self.report(smap, (misspelt,), f"unknown key '{misspelt}' (did you mean 'type'?)", at_key=True)
            else:
                self.report(smap, where, str(exc))
            return None
        reference_findings = _check_references(data)
        bad_references = {f.path for f in reference_findings}
        issues = [i for i in _validator().validate(data, family.schema_file) if i.path not in bad_references]
        spec = Spec(file, family, data, smap)
        findings = reference_findings + resolve_paths(data, file.resolve().parent) + rules.check(family.name, data)
        findings += self._load_includes(spec, stack)
        findings += _check_bindings(spec)
        kept = {id(item) for item in drop_explained(issues + findings, data)}
        for issue in (i for i in issues if id(i) in kept):
            override = next((text for key, text in overridden if issue.path[: len(key)] == key), None)
            if override is not None:
                self.diagnostics.append(Diagnostic(f"--set {override}", 0, 0, issue.message, issue.path))
            else:
                self.report(smap, issue.path, issue.message, at_key=issue.at_key)
        for finding in (f for f in findings if id(f) in kept):
            self.report(smap, finding.path, finding.message, severity=finding.severity)
        return spec

    def _apply_overrides(self, data: dict, overrides) -> list[tuple]:
        applied = []
        for text in overrides:
            try:
                path, value = parse_override(text)
            except OverrideError as exc:
                raise UsageError(str(exc)) from None
            try:
                apply_override(data, path, value, text)
            except OverrideError as exc:
                self.diagnostics.append(Diagnostic("--set", 0, 0, str(exc)))
                continue
            applied.append((path, text))
        return applied

    def _load_includes(self, spec: Spec, stack) -> list[bindings.Finding]:
        """Load `component: ./x.yml`, `trial: x.yml` and `create_job: job.yml` from their own files."""
        findings = []
        for path, value, group in _include_sites(spec.data, spec.family):
            target = resolve_local(value, spec.file.resolve().parent)
            if not missing(target) and target.resolve() in stack:
                findings.append(bindings.Finding(path, f"'{value}' includes itself (cycle through {display_name(target)})"))
                continue
            # a pipeline deployment's component file is created as an anonymous component (azureml_anonymous,
            # as the SDK does), so its own name is neither kept nor held to the component name rule
            anonymous = ("name=azureml_anonymous",) if spec.family.name == "pipelineComponentBatchDeployment" else ()
            try:
                included = self.load(target, group, anonymous, stack)
            except _MissingInclude:
                what = "component file" if group == "component" else "file"
                findings.append(bindings.Finding(path, f"{what} '{value}' does not exist (looked for {display_name(target)})"))
                continue
            except UsageError as exc:
                findings.append(bindings.Finding(path, exc.message))
                continue
            except _UnknownFamily as exc:
                findings.append(bindings.Finding(path, f"'{value}' is {exc}; not validated", "warning"))
                continue
            if included is not None:
                spec.included[path] = included
                if path[0] == "create_job" and included.family.name != "pipelineJob":
                    kind = included.family.type_values[0] if included.family.type_values else included.family.name
                    findings.append(bindings.Finding(path, f"a schedule can only create pipeline jobs; '{value}' is a {kind} job (Azure refuses it)"))
        return findings


class _MissingInclude(Exception):
    pass


class _UnknownFamily(Exception):
    """An included file of a family ml does not validate (e.g. a promptflow flow used as a component)."""


def _misspelt_type_key(data: dict) -> str | None:
    from cli.spec.diagnostics import did_you_mean

    return next((key for key in data if isinstance(key, str) and did_you_mean(key, ["type"])), None)


def read_spec_bytes(file: Path) -> bytes:
    """The file's bytes; refuses devices and pipes, and reads no more than the size limit allows."""
    import stat

    from cli.spec.yaml_source import MAX_BYTES

    mode = file.stat().st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "it is a folder, expected a YAML file")
    if not stat.S_ISREG(mode):
        raise OSError(0, "not a regular file")
    with open(file, "rb") as handle:
        return handle.read(MAX_BYTES + 1)


def _include_sites(data: dict, family: Family):
    jobs = data.get("jobs") if family.name in ("pipelineJob", "pipelineComponent") else None
    if isinstance(jobs, dict):
        for step, node in jobs.items():
            if isinstance(node, dict):
                for key in ("component", "trial"):
                    if is_local_path(node.get(key)):
                        yield ("jobs", step, key), node[key], "component"
    environment = data.get("environment")
    if isinstance(environment, str) and environment.startswith("file:"):
        yield ("environment",), environment, "environment"
    if family.name == "schedule" and is_local_path(data.get("create_job")):
        yield ("create_job",), data["create_job"], "job"
    create_job = data.get("create_job")
    if family.name == "schedule" and isinstance(create_job, dict) and is_local_path(create_job.get("job")):
        yield ("create_job", "job"), create_job["job"], "job"
    if family.name == "pipelineComponentBatchDeployment" and is_local_path(data.get("component")):
        yield ("component",), data["component"], "component"


def _check_references(data, path: tuple = ()) -> list[bindings.Finding]:
    findings = []
    if isinstance(data, dict):
        for key, value in data.items():
            findings += _check_references(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            findings += _check_references(value, path + (index,))
    elif isinstance(data, str) and "${{" not in data and is_reference(data):
        try:
            parse_reference(data)
        except MalformedReference as exc:
            findings.append(bindings.Finding(path, str(exc)))
    return findings


def _check_bindings(spec: Spec) -> list[bindings.Finding]:
    data, name = spec.data, spec.family.name
    inputs, outputs = data.get("inputs"), data.get("outputs")
    if name in ("commandJob", "commandComponent"):
        return bindings.check_command(data.get("command"), ("command",), inputs, outputs, check_optional=name == "commandComponent")
    if name == "sweepJob":
        trial = data.get("trial")
        if isinstance(trial, dict):
            return bindings.check_command(trial.get("command"), ("trial", "command"), inputs, outputs, data.get("search_space") or {})
        return []
    if name in ("sparkJob", "sparkComponent"):
        return bindings.check_command(data.get("args"), ("args",), inputs, outputs, check_optional=name == "sparkComponent")
    if name == "parallelComponent":
        task = data.get("task")
        return bindings.check_command(task.get("program_arguments") if isinstance(task, dict) else None, ("task", "program_arguments"), inputs, outputs)
    if name in ("pipelineJob", "pipelineComponent"):
        findings = bindings.check_pipeline(data, lambda node: _component_ports(spec, node))
        for step, node in (data.get("jobs") or {}).items() if isinstance(data.get("jobs"), dict) else ():
            if isinstance(node, dict):
                findings += _check_inline_node(step, node)
        return findings
    return []


def _check_inline_node(step: str, node: dict) -> list[bindings.Finding]:
    component = node.get("component")
    findings = []
    if isinstance(component, dict) and component.get("type", "command") == "command":
        findings += bindings.check_command(component.get("command"), ("jobs", step, "component", "command"), component.get("inputs"), component.get("outputs"))
    if "command" in node and not isinstance(component, (dict, str)):
        findings += bindings.check_command(node.get("command"), ("jobs", step, "command"), node.get("inputs"), node.get("outputs"), check_optional=False)
    return findings


def _component_ports(spec: Spec, node: dict):
    component = node.get("component")
    if isinstance(component, dict):
        return component.get("inputs") or {}, component.get("outputs") or {}
    for path, included in spec.included.items():
        if path[-1] == "component" and spec.data["jobs"].get(path[1]) is node:
            return included.data.get("inputs") or {}, included.data.get("outputs") or {}
    return None


def _validator():
    from cli.spec.schema import Validator

    return Validator(schema_store())


def check_spec(file: str | Path, *, group: str | None = None, overrides: Sequence[str] = ()) -> tuple[Spec | None, list[Diagnostic]]:
    """Validate a spec file; return the spec (None if unreadable) and every diagnostic, sorted."""
    checker = _Checker()
    spec = checker.load(Path(file), group, tuple(overrides))
    return spec, sort_diagnostics(checker.diagnostics)


def load_spec(file: str | Path, *, group: str | None = None, overrides: Sequence[str] = ()) -> Spec:
    """Validate a spec file and return it; raise SpecInvalidError with every diagnostic."""
    spec, diagnostics = check_spec(file, group=group, overrides=overrides)
    if spec is None or any(d.is_error for d in diagnostics):
        raise SpecInvalidError(diagnostics)
    spec.warnings = diagnostics
    return spec
