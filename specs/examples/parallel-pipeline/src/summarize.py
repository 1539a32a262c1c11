"""Joins the two parallel steps' results (one `<file> <number>` line per input file) into summary.json."""

import argparse
import json
import os
from pathlib import Path


def rows(path: str) -> dict:
    found = Path(path)
    files = sorted(p for p in found.rglob("*") if p.is_file()) if found.is_dir() else [found]
    result = {}
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines():
            name, number = line.rsplit(" ", 1)
            result[name] = int(number)
    return result


parser = argparse.ArgumentParser()
parser.add_argument("--counts", required=True)
parser.add_argument("--longest", required=True)
parser.add_argument("--summary", required=True)
args = parser.parse_args()
counts, longest = rows(args.counts), rows(args.longest)
summary = {"files": len(counts), "words": sum(counts.values()),
           "per_file": {name: {"words": counts[name], "longest_line": longest.get(name)} for name in sorted(counts)}}
os.makedirs(args.summary, exist_ok=True)
Path(args.summary, "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
print(f"{summary['files']} files, {summary['words']} words")
