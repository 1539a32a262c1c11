"""The layer rules of cli/ (written down in cli/__init__.py), checked on the source with ast.

Every import is counted, at module level or inside a function, so a lazy import cannot slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[1] / "cli"

# What each layer may import of cli/ (besides itself, cli.errors, and `cli` for __version__).
ALLOWED = {
    "cli": set(),
    "cli.__main__": {"cli.app"},
    "cli.app": {"cli.application", "cli.commands", "cli.output"},
    "cli.application": {"cli.output"},
    "cli.commands": {"cli.operations", "cli.spec", "cli.client.context", "cli.targets", "cli.validation_run"},
    "cli.targets": {"cli.client", "cli.local"},
    "cli.operations": {"cli.spec", "cli.rest", "cli.client"},
    "cli.rest": {"cli.spec"},
    "cli.spec": set(),
    "cli.validation_run": {"cli.spec"},
    "cli.output": set(),
    "cli.errors": set(),
    "cli.names": set(),
    "cli.redact": set(),
    "cli.client": set(),
    # The local workspace answers REST; its runner talks to it through the same LocalTransport.
    "cli.local": {"cli.rest", "cli.spec", "cli.client.transports.local"},
}
# Importable from every layer: the exception tree, Azure's naming rules and secret masking (pure).
FOUNDATIONS = ("cli.errors", "cli.names", "cli.redact")
# Translation is pure: nothing that reaches a network, a database or another process.
IMPURE = {"httpx", "socket", "sqlite3", "subprocess", "urllib.request", "http.client", "requests", "azure"}


def _layer(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def _modules():
    for path in sorted(CLI.rglob("*.py")):
        parts = path.relative_to(CLI.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:  # `from cli import local` names a module too
                yield node.lineno, f"{node.module}.{alias.name}"


MODULES = list(_modules())


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(CLI.parent)}:{line}"


def test_every_layer_imports_only_what_it_may():
    broken = []
    for name, path, tree in MODULES:
        layer = _layer(name)
        allowed = ALLOWED.get(layer)
        assert allowed is not None, f"{name}: a new layer; add it to ALLOWED and to the rules in cli/__init__.py"
        for line, imported in _imports(tree):
            if not imported.startswith("cli.") or _layer(imported) in (layer, *FOUNDATIONS):
                continue
            if imported == "cli.__version__" or any(imported == a or imported.startswith(a + ".") for a in allowed):
                continue
            broken.append(f"{_where(path, line)}: {layer} imports {imported}")
    assert not broken, "layer rule broken:\n  " + "\n  ".join(broken)


def test_only_targets_and_the_local_workspace_import_cli_local():
    importers = {_where(path, line) for name, path, tree in MODULES for line, imported in _imports(tree)
                 if imported.startswith("cli.local") and _layer(name) not in ("cli.local", "cli.targets")}
    assert not importers


def test_the_client_never_imports_the_local_workspace():
    """No client ⇄ local cycle: the client speaks REST to whatever transport it is handed."""
    importers = {_where(path, line) for name, path, tree in MODULES if name.startswith("cli.client")
                 for line, imported in _imports(tree) if imported.startswith(("cli.local", "cli.targets"))}
    assert not importers


def test_translation_does_no_io():
    impure = [f"{_where(path, line)}: {imported}" for name, path, tree in MODULES if name.startswith("cli.rest")
              for line, imported in _imports(tree) if imported.split(".")[0] in IMPURE or imported in IMPURE]
    assert not impure


FILE_CALLS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "iterdir", "glob", "rglob", "stat"}


def test_translation_reads_no_files():
    """Operations read what a spec names (a conda file, a folder's hash) and hand translation the content."""
    calls = [f"{_where(path, node.lineno)}: {ast.unparse(node.func)}" for name, path, tree in MODULES
             if name.startswith("cli.rest") for node in ast.walk(tree) if isinstance(node, ast.Call)
             and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in FILE_CALLS]
    assert not calls


def _private_reach(tree: ast.AST):
    """`obj._name` on anything but self/cls: reaching into another object's private state."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
            yield node.lineno, ast.unparse(node)


@pytest.mark.parametrize("layer", ["cli.operations", "cli.commands"])
def test_no_private_state_of_other_objects(layer):
    reached = [f"{_where(path, line)}: {text}" for name, path, tree in MODULES if _layer(name) == layer
               for line, text in _private_reach(tree)]
    assert not reached


def test_operations_never_branch_on_the_target():
    branches = []
    for name, path, tree in MODULES:
        if _layer(name) != "cli.operations":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                constants = [c.value for c in [node.left, *node.comparators] if isinstance(c, ast.Constant)]
                if {"local", "azure"} & set(constants):
                    branches.append(f"{_where(path, node.lineno)}: {ast.unparse(node)}")
            if isinstance(node, ast.Attribute) and node.attr in ("target", "home", "transport"):
                branches.append(f"{_where(path, node.lineno)}: {ast.unparse(node)}")
    assert not branches


def test_verbs_end_only_by_returning_nothing_or_raising():
    """One exit path: no exit codes returned, no typer.Exit, no errors matched by their class name."""
    found = []
    for name, path, tree in MODULES:
        for node in ast.walk(tree):
            if (_layer(name) == "cli.commands" and isinstance(node, ast.Return) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, int) and not isinstance(node.value.value, bool)):
                found.append(f"{_where(path, node.lineno)}: return {node.value.value}")
            if isinstance(node, ast.Attribute) and node.attr == "Exit" and _layer(name) == "cli.commands":
                found.append(f"{_where(path, node.lineno)}: {ast.unparse(node)}")
            if isinstance(node, ast.Compare) and "__name__" in ast.unparse(node.left) and "type(" in ast.unparse(node.left):
                found.append(f"{_where(path, node.lineno)}: {ast.unparse(node)}")
    assert not found


def test_no_process_global_application():
    """The Application reaches verbs as Click's ctx.obj; nothing reads it from a module global."""
    readers = [f"{_where(path, line)}: {imported}" for name, path, tree in MODULES for line, imported in _imports(tree)
               if imported in ("cli.application.current", "cli.application.install", "cli.application._current")]
    assert not readers
