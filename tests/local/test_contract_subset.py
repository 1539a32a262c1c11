"""The contract subset shipped in cli/local/contract is what tools/contract_subset.py makes of the contract."""

from __future__ import annotations

import importlib.util
import json

from cli.local.contract import SCHEMA_FILE, problems
from tests.conftest import REPO, shared_path


def _tool():
    spec = importlib.util.spec_from_file_location("contract_subset", REPO / "tools" / "contract_subset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_subset_is_generated_from_the_contract():
    contract = json.loads(shared_path("azureml-rest", "contract", "models.schema.json").read_text())
    tool = _tool()
    shipped = (REPO / "cli" / "local" / "contract" / SCHEMA_FILE).read_text()
    assert shipped == tool.render(tool.subset(contract)), "re-run python tools/contract_subset.py"


def test_a_discriminated_body_is_judged_by_the_variant_it_names():
    # without the if/then chain, a union would blame jobType for a missing command
    assert problems("JobBase", {"properties": {"jobType": "Command", "environmentId": "e"}}) == [
        ("properties", "missing required key 'command'")]
    assert problems("ComputeResource", {"properties": {"computeType": "AmlCompute",
                                                       "properties": {"scaleSettings": {"maxNodeCount": 2}}}}) == []
    assert problems("Datastore", {"properties": {"datastoreType": "AzureBlob", "credentials": {
        "credentialsType": "None"}}}) == []
