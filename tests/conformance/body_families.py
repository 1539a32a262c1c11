"""Which specs the body-conformance test covers: the corpus specs of the families `ml ... create` sends
to the service, and a few of our own (body_specs/) for what the corpus does not exercise.

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
    "azureDataLakeGen2": "datastore", "commandJob": "job", "sweepJob": "job", "pipelineJob": "job",
    "synapseSparkCompute": "compute",
    "batchEndpoint": "batch-endpoint", "batchDeployment": "batch-deployment",
    "modelBatchDeployment": "batch-deployment", "pipelineComponentBatchDeployment": "batch-deployment",
    "managedOnlineEndpoint": "online-endpoint", "managedOnlineDeployment": "online-deployment",
}
BODY_SPECS = "body_specs"  # our own specs for what the corpus does not exercise, beside this file
# body_specs/<file> -> family (these files are not in the corpus, so no verdict names their family)
OWN_SPECS = {
    "compute_synapsespark.yml": "synapseSparkCompute", "data_mltable_local.yml": "data",
    "job_environment_label.yml": "commandJob", "component_boolean_default.yml": "commandComponent",
    "job_inline_conda_environment.yml": "commandJob", "job_inline_image_environment.yml": "commandJob",
    "sweep_every_distribution.yml": "sweepJob", "sweep_grid_median_stopping.yml": "sweepJob",
    "sweep_sobol_truncation.yml": "sweepJob", "sweep_bayesian_string.yml": "sweepJob",
}


def spec_file(corpus: Path, rel: str) -> Path:
    """Where a recorded spec lives: body_specs/ beside this file, else the corpus."""
    if rel.startswith(BODY_SPECS + "/"):
        return Path(__file__).resolve().parent / rel
    return corpus / rel


def corpus_rows(verdicts: Path) -> list[tuple[str, str]]:
    """(corpus path, family) of every spec the SDK accepts in a family ml creates."""
    with open(verdicts, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    corpus = [(row["path"], row["family"]) for row in rows if row["verdict"] == "accept" and row["family"] in FAMILIES]
    return corpus + [(f"{BODY_SPECS}/{name}", family) for name, family in OWN_SPECS.items()]
