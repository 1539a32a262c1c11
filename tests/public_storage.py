"""A loopback stand-in for public Azure blob storage: anonymous GET of blobs (ETag, Last-Modified,
If-None-Match -> 304) and List Blobs (`?restype=container&comp=list&prefix=`), counting what it serves.

Jobs reach it through ML_PUBLIC_DATA_HOSTS (see cli/local/runner/public_data.py), which maps a public
host name such as `examples.blob.core.windows.net` to this server's base URL.
"""

from __future__ import annotations

import hashlib
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

ACCOUNT_HOST = "examples.blob.core.windows.net"


class PublicStorage:
    """Blobs by `<container>/<name>`; `requests` records (method, path with query) of each request."""

    def __init__(self):
        self.blobs: dict[str, tuple[bytes, str, str]] = {}
        self.requests: list[tuple[str, str]] = []
        self._version = 0
        storage = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: tests read `requests` instead
                pass

            def do_GET(self):
                storage.requests.append(("GET", self.path))
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                path = unquote(url.path).lstrip("/")
                if query.get("comp") == ["list"] and query.get("restype") == ["container"]:
                    return self._list(path, (query.get("prefix") or [""])[0])
                blob = storage.blobs.get(path)
                if blob is None:
                    return self._answer(404, b"BlobNotFound", {})
                content, etag, modified = blob
                if self.headers.get("If-None-Match") == etag:
                    return self._answer(304, b"", {"ETag": etag})
                self._answer(200, content, {"ETag": etag, "Last-Modified": modified,
                                            "Content-Type": "application/octet-stream"})

            def _list(self, container: str, prefix: str):
                names = sorted(n for n in storage.blobs if n.startswith(f"{container}/{prefix}"))
                items = "".join(
                    f"<Blob><Name>{escape(n.split('/', 1)[1])}</Name><Properties>"
                    f"<Last-Modified>{storage.blobs[n][2]}</Last-Modified><Etag>{storage.blobs[n][1]}</Etag>"
                    f"<Content-Length>{len(storage.blobs[n][0])}</Content-Length></Properties></Blob>"
                    for n in names)
                body = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="{container}">'
                        f"<Prefix>{escape(prefix)}</Prefix><Blobs>{items}</Blobs><NextMarker /></EnumerationResults>")
                self._answer(200, body.encode(), {"Content-Type": "application/xml"})

            def _answer(self, status: int, body: bytes, headers: dict):
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def hosts_variable(self) -> str:
        """The ML_PUBLIC_DATA_HOSTS value routing the stand-in account host here."""
        return f"{ACCOUNT_HOST}={self.base_url}"

    def put(self, name: str, content: bytes) -> None:
        """Store (or change) blob `<container>/<name>`: a new ETag and Last-Modified each time."""
        self._version += 1
        etag = '"0x' + hashlib.sha256(content + str(self._version).encode()).hexdigest()[:16].upper() + '"'
        self.blobs[name] = (content, etag, formatdate(usegmt=True))

    def gets(self, fragment: str) -> int:
        """How many GETs asked for a path containing `fragment`."""
        return sum(1 for method, path in self.requests if method == "GET" and fragment in path)

    def __enter__(self) -> "PublicStorage":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
