"""A parallel entry script for the inline step: the longest line of each file."""

import os


def init():
    pass


def run(mini_batch):
    rows = []
    for path in mini_batch:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines() or [""]
        rows.append(f"{os.path.basename(path)} {max(len(line) for line in lines)}")
    return rows
