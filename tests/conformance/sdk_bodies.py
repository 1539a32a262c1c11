"""Record the requests the official SDK (azure-ai-ml) sends to create each spec of the conformance corpus.

Run with the oracle venv only (it imports azure.ai.ml; nothing under cli/ may import it):
    /opt/oracle/bin/python tests/conformance/sdk_bodies.py [--out FILE]
For every file sdk_verdicts.tsv accepts in a family ml creates, the SDK's own `MLClient` operation
that `az ml <group> create -f FILE` calls is run for real, with two things stood in for:
- the service: an in-process HTTP adapter answers like the local workspace would (the workspace
  `local` in resource group `local`, location `local`; its default datastore `workspaceblobstore` on
  the account `local` at ml.invalid; every PUT answered with its own body; `@latest` is version 1);
- the blob store: `upload_artifact` computes the SDK's own `LocalUpload/<object hash>/<name>` path
  and sends nothing.
Every PUT and POST (except startPendingUpload) is written to sdk_bodies.jsonl: spec path, family,
and per request the method, the path below the workspace, the query (api-version left out: the SDK
pins a different one per operation group) and the JSON body. Runs offline (any other socket aborts).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import socket
import sys
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from body_families import corpus_rows, spec_file  # noqa: E402
from cli_defaults import overrides_for  # noqa: E402
from workspace_stand_in import ACCOUNT_URL, CONTAINER, RESOURCE_GROUP, SUBSCRIPTION, WORKSPACE, WORKSPACE_ID, answer  # noqa: E402

class WorkspaceStandIn(BaseAdapter):
    """requests adapter: records each request and answers as the local workspace would."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        body = json.loads(request.body) if request.body else None
        if request.method in ("PUT", "POST") and not parts.path.endswith("/startPendingUpload"):
            query = sorted((k, v) for k, v in parse_qsl(parts.query) if k != "api-version")
            self.sent.append({"method": request.method, "path": parts.path[len(WORKSPACE_ID):],
                              "query": "&".join(f"{k}={v}" for k, v in query), "body": body})
        status, answered = answer(request.method, parts.path, body)
        data = json.dumps(answered).encode()
        response = requests.Response()
        response.status_code, response.url, response.request = status, request.url, request
        response.headers["content-type"] = "application/json"
        response.raw = urllib3.HTTPResponse(body=io.BytesIO(data), headers={"content-type": "application/json"},
                                            status=status, preload_content=False)
        response.raw.enforce_content_length = False
        return response

    def close(self):
        pass


# a JWT-shaped token for https://ml.azure.com: jobs with a user identity decode it for their AML token header
TOKEN = "eyJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL21sLmF6dXJlLmNvbSIsIm9pZCI6IjAiLCJ0aWQiOiIwIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln"


class Token:
    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken(TOKEN, int(time.time()) + 3600)

    def get_token_info(self, *scopes, **kwargs):
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(TOKEN, int(time.time()) + 3600)


def _upload_artifact(local_path, datastore_operation, operation_scope, datastore_name, *, asset_hash=None,
                     sas_uri=None, **kwargs):
    """The SDK's upload_artifact without the blob traffic: where the files would land."""
    from azure.ai.ml._artifacts._artifact_utilities import get_datastore_arm_id
    from azure.ai.ml._utils._asset_utils import get_object_hash, get_ignore_file
    from azure.ai.ml.entities._assets._artifacts.artifact import ArtifactStorageInfo

    asset_hash = asset_hash or get_object_hash(local_path, get_ignore_file(local_path))
    if sas_uri:  # a code upload: the SAS names the container, and the files go to its root
        container = urlsplit(sas_uri).path.strip("/").split("/")[0]
        return ArtifactStorageInfo(name=kwargs.get("asset_name"), version=kwargs.get("asset_version"),
                                   relative_path=Path(local_path).name, datastore_arm_id=None,
                                   container_name=container, storage_account_url=sas_uri, indicator_file=None,
                                   is_file=Path(local_path).is_file())
    relative = f"LocalUpload/{asset_hash}/{Path(local_path).name}"
    return ArtifactStorageInfo(name=kwargs.get("asset_name"), version=kwargs.get("asset_version"),
                               relative_path=relative,
                               datastore_arm_id=get_datastore_arm_id(datastore_name or CONTAINER, operation_scope),
                               container_name=CONTAINER, storage_account_url=ACCOUNT_URL, indicator_file=relative,
                               is_file=Path(local_path).is_file())


def create(client, family: str, path: Path, params: list):
    """What `az ml <group> create -f path` does with the loaded spec."""
    from azure.ai.ml.entities import _load_functions as load

    if family in ("commandJob", "sweepJob", "pipelineJob"):
        return client.jobs.create_or_update(load.load_job(str(path), params_override=params))
    if family.endswith("Component"):
        return client.components.create_or_update(load.load_component(str(path), params_override=params))
    if family in ("amlCompute", "computeInstance", "kubernetesCompute", "vmCompute", "synapseSparkCompute"):
        return client.compute.begin_create_or_update(load.load_compute(str(path), params_override=params)).result()
    if family in ("azureBlob", "azureFile", "azureDataLakeGen1", "azureDataLakeGen2"):
        return client.datastores.create_or_update(load.load_datastore(str(path), params_override=params))
    if family == "batchEndpoint":
        return client.batch_endpoints.begin_create_or_update(load.load_batch_endpoint(str(path), params_override=params)).result()
    if family.endswith("atchDeployment"):  # az picks the loader by the spec's type, as here
        import yaml

        kind = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("type")
        loader = {"model": load.load_model_batch_deployment,
                  "pipeline": load.load_pipeline_component_batch_deployment}.get(kind, load.load_batch_deployment)
        poller = client.batch_deployments.begin_create_or_update(loader(str(path), params_override=params))
        # azure-ai-ml 1.35.2 fails reading the answer to a pipeline component deployment (KeyError
        # 'componentId' in PipelineComponentBatchDeployment._from_rest_object): its PUT is sent, and is the datum
        return poller if kind == "pipeline" else poller.result()
    if family == "managedOnlineEndpoint":
        return client.online_endpoints.begin_create_or_update(load.load_online_endpoint(str(path), params_override=params)).result()
    if family == "managedOnlineDeployment":
        return client.online_deployments.begin_create_or_update(
            load.load_online_deployment(str(path), params_override=params)).result()
    operations = {"data": (client.data, load.load_data), "model": (client.models, load.load_model),
                  "environment": (client.environments, load.load_environment)}[family]
    return operations[0].create_or_update(operations[1](str(path), params_override=params))


def _no_network(*args, **kwargs):
    raise RuntimeError(f"network access attempted: {args[:2]}")


def main():
    if os.environ.get("PYTHONHASHSEED") != "0":  # set order shows in some SDK output: pin it
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    import yaml
    from azure.ai.ml import MLClient
    from azure.ai.ml._artifacts import _artifact_utilities
    from azure.core.pipeline.transport import RequestsTransport

    here = Path(__file__).resolve().parent
    corpus = here.parents[1].parent / "shared" / "conformance"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=here / "sdk_bodies.jsonl")
    parser.add_argument("only", nargs="*", help="record only these corpus paths (for a look)")
    args = parser.parse_args()
    args.out = args.out.resolve()  # before the working folder changes below

    socket.create_connection = socket.getaddrinfo = _no_network
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    _artifact_utilities.upload_artifact = _upload_artifact
    # jobs take their default experiment name from the working folder, and git properties from it
    work = Path(tempfile.mkdtemp()) / "bodies"
    work.mkdir()
    os.chdir(work)

    lines = []
    for rel, family in corpus_rows(here / "sdk_verdicts.tsv"):
        if args.only and rel not in args.only:
            continue
        stand_in = WorkspaceStandIn()
        session = requests.Session()
        session.mount("https://", stand_in)
        client = MLClient(Token(), SUBSCRIPTION, RESOURCE_GROUP, WORKSPACE, transport=RequestsTransport(session=session))
        path = spec_file(corpus, rel)
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        params = [{k: v} for k, v in overrides_for(rel, family, data if isinstance(data, dict) else {})]
        try:
            create(client, family, path, params)
            error = None
        except Exception as exc:  # noqa: BLE001 - the SDK's refusal is the datum
            error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        lines.append({"path": rel, "family": family, "error": error, "requests": stand_in.sent})
        print(f"{family:20s} {len(stand_in.sent)} {'ERROR ' + error if error else ''} {rel}", file=sys.stderr)
    with args.out.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, sort_keys=True) + "\n")
    print(f"{len(lines)} specs -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
