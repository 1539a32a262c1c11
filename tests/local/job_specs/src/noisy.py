"""Writes about N megabytes of log lines to stdout."""
import sys

line = ("x" * 1023 + "\n").encode()
out = sys.stdout.buffer
for _ in range(int(sys.argv[1]) * 1024):
    out.write(line)
out.flush()
