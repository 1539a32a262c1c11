import pytest

from cli.redact import redact
from cli.client.resources import API_VERSION, WorkspaceId, parse_arm_id
from cli.errors import UsageError

WS = WorkspaceId("00000000-1111-2222-3333-444444444444", "test-rg", "my-aml-workspace")
ARM = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/test-rg/providers/Microsoft.MachineLearningServices/workspaces/my-aml-workspace"


def test_paths():
    assert API_VERSION == "2025-12-01"
    assert WS.arm_id == ARM
    assert WS.container("models") == f"{ARM}/models"
    assert WS.container("data", "d") == f"{ARM}/data/d"
    assert WS.version("environments", "e") == f"{ARM}/environments/e/versions"
    assert WS.version("components", "c", "1") == f"{ARM}/components/c/versions/1"
    assert WS.job() == f"{ARM}/jobs" and WS.job("j") == f"{ARM}/jobs/j"
    assert WS.compute("cpu") == f"{ARM}/computes/cpu"
    assert WS.datastore("workspaceblobstore") == f"{ARM}/datastores/workspaceblobstore"
    assert WS.schedule("s") == f"{ARM}/schedules/s"
    assert WS.online_deployment("ept") == f"{ARM}/onlineEndpoints/ept/deployments"
    assert WS.online_deployment("ept", "blue") == f"{ARM}/onlineEndpoints/ept/deployments/blue"
    assert WS.batch_endpoint("bat") == f"{ARM}/batchEndpoints/bat"
    assert WS.batch_deployment("bat", "dep") == f"{ARM}/batchEndpoints/bat/deployments/dep"
    assert WS.child("connections", "a b") == f"{ARM}/connections/a%20b"
    with pytest.raises(ValueError):
        WS.container("jobs")


@pytest.mark.parametrize("call", [
    lambda: WS.job("a/b"), lambda: WS.job(".."), lambda: WS.job("..%2F..%2Ftmp"), lambda: WS.job("a\x00b"),
    lambda: WS.container("models", "../x"), lambda: WS.version("models", "m", ".."),
    lambda: WS.version("models", "m", "%2e%2e"), lambda: WS.datastore("a\\b"), lambda: WS.compute("/etc"),
    lambda: WS.online_endpoint("e"), lambda: WS.job("j" * 256), lambda: WS.child("connections", ".."),
])
def test_names_are_checked_before_any_request(call):
    with pytest.raises(UsageError):
        call()


def test_parse_arm_id_round_trips_example_ids():
    parsed = parse_arm_id(WS.version("codes", "c", "2"))
    assert parsed.workspace == WS and parsed.children == (("codes", "c"), ("versions", "2"))
    assert (parsed.type, parsed.name) == ("versions", "2")
    assert parse_arm_id(parsed.path) == parsed
    lower = parse_arm_id(ARM.replace("resourceGroups", "resourcegroups") + "/jobs/j")
    assert lower.workspace == WS and lower.name == "j"
    assert parse_arm_id(ARM).children == ()
    with pytest.raises(UsageError):
        parse_arm_id(ARM + "/jobs")
    with pytest.raises(UsageError):
        parse_arm_id("azureml:foo:1")


def test_redact():
    url = "https://a.blob.core.windows.net/c/x.txt?comp=metadata&sv=2025-01-05&sr=c&sig=a%2Bb%3D&se=2026-01-01"
    assert redact(url) == ("https://a.blob.core.windows.net/c/x.txt?comp=metadata&sv=REDACTED&sr=REDACTED"
                           "&sig=REDACTED&se=REDACTED")
    assert redact("Authorization: Bearer abc.def-ghi") == "Authorization: Bearer REDACTED"
    assert redact("token eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl end") == "token REDACTED end"
    assert redact('{"primaryKey": "k1", "name": "first=1"}') == '{"primaryKey": "REDACTED", "name": "first=1"}'
    assert redact("sv=2020-02-10&ss=b&sig=xyz") == "sv=REDACTED&ss=REDACTED&sig=REDACTED"
    assert redact("nothing secret here: list=1") == "nothing secret here: list=1"
