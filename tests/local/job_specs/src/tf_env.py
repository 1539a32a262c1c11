"""Writes the TF_CONFIG a TensorFlow process sees to <output>/<type>-<index>.json."""
import json
import os
import sys

config = json.loads(os.environ["TF_CONFIG"])
task = config["task"]
with open(os.path.join(sys.argv[1], f"{task['type']}-{task['index']}.json"), "w") as f:
    json.dump(config, f)
