"""Probes of hostile names, versions, blob names and datastore paths, through the REST surface and the CLI.

Each probe must be refused (400 on the wire; one `ml: error:` line and a non-zero exit on the command
line), must leave the whole tree under tmp_path as it was (ML_HOME and the sentinel folder beside it),
and the workspace must still serve a create and a list afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from cli.local.blobs import BlobStore
from cli.local.service import LocalWorkspaceService
from local_wire import ContractTransport, url

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "tests" / "local" / "job_specs" / "hello.yml"

# (label, the name as it goes on the wire: percent-encoded once, as a client sends it)
WIRE_NAMES = [
    ("dot-dot", "%2E%2E"),
    ("dot", "%2E"),
    ("encoded slash", "..%2F..%2F..%2Ftmp%2Fx"),
    ("double-encoded slash", "..%252F..%252Ftmp%252Fx"),
    ("double-encoded dots", "%252e%252e"),
    ("NUL", "a%00b"),
    ("backslash", "a%5Cb"),
    ("absolute", "%2Fetc%2Fpasswd"),
    ("very long", "a" * 300),
    ("newline", "a%0Ab"),
]

BAD_DATASTORE_PATHS = [
    "azureml://datastores/workspaceblobstore/paths/../../../etc/",
    "azureml://datastores/workspaceblobstore/paths/%2e%2e/%2e%2e/etc/",
    "azureml://datastores/workspaceblobstore/paths/a/./b",
    "azureml://datastores/workspaceblobstore/paths/a\\..\\b",
    "azureml://datastores/workspaceblobstore/paths//etc/passwd",
    "azureml://datastores/..%2F..%2Fx/paths/a",
]


def tree(root: Path) -> set[str]:
    """Every path below `root` (SQLite's -wal/-shm come and go with connections: left out)."""
    found = set()
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            if not name.endswith(("-wal", "-shm", "-journal")):
                found.add(os.path.relpath(os.path.join(folder, name), root))
    return found


@pytest.fixture
def world(tmp_path):
    """ML_HOME under tmp_path, with a sentinel folder beside it that nothing may touch."""
    sentinel = tmp_path / "sentinel"
    (sentinel / "keep").mkdir(parents=True)
    (sentinel / "keep" / "file.txt").write_text("untouched")
    home = tmp_path / "home"
    service = LocalWorkspaceService(home, "local")
    yield tmp_path, home, service
    service.store.close()


@pytest.fixture
def wire(world):
    _, _, service = world
    with httpx.Client(transport=ContractTransport(service, check_request=False)) as client:
        yield client


def refused(response: httpx.Response) -> None:
    assert response.status_code == 400, (response.status_code, response.text)
    error = response.json()["error"] if response.headers.get("content-type", "").startswith("application/json") \
        else None
    if error is not None:
        assert error["code"] and "\n" not in error["message"], error


def still_usable(client: httpx.Client) -> None:
    body = {"properties": {"modelType": "custom_model",
                           "modelUri": "azureml://datastores/workspaceblobstore/paths/fine/"}}
    assert client.put(url("models", "good", "versions", "1"), json=body).status_code in (200, 201)
    names = [m["name"] for m in client.get(url("models")).json()["value"]]
    assert "good" in names


# ---- the REST surface


@pytest.mark.parametrize("label,name", WIRE_NAMES, ids=[label for label, _ in WIRE_NAMES])
def test_hostile_names_get_400_on_every_resource(world, wire, label, name):
    tmp, home, _ = world
    before = tree(tmp)
    model = {"properties": {"modelType": "custom_model", "modelUri": "azureml://datastores/workspaceblobstore/paths/m/"}}
    job = {"properties": {"jobType": "Command", "command": "echo hi", "environmentId": "azureml:env:1"}}
    probes = [
        wire.put(url("jobs", name), json=job),
        wire.get(url("jobs", name)),
        wire.post(url("jobs", name, "cancel")),
        wire.delete(url("jobs", name)),
        wire.put(url("models", name), json={"properties": {}}),
        wire.put(url("models", name, "versions", "1"), json=model),
        wire.put(url("models", "ok", "versions", name), json=model),
        wire.get(url("models", "ok", "versions", name)),
        wire.delete(url("data", name, "versions", "1")),
        wire.post(url("codes", name, "versions", "1", "startPendingUpload"), json={}),
        wire.put(url("datastores", name), json={"properties": {"datastoreType": "AzureBlob", "credentials": {}}}),
        wire.post(url("datastores", name, "listSecrets")),
        wire.put(url("computes", name), json={"properties": {"computeType": "AmlCompute"}}),
        wire.get(f"https://api.ml.invalid/history/v1.0{url('jobs').split('.invalid', 1)[1].split('/jobs')[0]}"
                 f"/runs/{name}/details"),
    ]
    for response in probes:
        refused(response)
    assert tree(tmp) == before
    still_usable(wire)


def test_a_name_is_decoded_once(world, wire):
    """'%2541' is the name '%41' (refused: '%' fits no rule), never 'A'."""
    response = wire.put(url("models", "m%2541"), json={"properties": {}})
    refused(response)
    assert "%41" in response.json()["error"]["message"]


@pytest.mark.parametrize("uri", BAD_DATASTORE_PATHS)
def test_datastore_paths_that_leave_the_datastore_get_400(world, wire, uri):
    tmp, _, _ = world
    before = tree(tmp)
    refused(wire.put(url("models", "m", "versions", "1"),
                     json={"properties": {"modelType": "custom_model", "modelUri": uri}}))
    refused(wire.put(url("data", "d", "versions", "1"),
                     json={"properties": {"dataType": "uri_folder", "dataUri": uri}}))
    refused(wire.put(url("jobs", "j1"), json={"properties": {
        "jobType": "Command", "command": "echo", "environmentId": "azureml:e:1",
        "inputs": {"x": {"jobInputType": "uri_folder", "uri": uri}}}}))
    assert tree(tmp) == before
    still_usable(wire)


def _sas(wire) -> tuple[str, str]:
    answer = wire.post(url("codes", "src", "versions", "1", "startPendingUpload"), json={}).json()
    sas_uri = answer["blobReferenceForConsumption"]["credential"]["sasUri"]
    return "https://blob.ml.invalid/local/workspaceblobstore", urlsplit(sas_uri).query


def _container_sas(service) -> str:
    return service.blobs.sas_query("workspaceblobstore")


BAD_BLOBS = ["..%2F..%2F..%2Fx", "a/%2E%2E/%2E%2E/%2E%2E/x", "a%5C..%5Cx", "a%00b", "a//b", "%2Fetc%2Fx",
             "a/%2E/b", "b" * 1100]


@pytest.mark.parametrize("blob", BAD_BLOBS)
def test_hostile_blob_names_get_400(world, wire, blob):
    tmp, _, service = world
    base, sas = "https://blob.ml.invalid/local/workspaceblobstore", _container_sas(service)
    before = tree(tmp)
    headers = {"x-ms-blob-type": "BlockBlob", "x-ms-version": "2025-01-05"}
    for response in (wire.put(f"{base}/{blob}?{sas}", content=b"x", headers=headers),
                     wire.put(f"{base}/{blob}?comp=block&blockid=QQ%3D%3D&{sas}", content=b"x"),
                     wire.get(f"{base}/{blob}?{sas}"), wire.delete(f"{base}/{blob}?{sas}")):
        assert response.status_code == 400, (blob, response.status_code, response.text)
        assert b"<Code>" in response.content
    assert tree(tmp) == before
    assert wire.put(f"{base}/fine/a.txt?{sas}", content=b"x", headers=headers).status_code == 201


@pytest.mark.parametrize("prefix", ["../", "../../", "a/../../", "%2F", "a\\b/"])
def test_list_prefixes_that_leave_the_container_get_400(world, wire, prefix):
    _, _, service = world
    base, sas = "https://blob.ml.invalid/local/workspaceblobstore", _container_sas(service)
    response = wire.get(f"{base}?restype=container&comp=list&prefix={prefix}&{sas}")
    assert response.status_code == 400, response.text


def test_blob_listing_follows_no_link_out_and_ends_on_loops(world, wire):
    tmp, home, service = world
    folder = home / "workspaces" / "local" / "blobs" / "workspaceblobstore" / "azureml" / "j" / "out"
    folder.mkdir(parents=True)
    (folder / "real.txt").write_text("data")
    os.symlink(tmp / "sentinel", folder / "out-link")  # a job may write such links into its outputs
    os.symlink("/", folder / "root-link")
    os.symlink(folder, folder / "loop")  # back to itself
    os.symlink("a", folder / "b")
    os.symlink("b", folder / "a")  # a two-link loop
    os.symlink("real.txt", folder / "inside-link")
    os.mkfifo(folder / "pipe")
    names = service.blobs.list("workspaceblobstore", "azureml/j/out/")
    assert names == ["azureml/j/out/inside-link", "azureml/j/out/real.txt"]
    base, sas = "https://blob.ml.invalid/local/workspaceblobstore", _container_sas(service)
    for name in ("out-link/keep/file.txt", "root-link/etc/hostname", "a", "pipe"):
        response = wire.get(f"{base}/azureml/j/out/{name}?{sas}")
        assert response.status_code in (400, 404), (name, response.status_code)


def test_killed_uploads_staging_is_removed_at_the_next_start(world):
    _, home, service = world
    staging = home / "workspaces" / "local" / "blobs" / ".staging"
    dead = _dead_pid()
    (staging / "workspaceblobstore" / "abc").mkdir(parents=True)
    (staging / "workspaceblobstore" / "abc" / "block").write_bytes(b"x")
    (staging / "workspaceblobstore" / "abc" / f".owner.{dead}").touch()
    (staging / "workspaceblobstore" / "live").mkdir()
    (staging / "workspaceblobstore" / "live" / f".owner.{os.getpid()}").touch()
    (staging / f"tmp-{dead}-0123").write_bytes(b"partial")
    (staging / f"tmp-{os.getpid()}-4567").write_bytes(b"in progress")
    BlobStore(home / "workspaces" / "local" / "blobs", service.store, "local")
    assert sorted(p.name for p in staging.rglob("*")) == sorted(
        ["workspaceblobstore", "live", f".owner.{os.getpid()}", f"tmp-{os.getpid()}-4567"])


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# ---- the command line


def ml(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ML_HOME": str(tmp / "home"), "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    env.pop("ML_TARGET", None)
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=work, env=env, capture_output=True,
                          text=True, timeout=120)


def one_line_error(result: subprocess.CompletedProcess) -> None:
    assert result.returncode not in (0, None), result
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("ml: error: "), result.stderr
    assert all(line.startswith(("ml: error: ", "hint: ", "warning: ")) for line in lines), result.stderr
    assert "Traceback" not in result.stderr


CLI_NAMES = ["..", ".", "..%2F..%2F..%2Ftmp%2Fx", "%2e%2e", "a/b", "a\\b", "/etc/passwd", "a" * 300, "a\tb"]
EVERY_VERB = ("..", "..%2F..%2F..%2Ftmp%2Fx", "a\\b")  # the other names try `job create` only: each call costs a process


@pytest.mark.parametrize("name", CLI_NAMES)
def test_cli_refuses_hostile_names_before_any_request(world, name):
    tmp, _, _ = world
    before = tree(tmp)
    (tmp / "work").mkdir(exist_ok=True)
    before.add("work")
    uri = "azureml://datastores/workspaceblobstore/paths/x/"
    verbs = [["job", "create", "-f", str(HELLO), "--set", f"name={name}"]]
    if name in EVERY_VERB:
        verbs += [["job", "show", "-n", name], ["model", "create", "-n", name, "-v", "1", "--path", uri],
                  ["model", "create", "-n", "ok", "-v", name, "--path", uri], ["data", "show", "-n", "ok", "-v", name],
                  ["model", "download", "-n", name, "-v", "1"], ["datastore", "show", "-n", name]]
    for args in verbs:
        result = ml(tmp, *args)
        one_line_error(result)
        assert "is not a valid" in result.stderr and result.returncode == 2, result.stderr
    assert tree(tmp) == before


def test_cli_refuses_a_nul_in_a_spec_name(world):
    tmp, _, _ = world
    spec = tmp / "work" / "nul.yml"
    spec.parent.mkdir()
    spec.write_text(HELLO.read_text() + 'name: "a\\0b"\n')
    before = tree(tmp)
    one_line_error(ml(tmp, "job", "create", "-f", str(spec)))
    assert tree(tmp) == before


@pytest.mark.parametrize("uri", BAD_DATASTORE_PATHS)
def test_cli_refuses_datastore_paths_that_leave_the_datastore(world, uri):
    tmp, _, _ = world
    (tmp / "work").mkdir()
    before = tree(tmp)
    one_line_error(ml(tmp, "model", "create", "-n", "evil", "-v", "1", "--path", uri))
    one_line_error(ml(tmp, "data", "create", "-n", "evil", "-v", "1", "--path", uri))
    assert tree(tmp) == before
    created = ml(tmp, "model", "create", "-n", "good", "-v", "1", "--path",
                 "azureml://datastores/workspaceblobstore/paths/fine/", "-o", "none")
    assert created.returncode == 0, created.stderr
    listed = ml(tmp, "model", "list", "--query", "[].name", "-o", "tsv")
    assert listed.returncode == 0 and "good" in listed.stdout.split()


def test_download_refuses_to_overwrite_and_to_write_through_links(world):
    tmp, home, _ = world
    source = tmp / "work" / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("A")
    (source / "sub" / "b.txt").write_text("B")
    assert ml(tmp, "model", "create", "-n", "m", "-v", "1", "--path", "src", "-o", "none").returncode == 0
    out = tmp / "work" / "out"
    assert ml(tmp, "model", "download", "-n", "m", "-v", "1", "-p", str(out)).returncode == 0
    assert (out / "m" / "src" / "a.txt").read_text() == "A"
    (out / "m" / "src" / "a.txt").write_text("mine")
    again = ml(tmp, "model", "download", "-n", "m", "-v", "1", "-p", str(out))
    one_line_error(again)
    assert "--overwrite" in again.stderr and (out / "m" / "src" / "a.txt").read_text() == "mine"
    assert ml(tmp, "model", "download", "-n", "m", "-v", "1", "-p", str(out), "--overwrite").returncode == 0
    assert (out / "m" / "src" / "a.txt").read_text() == "A"
    victim = tmp / "sentinel" / "keep" / "file.txt"
    (out / "m" / "src" / "a.txt").unlink()
    os.symlink(victim, out / "m" / "src" / "a.txt")
    one_line_error(ml(tmp, "model", "download", "-n", "m", "-v", "1", "-p", str(out), "--overwrite"))
    assert victim.read_text() == "untouched"


def test_download_of_an_output_with_links_and_loops_ends_and_stays_inside(world):
    tmp, home, _ = world
    folder = home / "workspaces" / "local" / "blobs" / "workspaceblobstore" / "azureml" / "j" / "model"
    folder.mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"w")
    os.symlink("/", folder / "root")
    os.symlink(folder, folder / "loop")
    os.symlink(tmp / "sentinel", folder / "out")
    (tmp / "work").mkdir()
    created = ml(tmp, "model", "create", "-n", "linked", "-v", "1", "--path",
                 "azureml://datastores/workspaceblobstore/paths/azureml/j/model/", "-o", "none")
    assert created.returncode == 0, created.stderr
    result = ml(tmp, "model", "download", "-n", "linked", "-v", "1", "-p", str(tmp / "work" / "dl"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.relative_to(tmp / "work" / "dl").as_posix() for p in (tmp / "work" / "dl").rglob("*")
                  if p.is_file()) == ["linked/model/weights.bin"]


def test_fifo_in_an_upload_folder_is_skipped_with_a_notice(world):
    tmp, _, _ = world
    source = tmp / "work" / "data"
    source.mkdir(parents=True)
    (source / "a.csv").write_text("x,y\n")
    os.mkfifo(source / "pipe")
    result = ml(tmp, "data", "create", "-n", "d", "-v", "1", "--path", "data", "-o", "none")
    assert result.returncode == 0, result.stderr
    assert "skipped pipe: not a regular file" in result.stderr


def test_job_download_of_outputs_with_links_and_loops_ends_and_keeps_existing_files(world):
    tmp, _, _ = world
    work = tmp / "work"
    (work / "src").mkdir(parents=True)
    (work / "src" / "make.py").write_text(
        "import os, sys\nout = sys.argv[1]\nopen(os.path.join(out, 'result.txt'), 'w').write('42')\n"
        "os.symlink('/', os.path.join(out, 'root'))\nos.symlink(out, os.path.join(out, 'loop'))\n"
        f"os.symlink({str(tmp / 'sentinel')!r}, os.path.join(out, 'sentinel'))\n")
    (work / "job.yml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
        "command: python make.py ${{outputs.result}}\ncode: src\n"
        "environment: azureml:AzureML-sklearn-1.5@latest\noutputs:\n  result:\n    type: uri_folder\n")
    created = ml(tmp, "job", "create", "-f", str(work / "job.yml"), "--stream", "--query", "name", "-o", "tsv")
    assert created.returncode == 0, created.stderr
    name = created.stdout.strip().splitlines()[-1]
    target = work / "dl"
    first = ml(tmp, "job", "download", "-n", name, "--output-name", "result", "-p", str(target))
    assert first.returncode == 0, first.stderr
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == ["named-outputs/result/result.txt"]
    (target / "named-outputs" / "result" / "result.txt").write_text("mine")
    again = ml(tmp, "job", "download", "-n", name, "--output-name", "result", "-p", str(target))
    one_line_error(again)
    assert (target / "named-outputs" / "result" / "result.txt").read_text() == "mine"
    forced = ml(tmp, "job", "download", "-n", name, "--output-name", "result", "-p", str(target), "--overwrite")
    assert forced.returncode == 0, forced.stderr
    assert (target / "named-outputs" / "result" / "result.txt").read_text() == "42"


def test_input_copies_leave_links_out_loops_and_fifos_behind(tmp_path):
    import shutil

    from cli.local.runner.data import _links_out_and_loops

    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "a.txt").write_text("a")
    os.symlink("/", source / "root")
    os.symlink(source, source / "sub" / "loop")
    os.symlink("sub/a.txt", source / "inside")
    os.mkfifo(source / "pipe")
    shutil.copytree(source, tmp_path / "copy", symlinks=False, ignore=_links_out_and_loops(source))
    assert sorted(p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*")) == [
        "inside", "sub", "sub/a.txt"]
