"""`ml local serve`: the proxy, TLS, the CA, the workspace's own tokens, refusals, Ctrl-C (real processes)."""

from __future__ import annotations

import ssl
import stat

import httpx
import pytest

from served import start

ARM = "https://management.ml.invalid"
WS_PATH = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
           "Microsoft.MachineLearningServices/workspaces/w1")


@pytest.fixture
def served(tmp_path):
    server = start("w1", tmp_path, "--verbose")
    yield server
    server.stop()


def _client(served, secret=None) -> httpx.Client:
    proxy = served.env["HTTPS_PROXY"]
    if secret is not None:
        proxy = proxy.replace(proxy.split("@")[0].split(":")[-1], secret)
    verify = ssl.create_default_context(cafile=served.env["SSL_CERT_FILE"])
    return httpx.Client(proxy=proxy, verify=verify, trust_env=False, timeout=30)


def _token(served) -> str:
    from azure.identity import ClientSecretCredential

    env = served.env
    credential = ClientSecretCredential(env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"],
                                        authority=env["AZURE_AUTHORITY_HOST"], proxies={"https": env["HTTPS_PROXY"]},
                                        connection_verify=env["REQUESTS_CA_BUNDLE"])
    return credential.get_token("https://management.ml.invalid/.default").token


def test_the_ca_is_made_once_per_home_and_its_key_is_private(served, isolated_home, tmp_path):
    folder = isolated_home / "serve"
    assert stat.S_IMODE((folder / "ca-key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    ca_before = (folder / "ca.pem").read_bytes()
    served.stop()
    again = start("w1", tmp_path)
    try:
        assert (folder / "ca.pem").read_bytes() == ca_before
        with _client(again) as client:  # the certificate is still trusted through the same CA file
            assert client.get(f"{ARM}/metadata/endpoints?api-version=2019-05-01").status_code == 200
    finally:
        again.stop()


def test_a_token_from_the_workspace_opens_arm_and_others_get_401(served):
    url = f"{ARM}{WS_PATH}?api-version=2025-12-01"
    with _client(served) as client:
        assert client.get(url).status_code == 401
        forged = client.get(url, headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln"})
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "InvalidAuthenticationToken"
        answer = client.get(url, headers={"Authorization": f"Bearer {_token(served)}"})
    assert answer.status_code == 200
    assert answer.json()["name"] == "w1"


def test_a_wrong_client_secret_gets_no_token(served):
    from azure.core.exceptions import ClientAuthenticationError

    served.env["AZURE_CLIENT_SECRET"] = "not-the-secret"
    with pytest.raises(ClientAuthenticationError, match="not this workspace"):
        _token(served)


def test_other_hosts_and_a_wrong_proxy_secret_are_refused(served):
    with _client(served) as client, pytest.raises(httpx.ProxyError, match="403"):
        client.get("https://management.azure.com/")
    with _client(served, secret="wrong") as client, pytest.raises(httpx.ProxyError, match="407"):
        client.get(f"{ARM}/metadata/endpoints")
    plain = httpx.get(f"http://127.0.0.1:{served.port}/", timeout=10)
    assert plain.status_code == 405


def test_cloud_metadata_and_discovery_are_open_as_on_azure(served):
    with _client(served) as client:
        clouds = client.get(f"{ARM}/metadata/endpoints?api-version=2019-05-01").json()
        discovery = client.get("https://api.ml.invalid/discovery").json()
    assert clouds[0]["resourceManager"] == f"{ARM}/" and clouds[0]["suffixes"]["storage"] == "ml.invalid"
    assert discovery["history"] == "https://api.ml.invalid"


def test_concurrent_clients_and_one_log_line_per_request(served):
    from concurrent.futures import ThreadPoolExecutor

    token = _token(served)

    def get(_):
        with _client(served) as client:
            return client.get(f"{ARM}{WS_PATH}/computes?api-version=2025-12-01",
                              headers={"Authorization": f"Bearer {token}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(get, range(16))) == [200] * 16
    assert served.stop() == 0
    lines = [line for line in served.log().splitlines() if "/computes " in line]
    assert len(lines) == 16 and lines[0].startswith("GET https://management.ml.invalid/subscriptions/")


def test_ctrl_c_stops_cleanly_and_frees_the_port(served):
    port = served.port
    assert served.stop() == 0
    assert "Traceback" not in served.log()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)


def test_print_env_names_everything_a_client_needs(served):
    env = served.env
    assert env["HTTPS_PROXY"].startswith("http://ml:") and env["HTTPS_PROXY"].endswith(f"@127.0.0.1:{served.port}")
    assert env["ARM_CLOUD_METADATA_URL"] == f"{ARM}/metadata/endpoints?api-version=2019-05-01"
    assert env["AZURE_AUTHORITY_HOST"] == "https://login.ml.invalid" and env["AZURE_TENANT_ID"] == "adfs"
    assert env["MLFLOW_TRACKING_URI"] == f"https://api.ml.invalid/mlflow/v1.0{WS_PATH}"
    assert env["ML_TARGET"] == "azure" and env["ML_WORKSPACE"] == "w1"
