"""`ml` writes a large download to disk as it arrives, from the local workspace (in-process) as from
Azure: the file never sits in memory whole. Peak resident memory of `ml model download` against `ml model
show` of the same model (no timings asserted)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SIZE = 160 * 1024 * 1024  # well above what a buffered download (read whole, then written) could hide


def _peak_rss(tmp_path: Path, *args: str) -> int:
    """Peak resident memory in bytes of one `ml` run (os.wait4: that process alone)."""
    env = {k: v for k, v in os.environ.items() if k != "ML_WIRE_LOG"}  # the wire log reads bodies whole
    env.update(ML_HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO))
    with open(tmp_path / "stderr.txt", "wb") as errors:
        process = subprocess.Popen([sys.executable, "-m", "cli", *args], env=env, stdout=subprocess.DEVNULL,
                                   stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, (tmp_path / "stderr.txt").read_text()
    return usage.ru_maxrss * 1024  # kilobytes on Linux


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in kilobytes on Linux")
def test_a_large_model_downloads_in_chunks(tmp_path):
    weights = tmp_path / "model" / "weights.bin"
    weights.parent.mkdir()
    piece, expected = os.urandom(1 << 20), hashlib.sha256()
    with open(weights, "wb") as out:
        for _ in range(SIZE // len(piece)):
            out.write(piece)
            expected.update(piece)
    try:
        _peak_rss(tmp_path, "model", "create", "--name", "big", "--version", "1", "--path", str(weights),
                  "-o", "none")
        shown = _peak_rss(tmp_path, "model", "show", "--name", "big", "--version", "1", "-o", "none")
        downloaded = _peak_rss(tmp_path, "model", "download", "--name", "big", "--version", "1",
                               "--download-path", str(tmp_path / "out"))
        got = next((tmp_path / "out").rglob("weights.bin"))
        digest = hashlib.sha256()
        with open(got, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        assert digest.hexdigest() == expected.hexdigest()
        grown = downloaded - shown
        assert grown < SIZE // 4, f"ml's peak memory grew by {grown >> 20} MB for a {SIZE >> 20} MB download"
    finally:
        for big in [weights, *(tmp_path / "out").rglob("weights.bin"), *(tmp_path / "home").rglob("weights.bin")]:
            big.unlink(missing_ok=True)  # pytest keeps the last runs' temp folders: not these files
