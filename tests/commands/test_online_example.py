"""The online-endpoint example runs end to end through its deploy.sh: train, deploy blue/green, score."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

from tests.conftest import REPO, prebuild_environment

EXAMPLE = REPO / "specs" / "examples" / "online-endpoint"


def test_example_trains_deploys_blue_green_and_scores(tmp_path, job_environments):
    prebuild_environment(job_environments, "sklearn-1.5")
    ml = tmp_path / "ml"
    ml.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m cli \"$@\"\n")
    ml.chmod(ml.stat().st_mode | stat.S_IXUSR)
    result = None
    try:
        result = subprocess.run(["bash", str(EXAMPLE / "deploy.sh")], env={**os.environ, "ML": str(ml)},
                                capture_output=True, text=True, timeout=900)
    finally:
        if result is None or result.returncode != 0:  # stopped half-way: its router and workers would outlive us
            subprocess.run([str(ml), "online-endpoint", "delete", "-n", "sklearn-diabetes", "--yes"],
                           capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert '"blue": 90' in out and '"green": 10' in out
    start = out.index("[", out.index('"green": 10'))
    predictions = json.JSONDecoder().raw_decode(out[start:])[0]
    assert len(predictions) == 2 and all(isinstance(p, float) for p in predictions)
    assert "model loaded from" in out or "is live" in out  # the get-logs lines
    endpoints = subprocess.run([str(ml), "online-endpoint", "list", "--query", "[].name", "-o", "tsv"],
                               capture_output=True, text=True)
    assert endpoints.stdout.strip() == ""  # deploy.sh deleted it: router and workers stopped
