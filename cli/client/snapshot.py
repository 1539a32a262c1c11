"""A local file or folder as the list of files an upload sends, and its content hash.

Ignore rules come from `.amlignore` at the root, else `.gitignore` there, with the gitignore
wildmatch semantics the SDK applies to each file path (last matching pattern wins, `!` re-includes).
An ignored folder is pruned without being entered unless a later `!` pattern could re-include
something below it, so the file list, and so the hash, equal the SDK's `get_content_hash`.
Only regular files are sent: a FIFO, socket or device is skipped with a warning (reading one would
block the upload, or never end), and links are followed only inside the root, each folder once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

from cli.errors import UsageError

HASH_VERSION = "202208"
IGNORE_FILES = (".amlignore", ".gitignore")
CHUNK = 1 << 20
log = logging.getLogger("ml.client")


@dataclass(frozen=True)
class SnapshotFile:
    relpath: str  # POSIX path below the root; the file's own name when the root is a file
    size: int
    path: str  # absolute path to read (a symlink's target)


# ---- ignore rules


@dataclass(frozen=True)
class _Rule:
    regex: "re.Pattern[str]"
    exclude: bool  # False for a `!` pattern


def _segment_regex(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        char = glob[i]
        i += 1
        if char == "\\" and i < len(glob):
            out.append(re.escape(glob[i]))
            i += 1
        elif char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = i + (glob[i:i + 1] == "!")
            end += glob[end:end + 1] == "]"
            end = glob.find("]", end)
            if end < 0:  # no closing bracket: a literal '['
                out.append(re.escape("["))
                continue
            body, lead = glob[i:end], ""
            if body[:1] in ("!", "^"):
                lead, body = ("^" if body[0] == "!" else "\\^"), body[1:]
            out.append("[" + lead + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(char))
    return "".join(out)


def _compile(line: str) -> Optional[_Rule]:
    """One ignore-file line as a rule on relative POSIX paths; None for blanks and comments."""
    pattern = line.strip()
    if not pattern or pattern.startswith("#") or pattern == "/":
        return None
    exclude = not pattern.startswith("!")
    if not exclude:
        pattern = pattern[1:]
    segs = pattern.split("/")
    segs = [s for i, s in enumerate(segs) if not (s == "**" and i and segs[i - 1] == "**")]
    if len(segs) == 2 and segs == ["**", ""]:
        return _Rule(re.compile(r"^.+/.*$"), exclude)
    if not segs[0]:
        del segs[0]  # a leading '/' anchors the pattern at the root
    elif len(segs) == 1 or (len(segs) == 2 and not segs[1]):
        if segs[0] != "**":
            segs.insert(0, "**")  # a bare name matches at any depth
    if not segs:
        return None
    if not segs[-1] and len(segs) > 1:
        segs[-1] = "**"  # 'dir/' matches everything below dir
    out, need_slash, end = ["^"], False, len(segs) - 1
    for i, seg in enumerate(segs):
        if seg == "**":
            if i == 0 and i == end:
                out.append(".+")
            elif i == 0:
                out.append("(?:.+/)?")
                need_slash = False
            elif i == end:
                out.append("/.*")
            else:
                out.append("(?:/.+)?")
                need_slash = True
        else:
            if need_slash:
                out.append("/")
            out.append("[^/]+" if seg == "*" else _segment_regex(seg))
            if i == end:
                out.append("(?:/.*)?")  # a match also covers everything below it
            need_slash = True
    out.append("$")
    return _Rule(re.compile("".join(out)), exclude)


class IgnoreRules:
    """The rules of one ignore file; `excluded(relpath)` for files, `prunable(relpath)` for folders."""

    def __init__(self, lines: Iterable[str] = (), source: Optional[Path] = None):
        self.source = source
        self.rules: List[_Rule] = [r for r in map(_compile, lines) if r is not None]

    @classmethod
    def for_root(cls, root: Path) -> "IgnoreRules":
        for name in IGNORE_FILES:
            candidate = root / name
            if candidate.exists():  # an empty .amlignore still shadows .gitignore, as in the SDK
                text = candidate.read_text(encoding="utf-8", errors="replace")
                return cls(text.splitlines(), candidate)
        return cls()

    def _last_match(self, path: str) -> Optional[int]:
        for index in range(len(self.rules) - 1, -1, -1):
            if self.rules[index].regex.match(path):
                return index
        return None

    def excluded(self, relpath: str) -> bool:
        index = self._last_match(relpath)
        return index is not None and self.rules[index].exclude

    def prunable(self, reldir: str) -> bool:
        """True when every path below `reldir` is excluded, whatever it is called."""
        index = self._last_match(reldir + "/")
        if index is None or not self.rules[index].exclude:
            return False
        return all(rule.exclude for rule in self.rules[index + 1:])


# ---- walking


def collect(path: os.PathLike | str, ignore: Optional[IgnoreRules] = None) -> List[SnapshotFile]:
    """The files to upload for `path`, sorted by relative path; symlinks leading out of the root are skipped."""
    given = Path(path)
    if not given.exists():
        raise UsageError(f"{given}: no such file or directory")
    root = given.resolve()
    if not root.is_dir():
        info = root.stat()
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{given}: not a regular file or folder (a FIFO, socket or device cannot be uploaded)")
        return [SnapshotFile(root.name, info.st_size, str(root))]
    rules = ignore if ignore is not None else IgnoreRules.for_root(root)
    files: List[SnapshotFile] = []
    _walk(root, root, "", rules, files, {str(root)})
    files.sort(key=lambda f: f.relpath)
    return files


def _walk(root: Path, folder: Path, prefix: str, rules: IgnoreRules, out: List[SnapshotFile], open_dirs: set) -> None:
    with os.scandir(folder) as entries:
        entries = sorted(entries, key=lambda e: e.name)
    for entry in entries:
        rel = prefix + entry.name
        target = entry.path
        if entry.is_symlink():
            real = os.path.realpath(entry.path)
            if not _inside(real, root) or not os.path.exists(real):
                log.debug("skipped %s: a link out of %s, or dangling", rel, root)
                continue  # never follow a link out of the snapshot
            target = real
        try:
            info = os.stat(target)
        except OSError:
            continue  # vanished while we walked
        if stat.S_ISDIR(info.st_mode):
            if target in open_dirs or rules.prunable(rel):
                continue  # a link back to an enclosing folder would recurse forever
            _walk(root, Path(target), rel + "/", rules, out, open_dirs | {target})
        elif rules.excluded(rel):
            continue
        elif stat.S_ISREG(info.st_mode):
            out.append(SnapshotFile(rel, info.st_size, os.path.abspath(target)))
        else:
            _skip_special(rel)


def _skip_special(rel: str) -> None:
    # Python's last-resort handler prints warnings to stderr; --verbose formats them like other client logs.
    log.warning("warning: skipped %s: not a regular file (a FIFO, socket or device is never uploaded)", rel)


MERGED_FOLDER = "code_with_additional_includes"  # the SDK's name for code merged with its includes


def collect_with_includes(code: Optional[os.PathLike | str], includes: Sequence[str]) -> List[SnapshotFile]:
    """A component's code with its `additional_includes`, as the SDK merges them before the upload:
    each include (file or folder) placed at the root under its own name, taken whole (the SDK copies
    includes disregarding ignore files). A name the code already has is refused, as the SDK refuses it."""
    files = collect(code) if code is not None else []
    taken = {f.relpath.split("/", 1)[0] for f in files}
    for include in includes:
        source = Path(include)
        if not source.exists():
            raise UsageError(f"additional include '{include}' does not exist")
        if source.name in taken:
            raise UsageError(f"additional include '{include}': the code already has a '{source.name}'")
        taken.add(source.name)
        if source.is_file():
            files.append(SnapshotFile(source.name, source.stat().st_size, str(source.resolve())))
        else:
            files += [SnapshotFile(f"{source.name}/{f.relpath}", f.size, f.path) for f in collect(source, IgnoreRules())]
    files.sort(key=lambda f: f.relpath)
    return files


def _inside(real: str, root: Path) -> bool:
    return real == str(root) or real.startswith(str(root) + os.sep)


# ---- hashing


def content_hash(files: Sequence[SnapshotFile]) -> str:
    """The SDK's code-snapshot hash (`get_content_hash`, version 202208) of a collected file list."""
    digest = hashlib.sha256(str(len(files)).encode())
    ordered = sorted(files, key=lambda f: f.relpath.lower())
    for f in ordered:
        digest.update(f"#{f.relpath}#{f.size}".encode())
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    for f in ordered:
        with open(f.path, "rb", buffering=0) as handle:
            while n := handle.readinto(buffer):
                digest.update(view[:n])
    return digest.hexdigest()


OBJECT_HASH_SEED = b"Initialize for october 2021 AML CLI version"


def object_hash(path: os.PathLike | str) -> str:
    """The SDK's `get_object_hash`, the `LocalUpload/<hash>` of a datastore upload: a seeded sha256 of
    a file's bytes, or of a folder's entries in lower-cased name order, each its name and then its
    content (a folder's recursively). Ignored entries and links out of the folder count for nothing."""
    root = Path(path).resolve()
    digest = hashlib.sha256(OBJECT_HASH_SEED)
    if root.is_dir():
        _hash_folder(root, root, "", IgnoreRules.for_root(root), digest, {str(root)})
    else:
        _hash_file(str(root), digest)
    return digest.hexdigest()


def _hash_folder(root: Path, folder: Path, prefix: str, rules: IgnoreRules, digest, open_dirs: set) -> None:
    with os.scandir(folder) as entries:
        entries = sorted(entries, key=lambda e: e.name.lower())
    for entry in entries:
        rel = prefix + entry.name
        target = os.path.realpath(entry.path) if entry.is_symlink() else entry.path
        if rules.excluded(rel) or (entry.is_symlink() and (not _inside(target, root) or not os.path.exists(target))):
            continue
        try:
            mode = os.stat(target).st_mode
        except OSError:
            continue
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            continue  # collect() skips it too, and says so
        digest.update(entry.name.encode())
        if stat.S_ISDIR(mode):
            if target not in open_dirs:
                _hash_folder(root, Path(target), rel + "/", rules, digest, open_dirs | {target})
        else:
            _hash_file(target, digest)


def _hash_file(path: str, digest) -> None:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
