"""azureml-examples' online endpoint script, run with `ml` in place of `az ml`.

The script is a trimmed copy of cli/deploy-safe-rollout-online-endpoints.sh of the public repository
Azure/azureml-examples (its `az ml` lines, in order, with the doc-snippet comments dropped and the
endpoint name fixed so the test can clean up). Its assets (endpoints/online/managed/saferollout/*.yml,
model-1 and model-2) are stand-ins of the same layout: a model folder, a score.py with init()/run(), a
sample request; the environment is an image only, so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_ml

SAFE_ROLLOUT = r'''set -e
export ENDPOINT_NAME=endpt-rollout
az ml online-endpoint create --name $ENDPOINT_NAME -f endpoints/online/managed/saferollout/endpoint.yml
az ml online-deployment create --name blue --endpoint $ENDPOINT_NAME -f endpoints/online/managed/saferollout/blue-deployment.yml --all-traffic
az ml online-endpoint invoke --name $ENDPOINT_NAME --request-file endpoints/online/model-1/sample-request.json
az ml online-deployment update --name blue --endpoint $ENDPOINT_NAME --set instance_count=2
az ml online-deployment create --name green --endpoint $ENDPOINT_NAME -f endpoints/online/managed/saferollout/green-deployment.yml
az ml online-endpoint show -n $ENDPOINT_NAME --query traffic
az ml online-endpoint invoke --name $ENDPOINT_NAME --deployment green --request-file endpoints/online/model-2/sample-request.json
ENDPOINT_KEY=$(az ml online-endpoint get-credentials -n $ENDPOINT_NAME -o tsv --query primaryKey)
SCORING_URI=$(az ml online-endpoint show -n $ENDPOINT_NAME -o tsv --query scoring_uri)
curl --request POST "$SCORING_URI" --header "Authorization: Bearer $ENDPOINT_KEY" --header 'Content-Type: application/json' --header "azureml-model-deployment: green" --data @endpoints/online/model-2/sample-request.json
az ml online-endpoint update --name $ENDPOINT_NAME --traffic "blue=90 green=10"
az ml online-endpoint update --name $ENDPOINT_NAME --traffic "blue=0 green=100"
az ml online-deployment delete --name blue --endpoint $ENDPOINT_NAME --yes --no-wait
az ml online-endpoint delete --name $ENDPOINT_NAME --yes --no-wait
'''

SCORE = '''import json, os
def init():
    global factor
    factor = float(open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "factor.txt")).read())
def run(raw_data):
    return [x * factor for x in json.loads(raw_data)["data"]]
'''


def _assets(root: Path) -> None:
    online = root / "endpoints" / "online"
    (online / "managed" / "saferollout").mkdir(parents=True)
    (online / "managed" / "saferollout" / "endpoint.yml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\n"
        "name: my-endpoint\nauth_mode: key\n")
    for name, model in (("blue", 1), ("green", 2)):
        (online / f"model-{model}" / "model").mkdir(parents=True)
        (online / f"model-{model}" / "model" / "factor.txt").write_text(str(model))
        (online / f"model-{model}" / "onlinescoring").mkdir()
        (online / f"model-{model}" / "onlinescoring" / "score.py").write_text(SCORE)
        (online / f"model-{model}" / "sample-request.json").write_text('{"data": [1, 2]}')
        (online / "managed" / "saferollout" / f"{name}-deployment.yml").write_text(
            "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
            f"name: {name}\nendpoint_name: my-endpoint\nmodel:\n  path: ../../model-{model}/model/\n"
            f"code_configuration:\n  code: ../../model-{model}/onlinescoring/\n  scoring_script: score.py\n"
            "environment:\n  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest\n"
            "instance_type: Standard_DS3_v2\ninstance_count: 1\n")


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs bash and curl")
def test_safe_rollout_script_runs_with_ml(tmp_path, isolated_home):
    _assets(tmp_path)
    script = tmp_path / "deploy-safe-rollout-online-endpoints.sh"
    # `az ml` -> `ml`: a shell function running this checkout's CLI
    script.write_text(f'ml() {{ "{sys.executable}" -m cli "$@"; }}\n' + SAFE_ROLLOUT.replace("az ml ", "ml "))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))}
    try:
        result = subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        out = result.stdout
        assert '"blue": 100' in out  # show --query traffic, before the split
        assert "[2.0, 4.0]" in out  # curl to green with the key and scoring_uri from -o tsv
        assert json.loads(out[out.index("[\n"):out.index("]\n") + 1]) == [1.0, 2.0]  # blue's first answer
    finally:
        run_ml("online-endpoint", "delete", "-n", "endpt-rollout", "--yes", timeout=120)
    assert not (isolated_home / "workspaces" / "local" / "endpoints" / "endpt-rollout").exists()
