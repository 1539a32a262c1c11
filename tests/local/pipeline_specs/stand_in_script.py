"""A stand-in for the empty scripts of public examples (tests copy it over them): reads every --x value;
options named in OUTPUTS are output folders that get a JSON file naming what they were made from."""
import json, os, sys
from pathlib import Path
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
outputs = os.environ.get("OUTPUTS", "").split(",")
seen = {}
for key, value in args.items():
    path = Path(value)
    if key.lstrip("-") in outputs:
        continue
    if path.exists():
        files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path.name]
        seen[key] = files
    else:
        seen[key] = value
for key in outputs:
    if key and f"--{key}" in args:
        Path(args[f"--{key}"]).mkdir(parents=True, exist_ok=True)
        Path(args[f"--{key}"], f"{key}.json").write_text(json.dumps(seen, sort_keys=True))
print(json.dumps(seen, sort_keys=True))
