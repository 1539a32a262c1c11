"""The values the examples' scripts pass on the command line (`--set`, `-n`, `-e`), which the spec
files themselves lack. Shared by the SDK oracle (tests/conformance/sdk_oracle.py) and our own
conformance test, so both judge a file with the same arguments. Applied only when the key is
missing from the file, and only to azureml-examples: the SDK's own test specs are loaded bare.
"""

from __future__ import annotations

import fnmatch

_DEPLOYMENTS = {"managedOnlineDeployment", "kubernetesOnlineDeployment", "batchDeployment",
                "modelBatchDeployment", "pipelineComponentBatchDeployment"}

# (path glob where * spans /, families, key, value, why)
OVERRIDES = [
    ("azureml-examples/*", _DEPLOYMENTS, "endpoint_name", "placeholder-endpoint",
     "scripts pass --endpoint-name/-e (or --set endpoint_name=)"),
    ("azureml-examples/*", _DEPLOYMENTS, "name", "placeholder-deployment", "scripts pass --name $DEPLOYMENT_NAME"),
    ("azureml-examples/*", {"managedOnlineEndpoint", "kubernetesOnlineEndpoint", "batchEndpoint"},
     "name", "placeholder-endpoint", "scripts pass --name $ENDPOINT_NAME"),
    ("azureml-examples/*", {"modelBatchDeployment"}, "compute", "azureml:cpu-cluster",
     "foundation-model scripts pass --set compute=$compute_cluster"),
    ("azureml-examples/*", {"workspace", "registry", "amlCompute", "computeInstance", "kubernetesCompute",
                            "synapseSparkCompute", "vmCompute", "connection"}, "name", "placeholder-name",
     "scripts pass --name"),
]


def overrides_for(rel: str, family: str, data: dict) -> list[tuple[str, str]]:
    """(key, value) pairs to set for the file at `rel` (relative to the conformance folder)."""
    return [(key, value) for glob, families, key, value, _ in OVERRIDES
            if family in families and fnmatch.fnmatch(rel, glob) and key not in data]
