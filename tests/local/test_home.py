"""The local workspaces of one ML_HOME, managed over ARM's resource-group calls (cli/local/home.py),
and the MLflow `runs/get` route `ml job show` reads metrics from."""

from __future__ import annotations

import httpx
import pytest

from cli.local.home import LocalHome
from cli.local.tracking.store import TrackingStore
from local_wire import API_VERSION, ContractTransport

RG = ("https://management.ml.invalid/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local"
      "/providers/Microsoft.MachineLearningServices/workspaces")
Q = f"?api-version={API_VERSION}"


@pytest.fixture
def home(tmp_path):
    home = LocalHome(tmp_path, "local")
    yield home
    home.close()


@pytest.fixture
def client(home):
    with httpx.Client(transport=ContractTransport(home)) as c:
        yield c


def names(client) -> list:
    return [w["name"] for w in client.get(RG + Q).json()["value"]]


def test_listing_creates_nothing(client, tmp_path):
    assert names(client) == []
    assert not (tmp_path / "workspaces").exists()


def test_create_list_show_delete(client, tmp_path):
    created = client.put(f"{RG}/exp{Q}", json={"properties": {"friendlyName": "exp"}})
    assert created.status_code == 200 and created.json()["name"] == "exp"
    assert created.headers["x-ms-request-id"]
    assert (tmp_path / "workspaces" / "exp" / "workspace.db").is_file()
    assert client.get(f"{RG}/exp{Q}").json()["name"] == "exp"
    assert names(client) == ["exp"]
    assert client.delete(f"{RG}/exp{Q}").status_code == 200
    assert not (tmp_path / "workspaces" / "exp").exists()
    assert client.delete(f"{RG}/exp{Q}").status_code == 204  # ARM: nothing there to delete
    assert client.get(f"{RG}/exp{Q}").status_code == 404  # only the default workspace appears on first use
    assert names(client) == []


def test_requests_below_a_workspace_go_to_its_service(client, tmp_path):
    client.put(f"{RG}/other{Q}", json={"properties": {}})
    jobs = client.get(f"{RG}/other/jobs{Q}")
    assert jobs.status_code == 200 and jobs.json()["value"] == []
    assert not (tmp_path / "workspaces" / "local").exists()


@pytest.mark.parametrize("name", ["..", ".hidden", "a" * 40, "a b"])
def test_hostile_workspace_names_touch_nothing(home, tmp_path, name):
    from urllib.parse import quote

    (tmp_path / "keep").write_text("x")
    with httpx.Client(transport=ContractTransport(home, check_request=False)) as raw:
        for method in ("PUT", "DELETE"):
            answer = raw.request(method, f"{RG}/{quote(name, safe='')}{Q}", json={})
            assert answer.status_code in (400, 404), (method, name, answer.status_code)
    assert (tmp_path / "keep").read_text() == "x"
    assert {p.name for p in tmp_path.iterdir()} <= {"keep", "workspaces"}
    # a path the URL itself collapses (`..`) reaches the default workspace, opened on first use
    assert {p.name for p in (tmp_path / "workspaces").glob("*")} <= {"local"}


def test_foreign_resource_group_is_404(client):
    foreign = RG.replace("/resourceGroups/local/", "/resourceGroups/other/")
    assert client.get(foreign + Q).status_code == 404


def test_mlflow_runs_get_answers_a_jobs_latest_metrics(home):
    service = home.service("local")
    base = (f"https://api.ml.invalid/mlflow/v1.0{service.workspace_id}/api/2.0/mlflow/runs/get")
    with httpx.Client(transport=ContractTransport(home)) as client:
        assert client.get(base, params={"run_id": "job1"}).status_code == 404  # nothing ever logged
        store = TrackingStore(service.root)
        try:
            store.create_job_run("job1")
            store.log_batch("job1", metrics=[{"key": "loss", "value": 0.5, "timestamp": 1, "step": 0},
                                             {"key": "loss", "value": 0.25, "timestamp": 2, "step": 1}])
        finally:
            store.close()
        run = client.get(base, params={"run_id": "job1"}).json()["run"]
        assert run["info"]["run_id"] == "job1"
        assert [(m["key"], m["value"]) for m in run["data"]["metrics"]] == [("loss", 0.25)]
        assert client.get(base, params={"run_id": "nope"}).status_code == 404
        assert client.get(base).status_code == 400
