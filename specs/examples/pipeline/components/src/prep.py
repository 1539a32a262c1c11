"""Write a small CSV of points near the line y = 2x + 1."""

import argparse
import csv
import os
import random

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=100)
parser.add_argument("--out", required=True)
args = parser.parse_args()

os.makedirs(args.out, exist_ok=True)
rng = random.Random(0)
with open(os.path.join(args.out, "points.csv"), "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["x", "y"])
    for _ in range(args.rows):
        x = rng.uniform(-5, 5)
        writer.writerow([x, 2 * x + 1 + rng.gauss(0, 0.1)])
print(f"wrote {args.rows} rows to {args.out}")
