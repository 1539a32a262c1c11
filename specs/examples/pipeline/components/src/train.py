"""Fit y = a*x + b by gradient descent and save the coefficients."""

import argparse
import csv
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--model", required=True)
args = parser.parse_args()

with open(os.path.join(args.data, "points.csv")) as handle:
    points = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(handle)]
a = b = 0.0
for epoch in range(args.epochs * 100):
    grad_a = sum(2 * (a * x + b - y) * x for x, y in points) / len(points)
    grad_b = sum(2 * (a * x + b - y) for x, y in points) / len(points)
    a, b = a - 0.01 * grad_a, b - 0.01 * grad_b
os.makedirs(args.model, exist_ok=True)
with open(os.path.join(args.model, "model.json"), "w") as handle:
    json.dump({"a": a, "b": b}, handle)
print(f"a={a:.3f} b={b:.3f}")
