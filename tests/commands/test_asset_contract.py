"""Every exchange the asset operations make, create/show/list of each family, held to the REST contract."""

from __future__ import annotations

import httpx
import pytest

from cli.client.context import LOCAL_BASE_URL, LOCAL_RESOURCE_GROUP, LOCAL_SUBSCRIPTION
from cli.client.resources import WorkspaceId
from cli.client.transports.local import LocalTransport
from cli.client.workspace_client import WorkspaceClient
from cli.local.service import LocalWorkspaceService
from cli.operations import assets, component, compute, data, datastore, environment, model, specs, workspace
from tests.conftest import REPO

SPECS = REPO / "tests" / "rest" / "specs"
WS_PATH = f"/subscriptions/{LOCAL_SUBSCRIPTION}/resourceGroups/{LOCAL_RESOURCE_GROUP}/providers/Microsoft.MachineLearningServices/workspaces/local"


class CheckedTransport(LocalTransport):
    """The local transport, asserting each exchange against the contract."""

    def __init__(self, service):
        super().__init__(service)
        self.exchanges = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        from tests.contract_check import check_exchange

        response = super().handle_request(request)
        check_exchange(request, response)
        self.exchanges.append(f"{request.method} {request.url.path}")
        return response


@pytest.fixture
def transport(tmp_path):
    return CheckedTransport(LocalWorkspaceService(tmp_path / "home", "local"))


@pytest.fixture
def client(transport):
    with WorkspaceClient(LOCAL_BASE_URL, WorkspaceId(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, "local"), transport,
                         sleep=lambda seconds: None) as c:
        yield c


def _spec(group: str, name: str) -> dict:
    return specs.load(group, SPECS / name, warn=print).data


def test_versioned_assets(client, transport, tmp_path):
    (tmp_path / "f.csv").write_text("a\n1\n")
    created = [
        data.create(client, {"name": "d", "type": "uri_file", "path": str(tmp_path / "f.csv")}),
        data.create(client, _spec("data", "data_uri_folder.yml")),
        data.create(client, _spec("data", "data_mltable.yml")),
        model.create(client, _spec("model", "model_custom.yml")),
        model.create(client, _spec("model", "model_triton.yml")),
        environment.create(client, _spec("environment", "env_conda.yml")),
        environment.create(client, _spec("environment", "env_build.yml")),
    ]
    for shown, kind in zip(created, ("data", "data", "data", "models", "models", "environments", "environments")):
        assert assets.show(client, kind, shown["name"], shown["version"]) == shown
        assert assets.show(client, kind, shown["name"], label="latest")["version"] == shown["version"]
        assert shown in assets.list_assets(client, kind, shown["name"])
        assert shown["name"] in [c["name"] for c in assets.list_assets(client, kind)]
    assets.set_archived(client, "data", "d", "1", None, True)
    assets.set_archived(client, "data", "d", None, None, True)
    assets.update(client, "models", created[3]["name"], created[3]["version"], None, ["description=x"])
    assert assets.create(client, "data", {"name": "d", "type": "uri_file", "path": "https://x.invalid/f.csv"})["version"] == "2"
    assert not [e for e in transport.exchanges if e.endswith("/startPendingUpload")]  # codes only
    secrets = [e for e in transport.exchanges if e.endswith("/listSecrets")]
    assert secrets == [f"POST {WS_PATH}/datastores/workspaceblobstore/listSecrets"] * 5  # one per local path
    indicators = [e.split(" /workspaceblobstore/")[1] for e in transport.exchanges if e.startswith("HEAD ")]
    assert [i.split("/", 2)[2].split("/")[0] for i in indicators] == [  # LocalUpload/<hash>/<file or folder>
        "f.csv", "mltable", "model.pkl", "mlflow-model", "docker"], indicators
    paths = [assets.show(client, k, n, v).get("path") for k, n, v in (("data", "d", "1"), ("models", "pickled", "1"))]
    assert all(p.startswith("azureml://") and "/datastores/workspaceblobstore/paths/LocalUpload/" in p for p in paths)
    build = assets.show(client, "environments", "docker-env", "2")["build"]["path"]
    assert build.startswith("https://local.blob.ml.invalid/workspaceblobstore/LocalUpload/") and build.endswith("/")


def test_components(client):
    environment.create(client, {"name": "py", "version": "1", "image": "python:3.11"})
    for name in ("component_command.yml", "component_parallel.yml", "component_pipeline.yml"):
        spec = specs.load("component", SPECS / name, warn=print)
        shown = component.create(client, spec)
        assert assets.show(client, "components", shown["name"], shown["version"]) == shown


def test_computes_datastores_workspace(client):
    from cli.client.context import resolve_target

    for name in ("compute_aml.yml", "compute_ci.yml", "compute_k8s.yml"):
        shown = compute.create(client, _spec("compute", name))
        assert compute.show(client, shown["name"]) == shown
    assert len(compute.list_computes(client)) == 3
    aml = _spec("compute", "compute_aml.yml")["name"]
    assert compute.update(client, aml, max_instances=3)["max_instances"] == 3
    for name in ("datastore_blob.yml", "datastore_file.yml", "datastore_gen2.yml"):
        shown = datastore.create(client, _spec("datastore", name))
        assert datastore.show(client, shown["name"]) == shown
    assert len(datastore.list_datastores(client)) == 5  # with workspaceblobstore and workspaceartifactstore
    assert workspace.show(client, resolve_target())["name"] == "local"
