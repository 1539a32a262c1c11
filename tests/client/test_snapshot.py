"""The snapshot of a local folder: ignore rules, pruning, symlinks, and the SDK's content hash."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from cli.client.snapshot import HASH_VERSION, IgnoreRules, collect, content_hash, object_hash
from cli.errors import UsageError

ORACLE = Path("/opt/oracle/bin/python")
SDK_SCRIPT = Path(__file__).with_name("sdk_content_hash.py")
# Printed by azure-ai-ml 1.35.2 `get_content_hash` (tests/client/sdk_content_hash.py) for write_fixture().
SDK_FOLDER_HASH = "eaee10cd88d794068d9a2f7841afaf07a2a0968ccf1963049fdb8abc72a27c04"
SDK_FILE_HASH = "7f8030d62a9644db6c5c681616b0b78a0262fe914febd6ace6c6d17ccede6bf2"  # data/blob.bin alone
# Printed by its `get_object_hash` (tests/client/sdk_object_hash.py): the LocalUpload/<hash> of data uploads.
SDK_OBJECT_SCRIPT = Path(__file__).with_name("sdk_object_hash.py")
SDK_FOLDER_OBJECT_HASH = "1b8d9b912233233540fff284bba65f70576eb2c7bdc34641b947c29975071910"
SDK_FILE_OBJECT_HASH = "8979c35c1b4f373cf197575bbb0e6b0e0bd3be4876b3aaa3d8107c8de9abee9f"


def write_fixture(root: Path) -> Path:
    files = {
        "main.py": "print('hello')\n",
        "a.txt": "a", "B.txt": "b", "empty.txt": "",
        "folder1/file1.txt": "one", "Folder2/file1.txt": "two", "Folder2/folder1/file1.txt": "three",
        "ünï code.txt": "unicode name\n",
        "build/out.bin": "ignored", "build/keep.txt": "re-included by a ! pattern",
        "x.pyc": "ignored", "sub/y.pyc": "ignored", "sub/z.py": "kept",
        "logs/a/b/c.log": "ignored", "logs/top.txt": "kept",
        ".amlignore": "# the SDK reads .amlignore first\n*.pyc\n/build/\n!build/keep.txt\nlogs/**/*.log\n",
        ".gitignore": "main.py\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "data").mkdir()
    (root / "data" / "blob.bin").write_bytes(bytes(range(256)) * 6000)  # more than one hashing chunk
    os.symlink("a.txt", root / "link.txt")
    return root


@pytest.fixture
def project(tmp_path) -> Path:
    return write_fixture(tmp_path / "proj")


def relpaths(path) -> list:
    return [f.relpath for f in collect(path)]


def test_fixture_files_follow_the_amlignore(project):
    assert relpaths(project) == [
        ".amlignore", ".gitignore", "B.txt", "Folder2/file1.txt", "Folder2/folder1/file1.txt", "a.txt",
        "build/keep.txt", "data/blob.bin", "empty.txt", "folder1/file1.txt", "link.txt", "logs/top.txt",
        "main.py", "sub/z.py", "ünï code.txt"]


def test_content_hash_equals_the_sdk(project):
    assert HASH_VERSION == "202208"
    assert content_hash(collect(project)) == SDK_FOLDER_HASH
    assert content_hash(collect(project / "data" / "blob.bin")) == SDK_FILE_HASH


@pytest.mark.skipif(not ORACLE.exists(), reason="the official SDK venv /opt/oracle is absent")
def test_content_hash_equals_the_live_sdk(tmp_path, project):
    other = tmp_path / "git-only"
    other.mkdir()
    (other / ".gitignore").write_text("*.tmp\nnested/**\n!nested/keep/\n")
    for rel in ("x.tmp", "y.py", "nested/a.txt", "nested/keep/b.txt", "Z/deep/w.txt"):
        (other / rel).parent.mkdir(parents=True, exist_ok=True)
        (other / rel).write_text(rel)
    paths = [project, project / "data" / "blob.bin", other]
    sdk = subprocess.run([str(ORACLE), str(SDK_SCRIPT), *map(str, paths)], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert sdk == [content_hash(collect(p)) for p in paths]
    assert sdk[0] == SDK_FOLDER_HASH


def test_object_hash_equals_the_sdk(project):
    assert object_hash(project) == SDK_FOLDER_OBJECT_HASH
    assert object_hash(project / "data" / "blob.bin") == SDK_FILE_OBJECT_HASH


@pytest.mark.skipif(not ORACLE.exists(), reason="the official SDK venv /opt/oracle is absent")
def test_object_hash_equals_the_live_sdk(tmp_path, project):
    other = tmp_path / "other"
    other.mkdir()
    (other / ".gitignore").write_text("*.tmp\nnested/**\n!nested/keep/\nbuild/\n")
    for rel in ("x.tmp", "y.py", "nested/a.txt", "nested/keep/b.txt", "Z/deep/w.txt", "build/o.bin", "b.TXT", "A.txt"):
        (other / rel).parent.mkdir(parents=True, exist_ok=True)
        (other / rel).write_text(rel)
    (other / "emptydir").mkdir()  # a folder's name counts even with nothing in it
    paths = [project, project / "data" / "blob.bin", other]
    sdk = subprocess.run([str(ORACLE), str(SDK_OBJECT_SCRIPT), *map(str, paths)], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert sdk == [object_hash(p) for p in paths]
    assert sdk[:2] == [SDK_FOLDER_OBJECT_HASH, SDK_FILE_OBJECT_HASH]


def test_amlignore_beats_gitignore(tmp_path):
    (tmp_path / ".gitignore").write_text("a.txt\n")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    assert relpaths(tmp_path) == [".gitignore", "b.txt"]
    (tmp_path / ".amlignore").write_text("b.txt\n")
    assert relpaths(tmp_path) == [".amlignore", ".gitignore", "a.txt"]
    (tmp_path / ".amlignore").write_text("")  # an empty .amlignore still shadows .gitignore
    assert relpaths(tmp_path) == [".amlignore", ".gitignore", "a.txt", "b.txt"]


@pytest.mark.parametrize("pattern, ignored, kept", [
    ("/top.txt", ["top.txt"], ["d/top.txt"]),
    ("top.txt", ["top.txt", "d/top.txt"], []),
    ("d/", ["d/top.txt", "d/e/f.txt"], ["e/d"]),
    ("d/*.txt", ["d/top.txt"], ["d/e/f.txt", "x/d/top.txt"]),
    ("**/e/*.txt", ["d/e/f.txt"], ["d/top.txt"]),
    ("d/**/f.txt", ["d/e/f.txt"], ["d/top.txt"]),
    ("[de]/top.?xt", ["d/top.txt"], ["top.txt"]),
])
def test_gitignore_wildmatch(pattern, ignored, kept):
    rules = IgnoreRules([pattern])
    assert [p for p in ignored if not rules.excluded(p)] == []
    assert [p for p in kept if rules.excluded(p)] == []


def test_negation_reincludes_what_an_earlier_pattern_ignored():
    rules = IgnoreRules(["*.log", "!keep.log", "# a comment", ""])
    assert rules.excluded("a.log") and rules.excluded("d/a.log")
    assert not rules.excluded("keep.log") and not rules.excluded("d/keep.log")


def test_ignored_folder_is_never_entered(tmp_path, monkeypatch):
    (tmp_path / ".gitignore").write_text("node_modules/\n")
    (tmp_path / "app.js").write_text("x")
    for i in range(50):
        (tmp_path / "node_modules" / f"pkg{i}").mkdir(parents=True)
        (tmp_path / "node_modules" / f"pkg{i}" / "index.js").write_text("x")
    scanned = []
    real_scandir = os.scandir

    def counting_scandir(path="."):
        scanned.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", counting_scandir)
    assert relpaths(tmp_path) == [".gitignore", "app.js"]
    assert scanned == [str(tmp_path.resolve())]


def test_folder_with_a_later_negation_is_walked(tmp_path):
    (tmp_path / ".gitignore").write_text("out/\n!out/keep.txt\n")
    for rel in ("out/drop.txt", "out/keep.txt"):
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_text(rel)
    assert relpaths(tmp_path) == [".gitignore", "out/keep.txt"]  # the SDK's per-file rule, not git's


def test_symlinks_are_not_followed_out_of_the_root(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not part of the snapshot")
    root = tmp_path / "root"
    (root / "inner").mkdir(parents=True)
    (root / "inner" / "x.txt").write_text("x")
    os.symlink(outside / "secret.txt", root / "file-out")
    os.symlink(outside, root / "dir-out")
    os.symlink(root / "inner", root / "dir-in")
    os.symlink(root, root / "inner" / "loop")
    os.symlink(root / "missing", root / "dangling")
    assert relpaths(root) == ["dir-in/x.txt", "inner/x.txt"]


def test_single_file_and_missing_path(tmp_path):
    (tmp_path / "one.csv").write_text("a,b\n")
    files = collect(tmp_path / "one.csv")
    assert [(f.relpath, f.size) for f in files] == [("one.csv", 4)]
    with pytest.raises(UsageError):
        collect(tmp_path / "absent")
