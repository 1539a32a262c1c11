"""The one workspace client: ARM resource calls on httpx, with retries, paging and LROs.

Every httpx exception and every error response is translated here, and only here, into
cli.errors. URLs in messages and debug logs pass through `redact`.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Callable, Dict, Iterator, Mapping, Optional
from urllib.parse import quote, urlsplit, urlunsplit

from cli import __version__
from cli.client import lro
from cli.client.arm_errors import error_from_response
from cli.redact import redact
from cli.client.resources import API_VERSION, WorkspaceId
from cli.client.retry import IDEMPOTENT_METHODS, MAX_RETRIES, delay_for, should_retry_status
from cli.errors import AuthenticationError, ConflictError, ResourceNotFoundError, ServiceError, UsageError

__all__ = ["WorkspaceClient", "redact"]

log = logging.getLogger("ml.client")
Params = Optional[Mapping[str, Any]]
BLOB_CHUNK = 1 << 20  # bytes of a streamed download handed on at a time


class _RedactingFilter(logging.Filter):
    """httpx logs each request's full URL at INFO (shown with --debug): mask SAS signatures in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _mask_library_logs() -> None:
    library = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactingFilter) for f in library.filters):
        library.addFilter(_RedactingFilter())


def with_query(url: str, params: Params = None, api_version: Optional[str] = None) -> str:
    """`url` with `params` added and api-version replaced, other query text left byte for byte."""
    parts = urlsplit(url)
    replaced = set(params or ()) | ({"api-version"} if api_version else set())
    pairs = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] not in replaced]
    for key, value in (params or {}).items():
        if value is None:
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        pairs.append(f"{quote(key, safe='$')}={quote(text, safe='$:,')}")
    if api_version:
        pairs.append(f"api-version={api_version}")
    return urlunsplit(parts._replace(query="&".join(pairs)))


class WorkspaceClient:
    """REST calls on one workspace; paths are ARM ids, `/`-rooted paths, or absolute URLs."""

    def __init__(self, base_url: str, workspace: WorkspaceId, transport, credential=None, *,
                 api_version: str = API_VERSION, sleep: Callable[[float], None] = time.sleep,
                 max_retries: int = MAX_RETRIES, timeout: float = 60.0, poll_fast: bool = False,
                 progress: bool = True):
        import httpx

        _mask_library_logs()
        self.base_url = base_url.rstrip("/")
        self.workspace = workspace
        # An in-process service: a job may end within milliseconds of its start, so followers poll often.
        self.poll_fast = poll_fast
        self.progress = progress  # uploads may draw a progress bar on stderr (when it is a terminal)
        self._hosts: Dict[str, str] = {}  # discovery key -> data-plane base URL
        # The management-plane token is the transport's business; this one serves other
        # audiences (endpoint invocation with AAD tokens).
        self.credential = credential
        self.api_version = api_version
        self.max_retries = max_retries
        self._sleep = sleep
        self.transport = transport
        self._http = httpx.Client(
            transport=transport, base_url=self.base_url, follow_redirects=False,
            timeout=httpx.Timeout(timeout, connect=10.0),
            headers={"User-Agent": f"ml/{__version__}", "Accept": "application/json"},
        )

    # Resource calls
    def get(self, path: str, *, params: Params = None, api_version: Optional[str] = None) -> Optional[dict]:
        """GET `path` as JSON; `api_version` replaces the client's (run history takes v1.0, "" none)."""
        return self._json(self._send("GET", self.url(path, params, api_version)))

    def create_only(self, path: str, body: Any) -> Optional[dict]:
        """PUT `body` only where nothing exists yet (If-None-Match: *): the created resource (201),
        or None when the resource already existed, whatever its content (200, 409 or 412)."""
        try:
            response = self._send("PUT", self.url(path), json=body, headers={"If-None-Match": "*"})
        except ConflictError:
            return None
        except ServiceError as exc:
            if exc.status == 412:  # a service honouring If-None-Match
                return None
            raise
        return self._json(response) if response.status_code == 201 else None

    def put(self, path: str, body: Any, *, wait: bool = True, params: Params = None) -> Optional[dict]:
        return self._write("PUT", path, body, wait, params)

    def patch(self, path: str, body: Any, *, wait: bool = True, params: Params = None) -> Optional[dict]:
        return self._write("PATCH", path, body, wait, params)

    def post(self, path: str, body: Any = None, *, wait: bool = True, params: Params = None) -> Optional[dict]:
        return self._write("POST", path, body, wait, params)

    def post_with_token(self, url: str, body: Any, *, scope: str, headers: Optional[Mapping[str, str]] = None) -> Optional[dict]:
        """POST JSON to a data-plane URL as is (no api-version), with a bearer token for `scope`:
        a batch endpoint's scoring URI takes an AAD token for Azure ML (https://ml.azure.com)."""
        auth = {"Authorization": f"Bearer {self.access_token(scope)}"}
        return self._json(self._send("POST", url, json=body, headers={**(headers or {}), **auth}))

    def delete(self, path: str, *, wait: bool = True, params: Params = None) -> None:
        self._write("DELETE", path, None, wait, params)

    def list(self, path: str, params: Params = None, max_results: Optional[int] = None) -> Iterator[dict]:
        """Yield the items of every page, following nextLink with our api-version."""
        url, seen, count = self.url(path, params), set(), 0
        while url and max_results != 0:
            page = self._json(self._send("GET", url)) or {}
            for item in page.get("value") or ():
                yield item
                count += 1
                if max_results is not None and count >= max_results:
                    return
            next_link = page.get("nextLink")
            if not next_link or next_link in seen:  # a service repeating its nextLink would loop forever
                return
            seen.add(next_link)
            url = with_query(next_link, api_version=self.api_version)

    # Blob calls: no api-version and no management token; `auth` (an httpx.Auth) signs each request
    # when the URL carries no SAS.
    def put_blob(self, url: str, data: bytes, headers: Optional[Mapping[str, str]] = None, *,
                 auth=None) -> Dict[str, str]:
        response = self._send("PUT", url, content=data, headers=dict(headers or {}), auth=auth)
        return dict(response.headers)

    def head_blob(self, url: str, *, auth=None) -> Optional[Dict[str, str]]:
        """The blob's headers, lower-case (metadata as x-ms-meta-*), or None when it does not exist."""
        try:
            return dict(self._send("HEAD", url, auth=auth).headers)
        except ResourceNotFoundError:
            return None

    def save_blob(self, url: str, save: Callable[[Iterator[bytes]], None], *, auth=None) -> None:
        """GET a blob and hand its body to `save` as it arrives, in chunks (a large file never sits in
        memory whole); the response is closed when `save` returns."""
        import httpx

        response = self._send("GET", url, auth=auth, stream=True)
        try:
            save(response.iter_bytes(BLOB_CHUNK))
        except httpx.TransportError as exc:  # the connection broke mid-body: nothing was kept (save's part)
            raise _translate(exc, url) from None
        finally:
            response.close()

    def get_blob(self, url: str, headers: Optional[Mapping[str, str]] = None, *, auth=None) -> bytes:
        response = self._send("GET", url, headers=dict(headers or {}), auth=auth)
        # httpx links a response and its stream both ways: only a full gc would free that cycle and
        # its body, so a loop of large reads (a log streamed by ranges) would pile bodies up.
        response.stream = None
        return response.content

    # Scoring: an endpoint's scoring URI is a real address on every target (Azure's inference host, or
    # the local endpoint's router on 127.0.0.1), reached directly, with the endpoint's own credential.
    def score(self, url: str, content: bytes, headers: Mapping[str, str], *, timeout: float = 90.0) -> str:
        """POST `content` to a scoring URI; the answer's text, or the service's error as ServiceError."""
        import httpx

        try:
            response = httpx.post(url, content=content, headers=dict(headers), timeout=timeout)
        except httpx.TransportError as exc:
            raise _translate(exc, url) from None
        if response.status_code >= 400:
            raise ServiceError(redact(f"{url} answered HTTP {response.status_code}: {response.text[:500]}"),
                               status=response.status_code)
        return response.text

    # Data-plane hosts (run history, MLflow) named by the workspace's discovery document
    def service_url(self, key: str = "history") -> str:
        """The base URL of the workspace's `key` service (REST GUIDE section 9), e.g. run history's.

        The discovery document is fetched once per client; the management token is then also sent
        to that host, which takes it (GUIDE section 11)."""
        if not self._hosts:
            self._discover()
        host = self._hosts.get(key) or (self._hosts.get("api") if key == "history" else None)
        if not host:
            raise ServiceError(f"the workspace's discovery document names no '{key}' host")
        self.trust(host)
        return host

    def _discover(self) -> None:
        workspace = self.get(self.workspace.arm_id) or {}
        discovery_url = (workspace.get("properties") or {}).get("discoveryUrl")
        if not discovery_url:
            raise ServiceError("the workspace names no discoveryUrl; its run history cannot be reached")
        # Called without the management token: the transport sends it only to hosts it trusts.
        discovery = self.get(discovery_url, api_version="") or {}
        self._hosts.update({name: value.rstrip("/") for name, value in discovery.items()
                            if isinstance(value, str) and value.startswith("https://")})

    def trust(self, url: str) -> None:
        """Send the management token to `url`'s host too (the transport decides what that means)."""
        trust = getattr(self.transport, "trust", None)
        if trust is not None:
            trust(urlsplit(url).hostname or "")

    def access_token(self, scope: str) -> str:
        """An AAD token for `scope` from the transport's credential (identity-based datastores)."""
        token = getattr(self.transport, "token", None)
        if token is None:
            raise AuthenticationError(f"this workspace connection has no Azure credential to get a token for {scope}")
        return token(scope)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "WorkspaceClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # Internals shared with lro
    def url(self, path: str, params: Params = None, api_version: Optional[str] = None) -> str:
        """The full management URL of `path` (an ARM id, `/`-rooted path, relative-to-workspace path or URL);
        `api_version` replaces the client's, and "" leaves the URL's own (or none)."""
        if path.startswith(("http://", "https://")):
            full = path
        elif path.startswith("/"):
            full = self.base_url + path
        else:
            full = f"{self.base_url}{self.workspace.arm_id}/{path}"
        return with_query(full, params, self.api_version if api_version is None else api_version)

    def _write(self, method: str, path: str, body: Any, wait: bool, params: Params) -> Optional[dict]:
        url = self.url(path, params)
        response = self._send(method, url, json=body)
        if wait and lro.is_long_running(response):
            return lro.wait(self, method, url, response)
        return self._json(response)

    def _send(self, method: str, url: str, *, json: Any = None, content: Optional[bytes] = None,
              headers: Optional[Dict[str, str]] = None, auth=None, stream: bool = False):
        """One call with its retries; `stream`: a successful response's body is left to the caller to
        read (and close)."""
        import httpx

        client_request_id = str(uuid.uuid4())  # one id for the call and all its retries
        headers = {**(headers or {}), "x-ms-client-request-id": client_request_id}
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                request = self._http.build_request(method, url, json=json, content=content, headers=headers)
                response = self._http.send(request, stream=stream, **({"auth": auth} if auth is not None else {}))
            except httpx.TransportError as exc:
                if attempt < self.max_retries and _may_retry_error(method, exc):
                    delay = delay_for(attempt)
                    log.debug("%s %s: %s; retrying in %.1fs", method, redact(url), type(exc).__name__, delay)
                    self._sleep(delay)
                    attempt += 1
                    continue
                raise _translate(exc, url) from None
            except httpx.InvalidURL as exc:
                raise UsageError(redact(f"invalid URL {url}: {exc}")) from None
            log.debug("%s %s -> %s (%.2fs)", method, redact(url), response.status_code, time.monotonic() - started)
            status = response.status_code
            if stream and (status >= 400 or should_retry_status(method, status, response.headers)):
                response.read()  # an error's body, read whole (it is small), and the connection freed
                response.close()
            if attempt < self.max_retries and should_retry_status(method, status, response.headers):
                delay = delay_for(attempt, response.headers)
                log.debug("HTTP %s; retrying in %.1fs", status, delay)
                self._sleep(delay)
                attempt += 1
                continue
            if status >= 400:
                raise error_from_response(response, client_request_id)
            return response

    @staticmethod
    def _json(response) -> Optional[Any]:
        if not response.content or response.status_code == 204:
            return None
        try:
            return response.json()
        except ValueError:
            raise ServiceError(
                redact(f"{response.request.url} answered HTTP {response.status_code} with a body that is not JSON"),
                status=response.status_code, request_id=response.headers.get("x-ms-request-id"),
            ) from None


def _may_retry_error(method: str, exc) -> bool:
    import httpx

    # A request that never connected can be sent again whatever its method.
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return True
    if isinstance(exc, httpx.UnsupportedProtocol):
        return False
    return method in IDEMPOTENT_METHODS


def _translate(exc, url: str):
    import httpx

    host = urlsplit(url).netloc or url
    if isinstance(exc, httpx.UnsupportedProtocol):
        return UsageError(redact(f"unsupported URL {url}"))
    if isinstance(exc, httpx.TimeoutException):
        return ServiceError(redact(f"{host} did not answer in time ({type(exc).__name__})"))
    return ServiceError(redact(f"could not reach {host}: {exc or type(exc).__name__}"),
                        hint="check the network connection and the workspace URL")
