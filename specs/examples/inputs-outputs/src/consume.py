"""Sum the squares column of the table folder it is given; write the sum to the report folder."""

import argparse
import csv
import os

parser = argparse.ArgumentParser()
parser.add_argument("--table", required=True)
parser.add_argument("--report", required=True)
args = parser.parse_args()

with open(os.path.join(args.table, "squares.csv"), newline="") as table:
    rows = list(csv.DictReader(table))
total = sum(int(row["square"]) for row in rows)
os.makedirs(args.report, exist_ok=True)
with open(os.path.join(args.report, "report.txt"), "w") as report:
    report.write(f"rows={len(rows)} sum={total}\n")
print(f"read {len(rows)} rows; sum of squares = {total}")
