"""Step reuse, as Azure ML does it: a deterministic step whose component, environment, code, inputs (data
by content hash) and parameters equal those of an earlier completed step is not run again; it is
recorded as reused and its outputs are the earlier step's. A sweep step is reused when its trial,
search space, sampling, objective, limits and early termination are the same too: its outputs are
the earlier sweep's best trial's.

The key is a SHA-256 of those things; `<workspace>/runner.db` maps each key to the child job that
first completed with it. A key whose job was deleted, or did not complete, is not reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

from cli.local.runner.errors import JobError

SCHEMA = "CREATE TABLE IF NOT EXISTS reuse (key TEXT PRIMARY KEY, job TEXT NOT NULL)"
# what of a child job's body decides its result; names, display names and output places do not
_DECIDING = ("jobType", "command", "codeId", "environmentId", "environmentVariables", "resources", "distribution")
# and of a sweep step's: its trial (command, code, environment) and how it searches
_SWEEP_DECIDING = ("trial", "searchSpace", "samplingAlgorithm", "objective", "limits", "earlyTermination")


def content_hash(path: Path) -> str:
    """SHA-256 over the relative names and bytes of every file under `path` (or of the file)."""
    digest = hashlib.sha256()
    if path.is_file():
        files = [(path.name, path)]
    elif path.is_dir():
        files = sorted((p.relative_to(path).as_posix(), p) for p in path.rglob("*") if p.is_file())
    else:
        return "missing"
    for name, file in files:
        digest.update(name.encode() + b"\0")
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def step_key(body: dict, component: dict, resolver) -> str:
    """The reuse key of the child job `body` (JobBase properties) running `component`."""
    inputs = {}
    for name, value in sorted((body.get("inputs") or {}).items()):
        if value.get("jobInputType") == "literal":
            inputs[name] = ["literal", value.get("value")]
            continue
        uri = value.get("uri") or ""
        if uri.startswith(("https://", "http://")) and "blob.ml.invalid" not in uri:
            inputs[name] = [value.get("jobInputType"), uri]  # public data: its URL names it
            continue
        try:
            inputs[name] = [value.get("jobInputType"), content_hash(resolver.local_path(uri))]
        except JobError:
            inputs[name] = [value.get("jobInputType"), "unresolved", uri]
    spec = {k: v for k, v in component.items() if k not in ("name", "version", "_source", "display_name")}
    described = {"component": spec, "inputs": inputs, **{k: body.get(k) for k in _DECIDING},
                 **{k: body[k] for k in _SWEEP_DECIDING if k in body},
                 "outputs": sorted((body.get("outputs") or {}).keys())}
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()


class ReuseIndex:
    """key -> the child job that first completed with it, in `<workspace>/runner.db`."""

    def __init__(self, workspace_root: Path):
        self.conn = sqlite3.connect(Path(workspace_root) / "runner.db", timeout=60, isolation_level=None)
        self.conn.execute("PRAGMA busy_timeout = 60000")
        self.conn.execute(SCHEMA)
        os.chmod(Path(workspace_root) / "runner.db", 0o600)

    def find(self, key: str, store, workspace_id: str) -> str | None:
        """The job whose outputs a step with `key` may reuse, or None."""
        row = self.conn.execute("SELECT job FROM reuse WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        record = store.get(f"{workspace_id}/jobs/{row[0]}")
        if record is None or record.body["properties"].get("status") != "Completed":
            self.conn.execute("DELETE FROM reuse WHERE key = ?", (key,))
            return None
        return row[0]

    def remember(self, key: str, job: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO reuse VALUES (?, ?)", (key, job))

    def close(self) -> None:
        self.conn.close()
