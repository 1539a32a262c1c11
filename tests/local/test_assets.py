import pytest

from local_wire import url

MODEL = {"properties": {"modelUri": "azureml://datastores/workspaceblobstore/paths/models/m1",
                        "modelType": "custom_model", "description": "first"}}


def test_version_put_expands_datastore_uri_and_fills_server_fields(client):
    r = client.put(url("models/m/versions/1"), json=MODEL)
    assert r.status_code == 201
    body = r.json()
    assert body["id"].endswith("/workspaces/local/models/m/versions/1")
    assert body["name"] == "1"
    assert body["type"] == "Microsoft.MachineLearningServices/workspaces/models/versions"
    assert body["properties"]["modelUri"] == (
        "azureml://subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/local/workspaces/local"
        "/datastores/workspaceblobstore/paths/models/m1")
    assert body["properties"]["provisioningState"] == "Succeeded"
    assert set(body["systemData"]) >= {"createdAt", "createdBy", "lastModifiedAt"}
    container = client.get(url("models/m")).json()["properties"]
    assert (container["latestVersion"], container["nextVersion"]) == ("1", "2")


def test_versions_are_immutable(client):
    assert client.put(url("models/m/versions/1"), json=MODEL).status_code == 201
    again = client.put(url("models/m/versions/1"), json=MODEL)
    assert again.status_code == 200
    assert again.json()["systemData"] == client.get(url("models/m/versions/1")).json()["systemData"]
    changed = {"properties": {**MODEL["properties"], "modelUri": "azureml://datastores/workspaceblobstore/paths/x"}}
    conflict = client.put(url("models/m/versions/1"), json=changed)
    assert conflict.status_code == 409
    error = conflict.json()["error"]
    assert error["code"] == "UserError"
    assert "already exists with different content" in error["message"]
    assert "properties.modelUri" in error["message"]
    stored = client.get(url("models/m/versions/1")).json()["properties"]
    assert stored["modelUri"].endswith("/paths/models/m1")
    described = {"properties": {**MODEL["properties"], "description": "second", "tags": {"a": "b"}}}
    updated = client.put(url("models/m/versions/1"), json=described)
    assert updated.status_code == 200 and updated.json()["properties"]["description"] == "second"


def test_archive_via_put_and_list_view_type(client):
    for v in ("1", "2", "3"):
        client.put(url(f"data/d/versions/{v}"), json={"properties": {"dataType": "uri_file",
                                                                     "dataUri": f"https://x/{v}.csv"}})
    archived = client.get(url("data/d/versions/3")).json()
    archived["properties"]["isArchived"] = True
    assert client.put(url("data/d/versions/3"), json={"properties": archived["properties"]}).status_code == 200

    def names(view=None):
        params = {"listViewType": view} if view else {}
        return sorted(v["name"] for v in client.get(url("data/d/versions", **params)).json()["value"])

    assert names() == ["1", "2"]
    assert names("ActiveOnly") == ["1", "2"]
    assert names("ArchivedOnly") == ["3"]
    assert names("All") == ["1", "2", "3"]
    assert client.get(url("data/d")).json()["properties"]["latestVersion"] == "2"
    assert client.get(url("data/d/versions", listViewType="Some")).status_code == 400


def test_container_put_get_list_and_archive(client):
    assert client.put(url("environments/e"), json={"properties": {"description": "x"}}).status_code == 201
    assert client.put(url("environments/e"), json={"properties": {"description": "y"}}).status_code == 200
    assert client.put(url("environments/old"), json={"properties": {"isArchived": True}}).status_code == 201
    assert [c["name"] for c in client.get(url("environments")).json()["value"]] == ["e"]
    all_names = {c["name"] for c in client.get(url("environments", listViewType="All")).json()["value"]}
    assert all_names == {"e", "old"}
    assert client.get(url("environments/e")).json()["properties"]["description"] == "y"


def test_paging_with_top_and_next_link(client):
    for v in range(1, 8):
        client.put(url(f"components/c/versions/{v}"), json={"properties": {"componentSpec": {"v": v}}})
    seen, pages = [], 0
    next_url = url("components/c/versions", **{"$top": "3", "$orderBy": "createdtime asc"})
    while next_url:
        page = client.get(next_url).json()
        pages += 1
        seen += [v["name"] for v in page["value"]]
        next_url = page.get("nextLink")
        if next_url:
            assert "api-version=2025-12-01" in next_url and "%24skipToken=" in next_url
    assert pages == 3
    assert seen == [str(v) for v in range(1, 8)]
    newest = client.get(url("components/c/versions", **{"$top": "2", "$orderBy": "version desc"})).json()
    assert [v["name"] for v in newest["value"]] == ["7", "6"]
    assert client.get(url("components/c/versions", **{"$skipToken": "nope"})).status_code == 400


def test_code_hash_lookup(client, raw_client):
    body = {"properties": {"codeUri": "https://blob.ml.invalid/local/workspaceblobstore/LocalUpload/a/src",
                           "isAnonymous": True, "properties": {"hash_sha256": "ABC123", "hash_version": "202208"}}}
    client.put(url("codes/c1/versions/1"), json=body)
    client.put(url("codes/c1/versions/2"), json={"properties": {"codeUri": "https://x/other"}})
    hits = client.get(url("codes/c1/versions", hash="abc123", hashVersion="202208")).json()
    assert [v["name"] for v in hits["value"]] == ["1"]
    misses = client.get(url("codes/c1/versions", hash="ffff", hashVersion="202208")).json()
    assert misses["value"] == []
    # the official SDK sends hash_version as a number; it is stored (and matched) as the string
    numeric = {"properties": {"codeUri": "https://x/n", "properties": {"hash_sha256": "beef", "hash_version": 202208}}}
    stored = raw_client.put(url("codes/c2/versions/1"), json=numeric).json()
    assert stored["properties"]["properties"]["hash_version"] == "202208"
    found = client.get(url("codes/c2/versions", hash="beef", hashVersion="202208")).json()["value"]
    assert [v["name"] for v in found] == ["1"]


def test_delete_version(client):
    client.put(url("models/m/versions/1"), json=MODEL)
    assert client.delete(url("models/m/versions/1")).status_code == 200
    assert client.get(url("models/m/versions/1")).status_code == 404
    assert client.delete(url("models/m/versions/1")).status_code == 204


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"", b'{"properties": 3}'])
def test_malformed_body_is_400_and_writes_nothing(client, raw_client, content):
    r = raw_client.put(url("models/bad/versions/1"), content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] in ("InvalidRequestContent", "UserError")
    assert client.get(url("models/bad")).status_code == 404
    assert client.get(url("models/bad/versions/1")).status_code == 404


def test_routing_errors_and_headers(client, raw_client):
    missing = client.get(url("models/nope/versions/1"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceNotFound"
    not_allowed = raw_client.patch(url("models/m/versions/1"), json={})
    assert not_allowed.status_code == 405 and "PUT" in not_allowed.headers["Allow"]
    other = client.get(url("models/m").replace("/workspaces/local/", "/workspaces/other/"))
    assert other.status_code == 404 and "workspaces/other" in other.json()["error"]["message"]
    r = client.get(url("models"), headers={"x-ms-client-request-id": "abc-123"})
    assert r.headers["x-ms-client-request-id"] == "abc-123"
    assert r.headers["x-ms-request-id"]


def test_missing_api_version_is_400(raw_client):
    r = raw_client.get(url("models").split("?")[0])
    assert r.status_code == 400 and r.json()["error"]["code"] == "MissingApiVersionParameter"
    assert r.headers["x-ms-request-id"]


def test_unknown_path_is_404(raw_client):
    r = raw_client.get(url("nothingHere"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceNotFound"


def test_wrongly_typed_asset_properties_are_400(raw_client):
    for props in ({"properties": "not-a-dict"}, {"tags": {"a": [1]}}):
        r = raw_client.put(url("codes/c/versions/1"), json={"properties": props})
        assert r.status_code == 400 and r.json()["error"]["target"].startswith("properties.")
    assert raw_client.get(url("codes/c")).status_code == 404
