"""Mean squared error of the fitted line on the dataset, written as a small JSON report."""

import argparse
import csv
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--data", required=True)
parser.add_argument("--report", required=True)
args = parser.parse_args()

with open(os.path.join(args.model, "model.json")) as handle:
    model = json.load(handle)
with open(os.path.join(args.data, "points.csv")) as handle:
    points = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(handle)]
mse = sum((model["a"] * x + model["b"] - y) ** 2 for x, y in points) / len(points)
os.makedirs(args.report, exist_ok=True)
with open(os.path.join(args.report, "report.json"), "w") as handle:
    json.dump({"mse": mse, "rows": len(points), **model}, handle)
print(f"mse={mse:.4f} on {len(points)} rows")
