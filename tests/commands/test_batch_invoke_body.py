"""The body `ml batch-endpoint invoke` POSTs with named inputs and outputs (az's --file, --set inputs.x)
equals the one the official SDK builds for the same `inputs=`/`outputs=` (its BatchJobSchema, run in the
SDK's own interpreter), and --file's YAML is read as az reads it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cli.client.resources import WorkspaceId
from cli.errors import UsageError
from cli.operations import batch_endpoint

DATA = "azureml://datastores/workspaceblobstore/paths/heart/"
OUT = "azureml://datastores/workspaceblobstore/paths/scores/"
SDK_BODY = f'''
import json
from pathlib import Path
from azure.ai.ml import Input, Output
from azure.ai.ml._schema._deployment.batch.batch_job import BatchJobSchema
from azure.ai.ml.constants._common import BASE_PATH_CONTEXT_KEY, PARAMS_OVERRIDE_KEY
from azure.ai.ml.constants._endpoint import EndpointYamlFields
# what BatchEndpointOperations.invoke(inputs=..., outputs=...) loads into its request's properties
overrides = [{{EndpointYamlFields.BATCH_JOB_INPUT_DATA: {{
                  "input_data": Input(type="uri_folder", path="{DATA}"),
                  "score_mode": Input(type="string", default="append"),
                  "threshold": Input(type="number", default=0.5)}}}},
             {{EndpointYamlFields.BATCH_JOB_OUTPUT_DATA: {{"scores": Output(type="uri_folder", path="{OUT}", mode="upload")}}}}]
body = BatchJobSchema(context={{BASE_PATH_CONTEXT_KEY: Path("."), PARAMS_OVERRIDE_KEY: overrides}}).load(data={{}})
print(json.dumps({{"properties": body}}))
'''


class RecordingClient:
    """The client calls invoke makes, answered as the workspace answers them; the POST is kept."""

    def __init__(self):
        self.workspace = WorkspaceId("00000000-0000-0000-0000-000000000000", "rg", "ws")
        self.posted = None

    def get(self, path, **_):
        return {"properties": {"scoringUri": "https://example.invalid/jobs"}}

    def post_with_token(self, url, body, *, scope, headers):
        self.posted = body
        return {}


def test_named_inputs_and_outputs_are_sent_as_the_sdk_sends_them(tmp_path):
    from tests.serve.oracle import oracle_python

    expected = json.loads(subprocess.run([oracle_python(), "-c", SDK_BODY], capture_output=True, text=True,
                                         check=True, timeout=120).stdout)
    (tmp_path / "inputs.yml").write_text(
        f"inputs:\n  input_data:\n    type: uri_folder\n    path: {DATA}\n  score_mode:\n    type: string\n"
        f"    default: append\noutputs:\n  scores:\n    type: uri_folder\n    mode: upload\n")
    inputs, outputs = batch_endpoint.io_from_file(tmp_path / "inputs.yml")
    rest = batch_endpoint.apply_io_settings(["inputs.threshold.type=number", "inputs.threshold.default=0.5",
                                             f"outputs.scores.path={OUT}", "mini_batch_size=3"], inputs, outputs)
    assert rest == ["mini_batch_size=3"]
    client = RecordingClient()
    batch_endpoint.invoke(client, "scorer", inputs=inputs, outputs=outputs, base=tmp_path)
    sent = json.loads(json.dumps(client.posted))
    # --set's values are text, as az's are; the SDK's number default is a number: compared as the service reads it
    sent["properties"]["inputData"]["threshold"]["value"] = float(sent["properties"]["inputData"]["threshold"]["value"])
    assert sent == expected


def test_the_inputs_file_is_checked_as_az_reads_it(tmp_path):
    wrong = tmp_path / "wrong.yml"
    wrong.write_text("inputs:\n  - a\n")
    with pytest.raises(UsageError, match="map names"):
        batch_endpoint.io_from_file(wrong)
    with pytest.raises(UsageError, match="No such file"):
        batch_endpoint.io_from_file(tmp_path / "absent.yml")
    other = tmp_path / "other.yml"
    other.write_text("jobs: {}\n")
    with pytest.raises(UsageError, match="inputs:"):
        batch_endpoint.io_from_file(other)
    client = RecordingClient()
    with pytest.raises(UsageError, match="no such file or folder: missing"):
        batch_endpoint.invoke(client, "scorer", inputs={"d": {"type": "uri_folder", "path": "missing"}}, base=tmp_path)
    with pytest.raises(UsageError, match="needs a value"):
        batch_endpoint.invoke(client, "scorer", inputs={"n": {"type": "integer"}}, base=tmp_path)
    with pytest.raises(UsageError, match="not both"):
        batch_endpoint.invoke(client, "scorer", input_path="x", inputs={"n": 1}, base=tmp_path)
    assert client.posted is None
