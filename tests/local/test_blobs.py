import base64
import hashlib
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit


from local_wire import url

REPO = Path(__file__).resolve().parents[2]


def pending_upload(client, family="codes", name="src", version="1") -> tuple[str, str]:
    r = client.post(url(f"{family}/{name}/versions/{version}/startPendingUpload"),
                    json={"pendingUploadType": "TemporaryBlobReference"})
    assert r.status_code == 200
    ref = r.json()["blobReferenceForConsumption"]
    assert ref["credential"]["credentialType"] == "SAS"
    assert ref["credential"]["sasUri"].startswith(ref["blobUri"] + "?")
    return ref["blobUri"], urlsplit(ref["credential"]["sasUri"]).query


def test_put_blob_head_metadata_get(client, service):
    blob_uri, sas = pending_upload(client)
    data = b"print('hello')\n"
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    put = client.put(f"{blob_uri}/src/train.py?{sas}", content=data,
                     headers={"x-ms-blob-type": "BlockBlob", "Content-MD5": md5})
    assert put.status_code == 201 and put.headers["Content-MD5"] == md5 and put.headers["ETag"]
    head = client.head(f"{blob_uri}/src/train.py?{sas}")
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data))
    assert "x-ms-meta-upload_status" not in head.headers
    meta = client.put(f"{blob_uri}/src/train.py?comp=metadata&{sas}",
                      headers={"x-ms-meta-upload_status": "completed", "x-ms-meta-name": "src"})
    assert meta.status_code == 200
    head = client.head(f"{blob_uri}/src/train.py?{sas}")
    assert head.headers["x-ms-meta-upload_status"] == "completed" and head.headers["x-ms-meta-name"] == "src"
    assert client.get(f"{blob_uri}/src/train.py?{sas}").content == data
    on_disk = service.root / "blobs" / "workspaceblobstore" / urlsplit(blob_uri).path.split("/", 3)[3]
    assert (on_disk / "src" / "train.py").read_bytes() == data
    bad_md5 = client.put(f"{blob_uri}/src/other.py?{sas}", content=b"x",
                         headers={"x-ms-blob-type": "BlockBlob", "Content-MD5": md5})
    assert bad_md5.status_code == 400 and bad_md5.headers["x-ms-error-code"] == "Md5Mismatch"
    assert client.head(f"{blob_uri}/src/other.py?{sas}").status_code == 404


def test_only_code_versions_have_pending_uploads(raw_client):
    # As in the REST contract: data and model files go to a datastore (listSecrets) instead.
    for family in ("data", "models"):
        r = raw_client.post(url(f"{family}/thing/versions/3/startPendingUpload"),
                        json={"pendingUploadType": "TemporaryBlobReference"})
        assert r.status_code == 404, r.text


def _tampered(sas: str, **changes: str) -> str:
    fields = dict(parse_qsl(sas))
    fields.update(changes)
    return urlencode(fields)


def test_sas_is_checked(client):
    blob_uri, sas = pending_upload(client)
    headers = {"x-ms-blob-type": "BlockBlob"}
    sig = dict(parse_qsl(sas))["sig"]
    forged = _tampered(sas, sig=("A" if sig[0] != "A" else "B") + sig[1:])
    r = client.put(f"{blob_uri}/a.txt?{forged}", content=b"x", headers=headers)
    assert r.status_code == 403 and r.headers["x-ms-error-code"] == "AuthenticationFailed"
    assert b"<Code>AuthenticationFailed</Code>" in r.content and b"Signature did not match" in r.content
    widened = _tampered(sas, sp="racwdl" + "x")
    assert client.put(f"{blob_uri}/a.txt?{widened}", content=b"x", headers=headers).status_code == 403
    later = _tampered(sas, se="2999-01-01T00:00:00Z")
    assert client.put(f"{blob_uri}/a.txt?{later}", content=b"x", headers=headers).status_code == 403
    outside = blob_uri.rsplit("/", 1)[0] + "/other-upload/a.txt"
    assert client.put(f"{outside}?{sas}", content=b"x", headers=headers).status_code == 403
    r = client.put(f"{blob_uri}/a.txt", content=b"x", headers=headers)
    assert r.status_code == 401 and r.headers["x-ms-error-code"] == "NoAuthenticationInformation"
    assert client.put(f"{blob_uri}/a.txt?{sas}", content=b"x", headers=headers).status_code == 201


def test_expired_sas_is_rejected(client, service):
    query = service.blobs.sas_query("workspaceblobstore", "LocalUpload/x", hours=-1)
    r = client.get(f"https://blob.ml.invalid/local/workspaceblobstore/LocalUpload/x/a?{query}")
    assert r.status_code == 403 and b"Signed expiry time" in r.content


def test_block_upload_then_commit(client):
    blob_uri, sas = pending_upload(client)
    blocks = [(base64.b64encode(f"block-{i:04d}".encode()).decode(), bytes([65 + i]) * 1000) for i in range(3)]
    for block_id, data in reversed(blocks):  # staging order does not matter, the list's order does
        r = client.put(f"{blob_uri}/big.bin?comp=block&blockid={block_id}&{sas}", content=data)
        assert r.status_code == 201
    assert client.head(f"{blob_uri}/big.bin?{sas}").status_code == 404  # nothing visible before commit
    block_list = "<?xml version='1.0' encoding='utf-8'?><BlockList>" + "".join(
        f"<Latest>{b}</Latest>" for b, _ in blocks) + "</BlockList>"
    r = client.put(f"{blob_uri}/big.bin?comp=blocklist&{sas}", content=block_list.encode(),
                   headers={"x-ms-meta-upload_status": "completed"})
    assert r.status_code == 201
    got = client.get(f"{blob_uri}/big.bin?{sas}")
    assert got.content == b"".join(d for _, d in blocks)
    assert got.headers["x-ms-meta-upload_status"] == "completed"
    part = client.get(f"{blob_uri}/big.bin?{sas}", headers={"x-ms-range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == blocks[1][1]
    unknown = "<BlockList><Latest>bm9wZQ==</Latest></BlockList>"
    r = client.put(f"{blob_uri}/other.bin?comp=blocklist&{sas}", content=unknown.encode())
    assert r.status_code == 400 and r.headers["x-ms-error-code"] == "InvalidBlockList"


def test_list_blobs_and_virtual_host_style(client, service):
    blob_uri, sas = pending_upload(client)
    for name in ("d/a.txt", "d/b.txt"):
        client.put(f"{blob_uri}/{name}?{sas}", content=b"1", headers={"x-ms-blob-type": "BlockBlob"})
    container_sas = service.blobs.sas_query("workspaceblobstore")
    prefix = urlsplit(blob_uri).path.split("/", 3)[3] + "/d/"
    listing = client.get(f"https://local.blob.ml.invalid/workspaceblobstore?restype=container&comp=list"
                         f"&prefix={prefix}&{container_sas}")
    assert listing.status_code == 200
    assert listing.content.count(b"<Blob>") == 2 and (prefix + "a.txt").encode() in listing.content


KILLED_UPLOAD = """
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
import httpx
from cli.local.service import LocalWorkspaceService
service = LocalWorkspaceService(Path(sys.argv[2]), "local")
def body():
    yield b"x" * 65536
    print("half", flush=True)
    time.sleep(60)
    yield b"y" * 65536
request = httpx.Request("PUT", sys.argv[3], content=body(), headers={"x-ms-blob-type": "BlockBlob"})
service.handle(request)
"""


def test_killed_upload_leaves_nothing_visible(client, service, tmp_path):
    blob_uri, sas = pending_upload(client)
    target = f"{blob_uri}/half.bin?{sas}"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_UPLOAD, str(REPO), str(tmp_path), target],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "half", proc.stderr.read()
        staged = list((service.root / "blobs" / ".staging").glob("tmp-*"))
        assert staged and staged[0].stat().st_size == 65536  # the partial write exists, out of sight
    finally:
        proc.kill()
        proc.wait()
    assert client.head(target).status_code == 404
    assert not list((service.root / "blobs" / "workspaceblobstore").rglob("half.bin"))
