"""The served workspace's own identity provider: a client id and secret, and the tokens it issues.

Clients use azure-identity unchanged (EnvironmentCredential / ClientSecretCredential with
AZURE_AUTHORITY_HOST=https://login.ml.invalid). The tenant is `adfs`: for that tenant MSAL reads the
authority's own OpenID configuration instead of asking login.microsoftonline.com to vouch for an unknown
authority (which this proxy refuses, and which would need the network). Tokens are JWTs signed
(HS256) with a key kept in $ML_HOME/serve/identity.json (0600); the workspace accepts only tokens that
verify with that key and have not expired, so a token from anywhere else gets a 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from cli.local.http import ApiError, json_response

LOGIN_HOST = "login.ml.invalid"
TENANT = "adfs"
TOKEN_SECONDS = 3600  # what Azure AD gives; clients refresh before expiry
TRACKING_TOKEN_SECONDS = 7 * 24 * 3600  # MLFLOW_TRACKING_TOKEN is printed once and cannot refresh


@dataclass(frozen=True)
class Identity:
    client_id: str
    client_secret: str
    signing_key: bytes

    @classmethod
    def load(cls, folder: Path) -> "Identity":
        """The identity of this ML_HOME's served workspaces, made on first use."""
        path = folder / "identity.json"
        if not path.is_file():
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            data = {"client_id": str(uuid.uuid4()), "client_secret": secrets.token_urlsafe(32),
                    "signing_key": secrets.token_urlsafe(32)}
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(data, out)
        data = json.loads(path.read_text())
        return cls(data["client_id"], data["client_secret"], data["signing_key"].encode())

    # ---- tokens

    def issue(self, audience: str, seconds: int = TOKEN_SECONDS) -> str:
        now = int(time.time())
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {"aud": audience, "iss": f"https://{LOGIN_HOST}/{TENANT}/", "iat": now, "nbf": now,
                  "exp": now + seconds, "appid": self.client_id, "oid": self.client_id, "sub": self.client_id,
                  "tid": TENANT, "idtyp": "app", "ver": "1.0"}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        return f"{signing_input}.{_b64(self._sign(signing_input))}"

    def verify(self, token: str) -> bool:
        """True when `token` was issued here and is still valid."""
        parts = token.split(".")
        if len(parts) != 3:
            return False
        try:
            signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
            if not hmac.compare_digest(signature, self._sign(f"{parts[0]}.{parts[1]}")):
                return False
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except (ValueError, UnicodeDecodeError):
            return False
        return isinstance(claims, dict) and isinstance(claims.get("exp"), int) and claims["exp"] > time.time()

    def _sign(self, signing_input: str) -> bytes:
        return hmac.new(self.signing_key, signing_input.encode(), hashlib.sha256).digest()

    # ---- the login host

    def answer(self, method: str, path: str, form: bytes):
        """The OpenID configuration and the token endpoint, as Azure AD (ADFS flavour) answers them."""
        base = f"https://{LOGIN_HOST}/{TENANT}"
        lowered = path.rstrip("/").lower()
        if method == "GET" and lowered == f"/{TENANT}/.well-known/openid-configuration":
            return json_response(200, {
                "issuer": f"{base}/", "authorization_endpoint": f"{base}/oauth2/authorize",
                "token_endpoint": f"{base}/oauth2/token", "jwks_uri": f"{base}/discovery/keys",
                "response_types_supported": ["code", "token"], "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"]})
        if method == "POST" and lowered == f"/{TENANT}/oauth2/token":
            return self._token(dict(parse_qsl(form.decode("utf-8", "replace"))))
        raise ApiError(404, "NotFound", f"No identity endpoint at '{path}'.")

    def _token(self, form: dict):
        if form.get("grant_type") != "client_credentials":
            return _oauth_error("unsupported_grant_type", "Only the client_credentials grant is supported.")
        secret_ok = hmac.compare_digest(form.get("client_secret", "").encode(), self.client_secret.encode())
        if form.get("client_id") != self.client_id or not secret_ok:
            return _oauth_error("invalid_client", "The client id or secret is not this workspace's.", 401)
        scope = form.get("scope", "").split()[0] if form.get("scope") else ""
        audience = scope[: -len("/.default")] if scope.endswith("/.default") else scope
        return json_response(200, {"token_type": "Bearer", "expires_in": TOKEN_SECONDS, "ext_expires_in": TOKEN_SECONDS,
                                   "access_token": self.issue(audience or "https://management.ml.invalid")})


def _oauth_error(code: str, description: str, status: int = 400):
    return json_response(status, {"error": code, "error_description": description,
                                  "error_codes": [], "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())})


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
