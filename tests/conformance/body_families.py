"""Which corpus specs the body-conformance test covers: the families `ml ... create` sends to the service.

Shared by the SDK recorder (sdk_bodies.py, oracle venv) and the test (test_bodies.py).
"""

from __future__ import annotations

import csv
from pathlib import Path

# sdk_verdicts.tsv family -> the `ml` command group that creates it
FAMILIES = {
    "data": "data", "model": "model", "environment": "environment",
    "commandComponent": "component", "parallelComponent": "component", "pipelineComponent": "component",
    "amlCompute": "compute", "computeInstance": "compute", "kubernetesCompute": "compute", "vmCompute": "compute",
    "azureBlob": "datastore", "azureFile": "datastore", "azureDataLakeGen1": "datastore",
    "azureDataLakeGen2": "datastore", "commandJob": "job",
}


def corpus_rows(verdicts: Path) -> list[tuple[str, str]]:
    """(corpus path, family) of every spec the SDK accepts in a family ml creates."""
    with open(verdicts, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [(row["path"], row["family"]) for row in rows if row["verdict"] == "accept" and row["family"] in FAMILIES]
