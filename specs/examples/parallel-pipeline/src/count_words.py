"""A parallel entry script: init() once per worker, run(mini_batch) per mini-batch of files.

Each element run() returns becomes one line of the step's append_row_to output."""

import argparse
import os

min_length = 1


def init():
    global min_length
    parser = argparse.ArgumentParser()
    parser.add_argument("--min-length", type=int, default=1)
    min_length = parser.parse_known_args()[0].min_length


def run(mini_batch):
    rows = []
    for path in mini_batch:
        with open(path, encoding="utf-8") as handle:
            words = [w for w in handle.read().split() if len(w) >= min_length]
        rows.append(f"{os.path.basename(path)} {len(words)}")
    return rows
