import argparse
import shutil
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
Path(args.out).mkdir(parents=True, exist_ok=True)
shutil.copy(Path(args.model, "model.json"), Path(args.out, "used.json"))
