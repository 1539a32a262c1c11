"""Print the distributed-training variables this process was given (no torch needed)."""

import os

names = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT")
values = {name: os.environ.get(name) for name in names}
print(" ".join(f"{name}={value}" for name, value in values.items()))
missing = [name for name in ("RANK", "WORLD_SIZE") if values[name] is None]
if missing:
    raise SystemExit(f"not started as a distributed process: {', '.join(missing)} unset")
if not 0 <= int(values["RANK"]) < int(values["WORLD_SIZE"]):
    raise SystemExit(f"RANK {values['RANK']} is outside WORLD_SIZE {values['WORLD_SIZE']}")
