"""The served app: the local workspaces' REST surface (LocalHome) behind the workspace's own tokens.

One starlette app (cli.local.app.make_app) answers every served host. `GatewayPolicy` decides who may
call: the login host, ARM's cloud metadata and the workspace's discovery document are open (as on
Azure: they are how a client learns where to sign in and where the workspace's services are); SAS-signed blob requests are judged by the blob plane itself; everything else needs a
bearer token this workspace issued (cli.local.serve.identity), else 401. A token accepted on a blob
request is exchanged for the blob plane's own bearer token (identity-based datastore access).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from cli.local import ids
from cli.local.app import Policy, make_app
from cli.local.http import Request, json_response
from cli.local.serve.identity import LOGIN_HOST, Identity

METADATA_PATH = "/metadata/endpoints"
CLOUD_NAME = "MLLocal"
# Anonymous on Azure too: where a client learns the cloud's and the workspace's endpoints.
OPEN_PATHS = {(ids.MANAGEMENT_HOST, METADATA_PATH), (ids.API_HOST, "/discovery")}
HOSTS = (ids.MANAGEMENT_HOST, ids.API_HOST, ids.BLOB_HOST, LOGIN_HOST)
CERT_HOSTS = HOSTS + (f"*.{ids.BLOB_HOST}",)


def served_host(name: str) -> bool:
    """Is `name` one of the hosts this server answers (a blob account's host included)?"""
    name = name.lower().rstrip(".")
    return name in HOSTS or (name.endswith("." + ids.BLOB_HOST) and name.count(".") == ids.BLOB_HOST.count(".") + 1)


def cloud_metadata() -> list[dict]:
    """ARM's /metadata/endpoints (2019-05-01) for the local cloud: what the SDK reads from
    ARM_CLOUD_METADATA_URL to learn its ARM, login and storage endpoints."""
    return [{
        "name": CLOUD_NAME, "portal": "https://portal.ml.invalid", "resourceManager": f"{ids.MANAGEMENT_URL}/",
        "authentication": {"loginEndpoint": f"https://{LOGIN_HOST}", "audiences": [f"{ids.MANAGEMENT_URL}/"],
                           "tenant": "adfs", "identityProvider": "ADFS"},
        "media": "https://media.ml.invalid", "graphAudience": "https://graph.ml.invalid",
        "graph": "https://graph.ml.invalid", "sqlManagement": "https://sql.ml.invalid",
        "gallery": "https://gallery.ml.invalid", "activeDirectoryDataLake": "https://datalake.ml.invalid",
        "batch": "https://batch.ml.invalid", "microsoftGraphResourceId": "https://graph.ml.invalid/",
        "suffixes": {"storage": ids.BLOB_ENDPOINT_SUFFIX, "keyVaultDns": "vault.ml.invalid",
                     "acrLoginServer": "acr.ml.invalid", "sqlServerHostname": "sql.ml.invalid"},
    }]


@dataclass(frozen=True)
class GatewayPolicy(Policy):
    """Served hosts only; this workspace's tokens only (or a SAS the blob plane will judge)."""

    identity: Identity | None = None

    def check(self, request: Request, error) -> None:
        host = request.url.host
        if not served_host(host):
            raise error(400, "InvalidHostHeader", f"This server answers only to the workspace's hosts, not '{host}'.")
        if host == LOGIN_HOST or (host, request.url.path) in OPEN_PATHS:
            return
        if ids.BLOB_HOST in host and "sig" in request.url.params:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not self.identity.verify(token.strip()):
            raise error(401, "InvalidAuthenticationToken",
                        "The access token is missing, invalid or expired: get one from this workspace's login host.",
                        headers={"WWW-Authenticate": f'Bearer authorization_uri="https://{LOGIN_HOST}/adfs"'})


class Gateway:
    """Answers a served request: identity and cloud metadata here, the rest by LocalHome, as in-process."""

    def __init__(self, home, identity: Identity, log=None):
        self.home, self.identity, self.log = home, identity, log
        home.service(home.default)  # opened before requests come from many threads at once

    def app(self):
        return make_app(self.answer, policy=GatewayPolicy(token="", identity=self.identity))

    def answer(self, request: Request) -> httpx.Response:
        response = self._answer(request)
        if self.log is not None:
            self.log(f"{request.method} https://{request.url.host}{request.url.path} {response.status_code}")
        return response

    def _answer(self, request: Request) -> httpx.Response:
        host = request.url.host
        if host == LOGIN_HOST:
            return self.identity.answer(request.method, request.url.path, request.content)
        if host == ids.MANAGEMENT_HOST and request.url.path == METADATA_PATH:
            return json_response(200, cloud_metadata())
        headers = httpx.Headers(request.headers)
        headers.pop("host", None)
        if ids.BLOB_HOST in host and "authorization" in headers:  # our token, exchanged for the blob plane's
            headers["authorization"] = f"Bearer {self.home.access_token('storage')}"
        # Straight to the workspace's handlers: an upload is read as it arrives and a download streams
        # out in chunks.
        return self.home.answer(Request(request.method, request.url, headers, request.stream))
