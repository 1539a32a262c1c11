import json
import uuid

import httpx

from cli import __version__
from cli.client.resources import API_VERSION
from client_fakes import BASE, Script, example, example_response, example_workspace


def test_get_sends_api_version_request_id_and_user_agent(make_client):
    ws = example_workspace("Workspace/CodeVersion/get.json")
    script = Script(("GET", None, example_response("Workspace/CodeVersion/get.json", 200)))
    client = make_client(script, ws)

    body = client.get(ws.version("codes", "string", "string"))

    assert body == example("Workspace/CodeVersion/get.json")["responses"]["200"]["body"]
    request = script.requests[0]
    assert str(request.url) == f"{BASE}{ws.arm_id}/codes/string/versions/string?api-version={API_VERSION}"
    assert request.headers["User-Agent"] == f"ml/{__version__}"
    assert uuid.UUID(request.headers["x-ms-client-request-id"]).version == 4
    assert "Authorization" not in request.headers  # tokens are the transport's job


def test_put_sends_json_body_and_params(make_client):
    ex = example("Datastore/AzureBlobWAccountKey/createOrUpdate.json")
    ws = example_workspace("Datastore/AzureBlobWAccountKey/createOrUpdate.json")
    script = Script(("PUT", None, example_response("Datastore/AzureBlobWAccountKey/createOrUpdate.json", 201)))
    client = make_client(script, ws)

    result = client.put(ws.datastore("string"), ex["parameters"]["body"], params={"skipValidation": False})

    assert result["name"] == ex["responses"]["201"]["body"]["name"]
    request = script.requests[0]
    assert request.url.params["skipValidation"] == "false"
    assert request.url.params["api-version"] == API_VERSION
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == ex["parameters"]["body"]


def test_each_call_gets_its_own_client_request_id(make_client):
    script = Script(("GET", None, httpx.Response(200, json={})), ("GET", None, httpx.Response(200, json={})))
    client = make_client(script)
    client.get("jobs/a")
    client.get("jobs/b")
    ids = {r.headers["x-ms-client-request-id"] for r in script.requests}
    assert len(ids) == 2


def test_relative_paths_are_below_the_workspace(make_client):
    script = Script(("GET", None, httpx.Response(200, json={"name": "j"})))
    client = make_client(script)
    client.get("jobs/j")
    assert script.requests[0].url.path == client.workspace.job("j")


def test_paging_follows_next_link_with_our_api_version(make_client):
    ws = example_workspace("Compute/list.json")
    first = example("Compute/list.json")["responses"]["200"]["body"]
    second = {"value": [dict(v, name=v["name"] + "-p2") for v in first["value"]]}  # the last page: no nextLink
    assert "api-version=2025-07-01-preview&$skip=2" in first["nextLink"]
    script = Script(("GET", None, httpx.Response(200, json=first)), ("GET", None, httpx.Response(200, json=second)))
    client = make_client(script, ws)

    names = [item["name"] for item in client.list(ws.compute())]

    assert names == ["compute123", "compute1234", "compute123-p2", "compute1234-p2"]
    assert str(script.requests[1].url) == f"{BASE}{ws.arm_id}/computes?$skip=2&api-version={API_VERSION}"
    assert script.done


def test_paging_keeps_first_request_params(make_client):
    ws = example_workspace("Workspace/CodeVersion/list.json")
    params = {k: v for k, v in example("Workspace/CodeVersion/list.json")["parameters"].items() if k.startswith("$")}
    script = Script(("GET", None, httpx.Response(200, json={"value": [{"name": "a"}], "nextLink": None})))
    client = make_client(script, ws)

    assert [i["name"] for i in client.list(ws.version("codes", "string"), params)] == ["a"]
    query = script.requests[0].url.params
    assert query["$orderBy"] == "string" and query["$top"] == "1" and query["$skipToken"] == "string"
    assert query["api-version"] == API_VERSION


def test_max_results_stops_without_fetching_more_pages(make_client):
    first = example("Compute/list.json")["responses"]["200"]["body"]
    script = Script(("GET", None, httpx.Response(200, json=first)))
    client = make_client(script)
    assert len(list(client.list("computes", max_results=1))) == 1
    assert len(list(client.list("computes", max_results=0))) == 0
    assert len(script.requests) == 1


def test_max_results_equal_to_a_page_does_not_fetch_the_next(make_client):
    first = example("Compute/list.json")["responses"]["200"]["body"]
    script = Script(("GET", None, httpx.Response(200, json=first)))
    assert len(list(make_client(script).list("computes", max_results=2))) == 2
    assert script.done


def test_a_repeated_next_link_does_not_loop_forever(make_client):
    page = {"value": [{"name": "x"}], "nextLink": f"{BASE}/loop?$skipToken=1"}
    script = Script(("GET", None, httpx.Response(200, json=page)), ("GET", None, httpx.Response(200, json=page)))
    client = make_client(script)
    assert [i["name"] for i in client.list("jobs")] == ["x", "x"]
    assert script.done


def test_delete_without_lro_returns_none(make_client):
    ws = example_workspace("Workspace/CodeVersion/delete.json")
    script = Script(("DELETE", None, example_response("Workspace/CodeVersion/delete.json", 204)))
    assert make_client(script, ws).delete(ws.version("codes", "string", "string")) is None
    assert script.done


def test_post_returns_the_body(make_client):
    ex = "Workspace/CodeVersion/createOrGetStartPendingUpload.json"
    ws = example_workspace(ex)
    script = Script(("POST", None, example_response(ex, 200)))
    result = make_client(script, ws).post(ws.version("codes", "string", "string") + "/startPendingUpload",
                                          example(ex)["parameters"]["body"])
    assert "blobReferenceForConsumption" in result
    assert script.requests[0].url.path.endswith("/startPendingUpload")
