"""Writes N lines of 1 MiB each to stdout: N MiB of log, fast."""
import sys

line = b"x" * ((1 << 20) - 1) + b"\n"
out = sys.stdout.buffer
for _ in range(int(sys.argv[1])):
    out.write(line)
out.flush()
