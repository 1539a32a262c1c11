"""Writes the variables a distributed rank sees to <output>/<rank>.json."""
import json
import os
import sys

names = ("RANK", "LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
         "AZUREML_RUN_ID", "MLFLOW_RUN_ID", "MLFLOW_TRACKING_URI")
with open(os.path.join(sys.argv[1], f"{os.environ['RANK']}.json"), "w") as f:
    json.dump({n: os.environ.get(n) for n in names}, f)
print("rank", os.environ["RANK"], "done")
