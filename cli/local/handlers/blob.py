"""The blob plane (https://blob.ml.invalid/<workspace>/<container>/<path>), answering as Azure Storage does."""

from __future__ import annotations

import functools
from email.utils import formatdate
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import httpx

from cli.local import ids
from cli.local.blobs import SAS_VERSION, BlobError
from cli.local.http import Call

STORAGE_HEADERS = {"x-ms-version": SAS_VERSION, "Server": "Windows-Azure-Blob/1.0"}


def storage(handler):
    """Resolve account/container, authorize, and turn BlobError into Azure Storage's XML errors."""

    @functools.wraps(handler)
    def wrapper(call: Call) -> httpx.Response:
        try:
            if call.params["account"].lower() != call.service.workspace.lower():
                raise BlobError(404, "ResourceNotFound", "The specified resource does not exist.")
            blobs = call.service.blobs
            datastore = blobs.datastore_for_container(call.params["container"])
            blob = call.params.get("path", call.query.get("prefix", ""))
            permission = wrapper.permission(call) if callable(wrapper.permission) else wrapper.permission
            blobs.authorize(call.params["container"], blob, call.query, call.request.headers, permission)
            response = handler(call, blobs, datastore, blob)
        except BlobError as error:
            response = error.response(call.request.method)
        response.headers.update(STORAGE_HEADERS)
        return response

    return wrapper


def _metadata(headers: httpx.Headers) -> dict[str, str]:
    return {k[len("x-ms-meta-"):]: v for k, v in headers.items() if k.lower().startswith("x-ms-meta-")}


def _property_headers(props: dict) -> dict[str, str]:
    headers = {"Content-Length": str(props["size"]), "ETag": props["etag"],
               "Last-Modified": formatdate(props["mtime"], usegmt=True), "x-ms-blob-type": "BlockBlob",
               "Content-Type": "application/octet-stream"}
    if props["md5"]:
        headers["Content-MD5"] = props["md5"]
    headers.update({f"x-ms-meta-{k}": v for k, v in props["metadata"].items()})
    return headers


def _written(blobs, datastore: str, blob: str, status: int = 201, md5: str | None = None) -> httpx.Response:
    props = blobs.properties(datastore, blob)
    headers = {"ETag": props["etag"], "Last-Modified": formatdate(props["mtime"], usegmt=True),
               "x-ms-request-server-encrypted": "true"}
    if md5:
        headers["Content-MD5"] = md5
    return httpx.Response(status, headers=headers)


def _body_chunks(request: httpx.Request):
    """The request body, streamed when it has not been read yet (large uploads)."""
    if hasattr(request, "_content"):
        yield request.content
    else:
        yield from request.stream


def _put_permission(call: Call) -> str:
    return "w" if call.query.get("comp") in ("metadata", "blocklist", "block") else "c"


@storage
def put(call: Call, blobs, datastore: str, blob: str) -> httpx.Response:
    comp, headers = call.query.get("comp"), call.request.headers
    if comp == "block":
        block_id = call.query.get("blockid")
        if not block_id:
            raise BlobError(400, "InvalidQueryParameterValue", "Value for one of the query parameters"
                            " specified in the request URI is invalid: blockid.")
        blobs.put_block(datastore, blob, block_id, b"".join(_body_chunks(call.request)))
        return httpx.Response(201, headers={"x-ms-request-server-encrypted": "true"})
    if comp == "blocklist":
        try:
            root = ElementTree.fromstring(call.request.content)
        except ElementTree.ParseError as exc:
            raise BlobError(400, "InvalidXmlDocument", f"XML specified is not syntactically valid: {exc}.")
        ids_ = [el.text or "" for el in root if el.tag in ("Latest", "Uncommitted", "Committed")]
        md5 = blobs.put_block_list(datastore, blob, ids_, _metadata(headers))
        return _written(blobs, datastore, blob, md5=md5)
    if comp == "metadata":
        blobs.set_metadata(datastore, blob, _metadata(headers))
        return _written(blobs, datastore, blob, status=200)
    if comp is not None:
        raise BlobError(400, "UnsupportedQueryParameter", f"comp={comp} is not supported here.")
    if headers.get("x-ms-blob-type", "").lower() != "blockblob":
        raise BlobError(400, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is"
                        " not specified: x-ms-blob-type (only BlockBlob is supported).")
    md5 = blobs.put_blob(datastore, blob, _body_chunks(call.request), _metadata(headers),
                         headers.get("content-md5"))
    return _written(blobs, datastore, blob, md5=md5)


put.permission = _put_permission


def _existing(blobs, datastore: str, blob: str) -> dict:
    props = blobs.properties(datastore, blob)
    if props is None:
        raise BlobError(404, "BlobNotFound", "The specified blob does not exist.")
    return props


@storage
def head(call: Call, blobs, datastore: str, blob: str) -> httpx.Response:
    props = _existing(blobs, datastore, blob)
    return httpx.Response(200, headers=_property_headers(props))


head.permission = "r"


@storage
def get(call: Call, blobs, datastore: str, blob: str) -> httpx.Response:
    props = _existing(blobs, datastore, blob)
    size, headers = props["size"], _property_headers(props)
    ranged = call.request.headers.get("x-ms-range") or call.request.headers.get("range")
    if ranged and ranged.startswith("bytes="):
        start_text, _, end_text = ranged[len("bytes="):].partition("-")
        try:
            start = int(start_text or 0)
            end = min(int(end_text) if end_text else size - 1, size - 1)
        except ValueError:
            raise BlobError(400, "InvalidHeaderValue", f"The value for the range header is invalid: {ranged}") from None
        if start >= size and size:
            raise BlobError(416, "InvalidRange", "The range specified is invalid for the current size"
                            " of the resource.")
        length = max(end - start + 1, 0)
        headers.update({"Content-Range": f"bytes {start}-{start + length - 1}/{size}", "Content-Length": str(length)})
        headers.pop("Content-MD5", None)
        return httpx.Response(206, stream=_FileRange(blobs.path(datastore, blob), start, length), headers=headers)
    return httpx.Response(200, stream=_FileRange(blobs.path(datastore, blob), 0, size), headers=headers)


class _FileRange(httpx.SyncByteStream):
    """`length` bytes of a file from `start`, read a chunk at a time as they are sent: a download of any size
    holds one chunk in memory. The file is opened here, so a vanished blob fails before the answer starts."""

    CHUNK = 1 << 20

    def __init__(self, path, start: int, length: int):
        self.handle, self.left = open(path, "rb"), length
        self.handle.seek(start)

    def __iter__(self):
        try:
            while self.left > 0:
                chunk = self.handle.read(min(self.CHUNK, self.left))
                if not chunk:
                    break  # the file shrank while it was sent: send what there is
                self.left -= len(chunk)
                yield chunk
        finally:
            self.handle.close()

    def close(self) -> None:
        self.handle.close()


get.permission = "r"


@storage
def delete(call: Call, blobs, datastore: str, blob: str) -> httpx.Response:
    blobs.delete(datastore, blob)
    return httpx.Response(202)


delete.permission = "d"


@storage
def list_blobs(call: Call, blobs, datastore: str, prefix: str) -> httpx.Response:
    if call.query.get("restype") != "container" or call.query.get("comp") != "list":
        raise BlobError(400, "UnsupportedQueryParameter", "Only ?restype=container&comp=list is supported"
                        " on a container.")
    items = []
    for name in blobs.list(datastore, prefix):
        props = blobs.properties(datastore, name)
        if props is None:
            continue
        md5 = f"<Content-MD5>{props['md5']}</Content-MD5>" if props["md5"] else ""
        items.append(f"<Blob><Name>{escape(name)}</Name><Properties><Content-Length>{props['size']}"
                     f"</Content-Length><Etag>{props['etag']}</Etag>{md5}<BlobType>BlockBlob</BlobType>"
                     f"</Properties></Blob>")
    body = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint='
            f'"https://{ids.BLOB_HOST}/{call.service.workspace}/" ContainerName="{escape(call.params["container"])}">'
            f"<Prefix>{escape(prefix)}</Prefix><Blobs>{''.join(items)}</Blobs><NextMarker /></EnumerationResults>")
    return httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/xml"})


list_blobs.permission = "l"


def register(router) -> None:
    blob_path = "/{account}/{container}/{path*}"
    for method, handler in (("PUT", put), ("HEAD", head), ("GET", get), ("DELETE", delete)):
        router.add(ids.BLOB_HOST, method, blob_path, handler)
    router.add(ids.BLOB_HOST, "GET", "/{account}/{container}", list_blobs)
