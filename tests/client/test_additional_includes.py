"""A component's additional_includes merged into its code upload as the SDK merges them (each include at
the root under its own name). That the merged content hash equals the SDK's is checked on the corpus
by tests/conformance/test_bodies.py (component_additional_includes.yml)."""

from __future__ import annotations

import pytest

from cli.client.snapshot import collect, collect_with_includes, content_hash
from cli.errors import UsageError


def _tree(root, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_includes_land_at_the_root_of_the_code(tmp_path):
    _tree(tmp_path, {"src/main.py": "print(1)\n", "src/.amlignore": "*.log\n", "src/run.log": "x",
                     "common/util.py": "u = 1\n", "common/deep/more.py": "m = 2\n", "config.json": "{}"})
    files = collect_with_includes(tmp_path / "src", [str(tmp_path / "common"), str(tmp_path / "config.json")])
    assert [f.relpath for f in files] == [".amlignore", "common/deep/more.py", "common/util.py", "config.json", "main.py"]
    # the same content as a folder laid out that way, so the same hash as the SDK's merged folder
    _tree(tmp_path / "merged", {".amlignore": "*.log\n", "main.py": "print(1)\n", "common/util.py": "u = 1\n",
                                "common/deep/more.py": "m = 2\n", "config.json": "{}"})
    assert content_hash(files) == content_hash(collect(tmp_path / "merged"))


def test_an_include_the_code_already_has_is_refused(tmp_path):
    _tree(tmp_path, {"src/common/a.py": "", "common/b.py": ""})
    with pytest.raises(UsageError, match="the code already has a 'common'"):
        collect_with_includes(tmp_path / "src", [str(tmp_path / "common")])


def test_a_missing_include_is_refused(tmp_path):
    _tree(tmp_path, {"src/a.py": ""})
    with pytest.raises(UsageError, match="does not exist"):
        collect_with_includes(tmp_path / "src", [str(tmp_path / "nowhere")])
