import httpx
import pytest

from cli.client.lro import POLL_DEFAULT
from cli.client.resources import API_VERSION
from cli.errors import ServiceError
from client_fakes import BASE, Script, example, example_response, example_workspace, wire_record

OP = f"{BASE}/operations/async-compute-cpu2"


def test_put_polls_azure_async_operation_then_gets_the_resource(make_client, sleeps):
    ex = "Compute/createOrUpdate/AmlCompute.json"
    ws = example_workspace(ex)
    initial = example_response(ex, 201)
    op_url = initial.headers["Azure-AsyncOperation"]
    final = example_response("Compute/get/AmlCompute.json", 200)
    script = Script(
        ("PUT", None, initial),
        ("GET", op_url, httpx.Response(200, json={"status": "InProgress"}, headers={"Retry-After": "1"})),
        ("GET", op_url, httpx.Response(200, json={"status": "Succeeded"})),
        ("GET", f"{BASE}{ws.compute('compute123')}?api-version={API_VERSION}", final),
    )
    client = make_client(script, ws)

    result = client.put(ws.compute("compute123"), example(ex)["parameters"]["parameters"])

    assert result == example("Compute/get/AmlCompute.json")["responses"]["200"]["body"]
    assert script.done
    assert sleeps == [POLL_DEFAULT, 1.0]  # the initial response named no Retry-After; the poll did
    # the operation URL is used as given: no api-version of ours added
    assert "api-version" not in script.requests[1].url.params


def test_wait_false_returns_the_initial_body(make_client):
    ex = "Compute/createOrUpdate/AmlCompute.json"
    ws = example_workspace(ex)
    script = Script(("PUT", None, example_response(ex, 201)))
    result = make_client(script, ws).put(ws.compute("compute123"), {}, wait=False)
    assert result == example(ex)["responses"]["201"]["body"]
    assert script.done


def test_failed_operation_raises_with_its_error_code(make_client):
    ws = example_workspace("Compute/createOrUpdate/AmlCompute.json")
    failed = {"status": "Failed", "error": {"code": "QuotaExceeded", "message": "not enough cores"}}
    script = Script(
        ("PUT", None, httpx.Response(201, json={}, headers={"Azure-AsyncOperation": OP, "Retry-After": "0"})),
        ("GET", OP, httpx.Response(200, json=failed)),
    )
    with pytest.raises(ServiceError) as caught:
        make_client(script, ws).put(ws.compute("c"), {})
    assert caught.value.code == "QuotaExceeded"
    assert "(QuotaExceeded) not enough cores" in caught.value.message


def test_delete_polls_location_until_200(make_client, sleeps):
    ws = example_workspace("Workspace/OnlineEndpoint/delete.json")
    # The example's Location is a placeholder; the wire trace shows the real shape and Retry-After 0.
    traced = wire_record("DELETE", "/onlineEndpoints/ep1", 202)
    location = f"{BASE}/operations/loc-oedel-ep1"
    initial = example_response("Workspace/OnlineEndpoint/delete.json", 202, Location=location,
                               **{"Retry-After": traced["resp_headers"]["Retry-After"]})
    script = Script(
        ("DELETE", None, initial),
        ("GET", location, httpx.Response(202, headers={"Location": location, "Retry-After": "0"})),
        ("GET", location, httpx.Response(200)),
    )
    assert make_client(script, ws).delete(ws.online_endpoint("testEndpointName")) is None
    assert script.done
    assert sleeps == [0.0, 0.0]


def test_patch_polls_location_then_gets_the_original_uri(make_client):
    ex = "Workspace/OnlineEndpoint/update.json"
    ws = example_workspace(ex)
    path = ws.online_endpoint("testEndpointName")
    location = f"{BASE}/operations/patch-1"
    script = Script(
        ("PATCH", None, example_response(ex, 202, Location=location)),
        ("GET", location, httpx.Response(204)),
        ("GET", f"{BASE}{path}?api-version={API_VERSION}", example_response(ex, 200)),
    )
    result = make_client(script, ws).patch(path, example(ex)["parameters"]["body"])
    assert result["name"] == example(ex)["responses"]["200"]["body"]["name"]
    assert script.done


def test_post_with_location_returns_the_final_body(make_client):
    ws = example_workspace("Job/cancel.json")
    location = "/operations/loc-cancel-job1"  # a relative Location resolves against the base URL
    script = Script(
        ("POST", None, httpx.Response(202, headers={"Location": location, "Retry-After": "0"})),
        ("GET", f"{BASE}{location}", httpx.Response(202, headers={"Retry-After": "0"})),
        ("GET", f"{BASE}{location}", httpx.Response(200, json={"done": True})),
    )
    assert make_client(script, ws).post(ws.job("job1") + "/cancel") == {"done": True}
    assert script.done


def test_200_with_location_is_already_done(make_client):
    ex = "Job/cancel.json"
    ws = example_workspace(ex)
    script = Script(("POST", None, example_response(ex, 200)))
    assert make_client(script, ws).post(ws.job("my-favorite-aml-job") + "/cancel") is None
    assert script.done


def test_poll_delay_is_capped(make_client, sleeps):
    script = Script(
        ("DELETE", None, httpx.Response(202, headers={"Location": f"{BASE}/op", "Retry-After": "600"})),
        ("GET", f"{BASE}/op", httpx.Response(200)),
    )
    make_client(script).delete("schedules/s")
    assert sleeps == [30.0]
