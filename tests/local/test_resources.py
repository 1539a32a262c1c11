from urllib.parse import urlsplit

from cli.local import jobs_hook
from local_wire import url

COMPUTE = {"location": "local", "properties": {"computeType": "ComputeInstance",
                                                "properties": {"vmSize": "STANDARD_DS3_V2"}}}
JOB = {"properties": {"jobType": "Command", "command": "python train.py", "environmentId": "azureml:env:1",
                      "tags": {"team": "a"}}}


def test_workspace_get(client):
    body = client.get(url()).json()
    assert body["name"] == "local" and body["type"] == "Microsoft.MachineLearningServices/workspaces"
    props = body["properties"]
    assert props["discoveryUrl"] == "https://api.ml.invalid/discovery"
    assert props["mlFlowTrackingUri"] == ("azureml://api.ml.invalid/mlflow/v1.0" + urlsplit(url()).path)
    assert client.get(url()).json()["properties"]["workspaceId"] == props["workspaceId"]
    assert set(client.get(props["discoveryUrl"]).json()) >= {"api", "history", "experimentation"}


def test_compute_lifecycle(client):
    created = client.put(url("computes/ci1"), json=COMPUTE)
    assert created.status_code == 201
    status = client.get(created.headers["Azure-AsyncOperation"])
    assert status.status_code == 200 and status.json()["status"] == "Succeeded"
    got = client.get(url("computes/ci1")).json()
    assert got["properties"]["provisioningState"] == "Succeeded"
    assert got["properties"]["properties"]["state"] == "Running"
    assert [c["name"] for c in client.get(url("computes")).json()["value"]] == ["ci1"]
    stopped = client.post(url("computes/ci1/stop"))
    assert stopped.status_code == 202 and client.get(stopped.headers["Location"]).status_code == 204
    assert client.get(url("computes/ci1")).json()["properties"]["properties"]["state"] == "Stopped"
    assert client.post(url("computes/ci1/start")).status_code == 202
    assert client.get(url("computes/ci1")).json()["properties"]["properties"]["state"] == "Running"
    assert client.put(url("computes/ci1"), json=COMPUTE).status_code == 200
    deleted = client.delete(url("computes/ci1"))
    assert deleted.status_code == 202 and client.get(deleted.headers["Location"]).status_code == 204
    assert client.get(url("computes/ci1")).status_code == 404
    assert client.post(url("computes/ci1/start")).status_code == 404


def test_start_on_a_cluster_is_refused(client):
    client.put(url("computes/cpu"), json={"properties": {"computeType": "AmlCompute"}})
    r = client.post(url("computes/cpu/start"))
    assert r.status_code == 400 and "only a ComputeInstance" in r.json()["error"]["message"]


def test_job_lifecycle(client, monkeypatch):
    created_ids, cancel_ids = [], []
    monkeypatch.setattr(jobs_hook, "on_job_created", lambda job_id, *a: created_ids.append(job_id))
    monkeypatch.setattr(jobs_hook, "on_job_cancel_requested", lambda job_id, *a: cancel_ids.append(job_id))
    r = client.put(url("jobs/job1"), json=JOB)
    assert r.status_code == 201 and r.json()["properties"]["status"] == "NotStarted"
    assert created_ids == ["job1"]
    assert client.put(url("jobs/job1"), json=JOB).status_code == 200
    assert created_ids == ["job1"]  # an update does not start it again
    changed = {"properties": {**JOB["properties"], "command": "python other.py"}}
    assert client.put(url("jobs/job1"), json=changed).status_code == 409
    client.put(url("jobs/job2"), json={"properties": {"jobType": "Pipeline"}})
    assert {j["name"] for j in client.get(url("jobs")).json()["value"]} == {"job1", "job2"}
    assert [j["name"] for j in client.get(url("jobs", jobType="Pipeline")).json()["value"]] == ["job2"]
    canceled = client.post(url("jobs/job1/cancel"))
    assert canceled.status_code == 202 and client.get(canceled.headers["Location"]).status_code == 204
    assert client.get(url("jobs/job1")).json()["properties"]["status"] == "CancelRequested"
    assert cancel_ids == ["job1"]
    deleted = client.delete(url("jobs/job1"))
    assert deleted.status_code == 202 and "Location" in deleted.headers
    assert client.get(url("jobs/job1")).status_code == 404
    assert client.post(url("jobs/job1/cancel")).status_code == 404


def test_datastores(client):
    default = client.get(url("datastores", isDefault="true")).json()["value"]
    assert [d["name"] for d in default] == ["workspaceblobstore"]
    # Key-based, as Azure's usual default store, so that clients ask listSecrets for access.
    assert default[0]["properties"]["credentials"] == {"credentialsType": "AccountKey"}
    body = {"properties": {"datastoreType": "AzureBlob", "accountName": "acct", "containerName": "c",
                           "credentials": {"credentialsType": "AccountKey",
                                           "secrets": {"secretsType": "AccountKey", "key": "s3cret"}}}}
    created = client.put(url("datastores/mine", skipValidation="true"), json=body)
    assert created.status_code == 201 and "secrets" not in created.json()["properties"]["credentials"]
    assert "s3cret" not in client.get(url("datastores/mine")).text
    secrets = client.post(url("datastores/mine/listSecrets"), json={"expirableSecret": True, "expireAfterHours": 1})
    assert secrets.json() == {"secretsType": "AccountKey", "key": "s3cret"}
    assert {d["name"] for d in client.get(url("datastores")).json()["value"]} == {
        "workspaceblobstore", "workspaceartifactstore", "mine"}  # every Azure workspace has the artifact store
    assert sorted(d["name"] for d in client.get(url("datastores", isDefault="false")).json()["value"]) == [
        "mine", "workspaceartifactstore"]
    assert client.delete(url("datastores/mine")).status_code == 200
    assert client.delete(url("datastores/workspaceblobstore")).status_code == 400


def test_an_identity_based_default_from_an_older_version_becomes_key_based(tmp_path):
    from cli.local.service import LocalWorkspaceService

    first = LocalWorkspaceService(tmp_path / "home", "local")
    ds_id = first.arm_id("datastores", "workspaceblobstore")
    record = first.store.get(ds_id)
    old = {**record.body, "properties": {**record.body["properties"], "credentials": {"credentialsType": "None"}}}
    with first.store.transaction() as conn:
        first.store.upsert(conn, ds_id, "datastores", first.workspace_id, "workspaceblobstore", old)
    first.store.close()
    again = LocalWorkspaceService(tmp_path / "home", "local")
    try:
        props = again.store.get(ds_id).body["properties"]
        assert props["credentials"] == {"credentialsType": "AccountKey"} and props["isDefault"] is True
    finally:
        again.store.close()


def test_default_datastore_secret_is_a_working_sas(client):
    sas = client.post(url("datastores/workspaceblobstore/listSecrets"), json={}).json()
    assert sas["secretsType"] == "Sas"
    target = f"https://local.blob.ml.invalid/workspaceblobstore/LocalUpload/h/f.txt?{sas['sasToken']}"
    assert client.put(target, content=b"1", headers={"x-ms-blob-type": "BlockBlob"}).status_code == 201
