import json
import sys
import types
from pathlib import Path

import pytest

from cli.client.context import (LOCAL_BASE_URL, LOCAL_SUBSCRIPTION, WorkspaceTarget, find_config, local_home,
                                resolve_target)
from cli.targets import make_client
from cli.client.resources import WorkspaceId
from cli.errors import ResourceNotFoundError, UsageError

CONFIG = {"subscription_id": "sub-config", "resource_group": "rg-config", "workspace_name": "ws-config"}


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


@pytest.fixture
def project(tmp_path):
    """A project folder holding a workspace config.json."""
    write(tmp_path / "proj" / "config.json", CONFIG)
    return tmp_path / "proj"


def env(tmp_path, **values):
    # AZURE_CONFIG_DIR points at an empty folder so the real ~/.azure never leaks in
    return {"ML_HOME": str(tmp_path / "home"), "AZURE_CONFIG_DIR": str(tmp_path / "az"), **values}


def test_nothing_configured_is_the_local_workspace(tmp_path):
    target = resolve_target(env=env(tmp_path), cwd=tmp_path)
    assert target == WorkspaceTarget("local", WorkspaceId(LOCAL_SUBSCRIPTION, "local", "local"),
                                     f"no workspace configured: using the local workspace 'local' under {tmp_path / 'home'}",
                                     tmp_path / "home")


def test_workspace_name_alone_names_a_local_workspace(tmp_path):
    target = resolve_target(workspace_name="exp", env=env(tmp_path), cwd=tmp_path)
    assert (target.kind, target.workspace.workspace) == ("local", "exp")
    assert target.reason.startswith("--workspace-name without a subscription or resource group")


def test_config_json_is_used_when_present(tmp_path, project):
    target = resolve_target(env=env(tmp_path), cwd=project)
    assert target.kind == "azure"
    assert target.workspace == WorkspaceId("sub-config", "rg-config", "ws-config")
    assert str(project / "config.json") in target.reason


def test_env_beats_config_and_flags_beat_env(tmp_path, project):
    environment = env(tmp_path, ML_SUBSCRIPTION="sub-env", ML_RESOURCE_GROUP="rg-env", ML_WORKSPACE="ws-env")
    from_env = resolve_target(env=environment, cwd=project)
    assert from_env.workspace == WorkspaceId("sub-env", "rg-env", "ws-env")
    from_flags = resolve_target(workspace_name="ws-flag", resource_group="rg-flag", env=environment, cwd=project)
    assert from_flags.workspace == WorkspaceId("sub-env", "rg-flag", "ws-flag")
    assert "--workspace-name" in from_flags.reason and "ML_SUBSCRIPTION" in from_flags.reason


def test_az_defaults_are_read(tmp_path):
    environment = env(tmp_path, ML_SUBSCRIPTION="s", AZURE_DEFAULTS_GROUP="rg-az", AZURE_DEFAULTS_WORKSPACE="ws-az")
    assert resolve_target(env=environment, cwd=tmp_path).workspace == WorkspaceId("s", "rg-az", "ws-az")


def test_azureml_folder_beats_plain_config_json_and_search_walks_up(tmp_path, project):
    write(tmp_path / ".azureml" / "config.json", dict(CONFIG, workspace_name="ws-dotazureml"))
    deep = project / "a" / "b"
    deep.mkdir(parents=True)
    config, path = find_config(deep)
    assert config["workspace"] == "ws-dotazureml" and path == tmp_path / ".azureml" / "config.json"


def test_search_stops_after_twenty_parents(tmp_path):
    write(tmp_path / "config.json", CONFIG)
    deep = tmp_path.joinpath(*["d"] * 21)
    deep.mkdir(parents=True)
    assert find_config(deep) == ({}, None)
    assert find_config(deep.parent)[1] == tmp_path / "config.json"


def test_a_foreign_config_json_is_ignored(tmp_path):
    write(tmp_path / "config.json", {"compilerOptions": {}})
    assert resolve_target(env=env(tmp_path), cwd=tmp_path).kind == "local"


def test_scope_key_and_bad_azureml_config(tmp_path):
    scope = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/w1"
    write(tmp_path / "a" / "config.json", {"Scope": scope})
    assert resolve_target(env=env(tmp_path), cwd=tmp_path / "a").workspace == WorkspaceId("s1", "rg1", "w1")
    write(tmp_path / "b" / ".azureml" / "config.json", "{not json")
    with pytest.raises(UsageError, match="not a readable JSON workspace config"):
        resolve_target(env=env(tmp_path), cwd=tmp_path / "b")


def test_partial_azure_target_says_what_is_missing(tmp_path):
    with pytest.raises(UsageError, match="needs --resource-group"):
        resolve_target(subscription="s", workspace_name="w", env=env(tmp_path), cwd=tmp_path)
    with pytest.raises(UsageError, match="needs --subscription, --resource-group, --workspace-name"):
        resolve_target(env=env(tmp_path, ML_TARGET="azure"), cwd=tmp_path)


def test_missing_subscription_comes_from_the_az_profile(tmp_path):
    profile = {"subscriptions": [{"id": "other", "isDefault": False}, {"id": "sub-az", "isDefault": True}]}
    write(tmp_path / "az" / "azureProfile.json", "\ufeff" + json.dumps(profile))  # az writes a BOM
    target = resolve_target(resource_group="rg", workspace_name="w", env=env(tmp_path), cwd=tmp_path)
    assert target.workspace == WorkspaceId("sub-az", "rg", "w")
    assert "the default subscription of `az account`" in target.reason


def test_ml_target_local_overrides_config_but_not_flags(tmp_path, project):
    target = resolve_target(env=env(tmp_path, ML_TARGET="local", ML_WORKSPACE="mine"), cwd=project)
    assert (target.kind, target.workspace.workspace) == ("local", "mine")
    assert target.reason.startswith("ML_TARGET=local: ")
    with pytest.raises(UsageError, match="ML_TARGET=local but --resource-group given"):
        resolve_target(resource_group="rg", env=env(tmp_path, ML_TARGET="local"), cwd=project)


def test_local_ids_given_explicitly_stay_local(tmp_path):
    target = resolve_target(subscription=LOCAL_SUBSCRIPTION, resource_group="local", env=env(tmp_path), cwd=tmp_path)
    assert target.kind == "local"


def test_bad_local_workspace_name(tmp_path):
    with pytest.raises(UsageError, match="invalid local workspace name"):
        resolve_target(workspace_name="../etc", env=env(tmp_path), cwd=tmp_path)


def test_local_home_order(tmp_path):
    assert local_home({"ML_HOME": str(tmp_path / "x"), "XDG_DATA_HOME": "/xdg"}) == tmp_path / "x"
    assert local_home({"XDG_DATA_HOME": "/xdg"}) == Path("/xdg/ml")
    assert local_home({}) == Path.home() / ".local" / "share" / "ml"


def test_make_client_local_uses_the_local_service(tmp_path, monkeypatch):
    made = []

    class FakeService:
        def __init__(self, home, workspace_name):
            made.append((home, workspace_name))

        def handle(self, request):
            import httpx

            return httpx.Response(200, json={"host": request.url.host, "path": request.url.path})

    module = types.ModuleType("cli.local.service")
    module.LocalWorkspaceService = FakeService
    monkeypatch.setitem(sys.modules, "cli.local.service", module)
    monkeypatch.delenv("ML_WIRE_LOG", raising=False)  # a fake service is not under the REST contract
    target = resolve_target(workspace_name="w1", env=env(tmp_path), cwd=tmp_path)
    with make_client(target) as client:
        assert client.base_url == LOCAL_BASE_URL
        assert client.get("jobs/j") == {"host": "management.ml.invalid", "path": target.workspace.job("j")}
    assert made == [(tmp_path / "home", "w1")]


def test_make_client_azure_honours_the_dev_url(tmp_path):
    from cli.client.transports.azure import AzureTransport

    target = resolve_target(subscription="s", resource_group="r", workspace_name="w", env=env(tmp_path), cwd=tmp_path)
    with make_client(target, env={"AZUREML_DEV_URL_MFE": "http://127.0.0.1:8765"}) as client:
        assert client.base_url == "http://127.0.0.1:8765"
        transport = client._http._transport
        assert isinstance(transport, AzureTransport) and transport.hosts == {"127.0.0.1"}
    with make_client(target, env={}) as client:
        assert client.base_url == "https://management.azure.com"


def test_make_client_with_the_real_local_service(tmp_path):
    pytest.importorskip("cli.local.service")
    target = resolve_target(env=env(tmp_path), cwd=tmp_path)
    ws = target.workspace
    with make_client(target) as client:
        assert client.get(ws.arm_id)["name"] == "local"
        upload = client.post(ws.version("codes", "c1", "1") + "/startPendingUpload",
                             {"pendingUploadType": "TemporaryBlobReference"})["blobReferenceForConsumption"]
        container, sas = upload["credential"]["sasUri"].split("?", 1)
        blob = f"{container}/src/main.py?{sas}"
        assert client.head_blob(blob) is None
        client.put_blob(blob, b"print(1)", {"x-ms-blob-type": "BlockBlob"})
        assert client.head_blob(blob)["content-length"] == "8"
        client.put(ws.version("codes", "c1", "1"), {"properties": {"codeUri": upload["blobUri"] + "/src"}})
        assert [v["name"] for v in client.list(ws.version("codes", "c1"))] == ["1"]
        with pytest.raises(ResourceNotFoundError):
            client.get(ws.job("missing"))
    assert (tmp_path / "home" / "workspaces" / "local").is_dir()
