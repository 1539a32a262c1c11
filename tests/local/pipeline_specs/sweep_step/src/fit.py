"""A sweep trial: the loss of y = 2x fitted with a slope of --slope; writes the slope it used to --model."""

import argparse
import json
import os
from pathlib import Path

import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--slope", type=float, required=True)
parser.add_argument("--offset", type=float, required=True)
parser.add_argument("--points", type=int, required=True)
parser.add_argument("--model", required=True)
args = parser.parse_args()
loss = sum((args.slope * x + args.offset - 2 * x) ** 2 for x in range(args.points)) / args.points
mlflow.log_metric("loss", loss)
Path(args.model).mkdir(parents=True, exist_ok=True)
Path(args.model, "model.json").write_text(json.dumps({"slope": args.slope, "offset": args.offset, "loss": loss,
                                                      "trial": os.environ.get("AZUREML_RUN_ID")}))
print("loss", loss)
