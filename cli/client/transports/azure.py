"""AzureTransport: HTTPS with an azure-identity bearer token on management-plane requests."""

from __future__ import annotations

import threading
import time
from typing import Dict, Iterable, Optional, Tuple

import httpx

from cli.errors import AuthenticationError

MANAGEMENT_SCOPE = "https://management.azure.com/.default"
REFRESH_MARGIN = 300  # seconds before expiry at which a cached token is replaced
_LOGIN_HINT = ("sign in with `az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET; "
               "without --subscription/--resource-group, ml uses the local workspace")


class AzureTransport(httpx.HTTPTransport):
    """Adds `Authorization: Bearer` to requests for `hosts`; SAS-signed URLs never get it."""

    def __init__(self, credential=None, *, scope: str = MANAGEMENT_SCOPE,
                 hosts: Iterable[str] = ("management.azure.com",), **transport_options):
        super().__init__(**transport_options)
        self._credential = credential
        self.scope = scope
        self.hosts = frozenset(h.lower() for h in hosts)
        self._tokens: Dict[str, Tuple[str, float]] = {}  # scope -> (token, expires_on)
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.wants_token(request.url):
            request.headers["Authorization"] = f"Bearer {self.token()}"
        response = super().handle_request(request)
        from cli.client.wire_log import wire_log_path

        log_path = wire_log_path()
        if log_path:  # ML_WIRE_LOG: secrets masked (cli.redact); downloads stay streamed
            from cli.client.wire_log import record

            if "json" in response.headers.get("content-type", ""):
                response.read()
            record(log_path, request, response, "Azure")
        return response

    def trust(self, host: str) -> None:
        """Send the token to `host` too: run history and MLflow take the management token."""
        if host:
            self.hosts = self.hosts | {host.lower()}

    def wants_token(self, url: httpx.URL) -> bool:
        return url.host.lower() in self.hosts and "sig" not in url.params

    def token(self, scope: Optional[str] = None) -> str:
        """A token for `scope` (default: management), cached until REFRESH_MARGIN seconds before it expires.

        Other scopes (storage, for identity-based datastores) come from the same credential."""
        scope = scope or self.scope
        with self._lock:  # upload threads ask at once; one of them fetches
            token, expires_on = self._tokens.get(scope, (None, 0.0))
            if token is None or time.time() >= expires_on - REFRESH_MARGIN:
                access = self._get_token(scope)
                token, expires_on = access.token, float(access.expires_on)
                self._tokens[scope] = (token, expires_on)
            return token

    def _get_token(self, scope: str):
        try:
            if self._credential is None:
                from azure.identity import DefaultAzureCredential  # slow import: only when Azure is used

                self._credential = DefaultAzureCredential()
            return self._credential.get_token(scope)
        except ImportError:
            raise AuthenticationError("azure-identity is not installed", hint="pip install azure-identity") from None
        except Exception as exc:
            from azure.core.exceptions import ClientAuthenticationError

            if not isinstance(exc, ClientAuthenticationError):
                raise
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise AuthenticationError(f"could not get an Azure access token: {first_line}", hint=_LOGIN_HINT) from None
