"""LogTail reads a log by bounded ranges and prints whole lines, whatever the chunk boundaries."""

from __future__ import annotations

import re

from cli.errors import ServiceError
from cli.operations import job_stream
from cli.operations.job_stream import LogTail


class Blob:
    """A growing log answering ranged GETs as the blob plane does; records each range asked for."""

    def __init__(self, data: bytes = b""):
        self.data, self.ranges = data, []

    def get_blob(self, url, headers):
        start, end = map(int, re.fullmatch(r"bytes=(\d+)-(\d+)", headers["x-ms-range"]).groups())
        self.ranges.append((start, end))
        if start >= len(self.data):
            raise ServiceError("InvalidRange", status=416)
        return self.data[start:end + 1]


def test_lines_survive_chunk_boundaries_and_every_range_is_bounded(monkeypatch):
    monkeypatch.setattr(job_stream, "READ_CHUNK", 16)
    data = "ünï\nshort line\nabcdefghijkłmn\nend ü".encode()  # multi-byte characters, lines across chunks
    blob, out = Blob(data[:20]), []
    tail = LogTail(out.append)
    tail.poll(blob, {"user_logs/std_log.txt": "sas"})
    assert out == ["ünï\n", "short line\n"]  # the unfinished line waits for the rest
    blob.data = data
    tail.poll(blob, {"user_logs/std_log.txt": "sas"}, final=True)
    assert out == ["ünï\n", "short line\n", "abcdefghijkłmn\n", "end ü\n"]
    assert blob.ranges[0] == (0, 15) and all(end - start + 1 == 16 for start, end in blob.ranges)


def test_a_line_longer_than_a_chunk_is_not_held_whole(monkeypatch):
    monkeypatch.setattr(job_stream, "READ_CHUNK", 4)
    out = []
    LogTail(out.append).poll(Blob(b"abcdefghijkl"), {"user_logs/std_log.txt": "sas"})
    assert "".join(out).replace("\n", "") == "abcdefgh"  # written as it came; the tail under a chunk waits
