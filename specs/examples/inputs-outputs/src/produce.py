"""Write squares.csv (n, n*n) into the output folder."""

import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=5)
parser.add_argument("--out", required=True)
args = parser.parse_args()

os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "squares.csv"), "w") as table:
    table.write("n,square\n")
    for n in range(1, args.rows + 1):
        table.write(f"{n},{n * n}\n")
print(f"wrote {args.rows} rows to {args.out}/squares.csv")
