"""Secrets at rest: a private ML_HOME whatever the umask, no secrets in responses or wire logs, and jobs
that do not inherit the submitter's credentials."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from cli.redact import MASK, redact, redact_json
from cli.client.transports.local import LocalTransport
from cli.local.runner.job_env import filtered
from cli.local.service import LocalWorkspaceService

REPO = Path(__file__).resolve().parents[2]
WS = ("https://management.ml.invalid/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local"
      "/providers/Microsoft.MachineLearningServices/workspaces/local")
API = {"api-version": "2025-12-01"}
ACCOUNT_KEY = "c2VjcmV0LWFjY291bnQta2V5LW5vYm9keS1zaG91bGQtc2VlCg=="
SAS_SIG = "sEcReTsIgNaTuRe%3D"
PASSWORD = "Hunter2-admin-password!"
SHELL_SECRETS = {"AZURE_CLIENT_SECRET": "azure-client-secret-value", "AWS_SECRET_ACCESS_KEY": "aws-secret-value",
                 "GITHUB_TOKEN": "ghp_githubtokenvalue"}


def ml(*args: str, home: Path, umask: int, env: dict | None = None, cwd: Path | None = None,
       timeout: float = 120) -> subprocess.CompletedProcess:
    full = {**os.environ, "ML_HOME": str(home), **(env or {})}
    full["PYTHONPATH"] = str(REPO) + os.pathsep + full.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "cli", *args], env=full, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, umask=umask)


def loose_modes(root: Path) -> list[str]:
    """Every path under `root` (and root) that group or others may use."""
    found = []
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{oct(mode)} {path.relative_to(root.parent)}")
    return found


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_ml_home_is_private_whatever_the_umask(tmp_path, umask):
    home = tmp_path / "data" / "ml"  # missing: ml creates it (and its parents) 0700
    (tmp_path / "d.csv").write_text("a,b\n1,2\n")
    spec = tmp_path / "job.yml"
    spec.write_text(yaml.safe_dump({"command": "echo started; env | sort",
                                    "environment": "azureml:AzureML-sklearn-1.5@latest"}))
    env = {**SHELL_SECRETS, "MY_SETTING": "visible-to-the-job", "ML_JOB_ENV_ALLOW": "MY_SETTING"}
    data = ml("data", "create", "-n", "d", "-v", "1", "-t", "uri_file", "--path", str(tmp_path / "d.csv"),
              home=home, umask=umask)
    assert data.returncode == 0, data.stderr
    job = ml("job", "create", "-f", str(spec), "--name", f"env-{umask:o}", "--stream", home=home, umask=umask,
             env=env, cwd=tmp_path)
    assert job.returncode == 0, job.stderr

    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    workspace = home / "workspaces" / "local"
    assert (workspace / "workspace.db").is_file() and (workspace / "blobs").is_dir()
    assert list((workspace / "jobs" / f"env-{umask:o}" / "user_logs").glob("std_log*.txt"))
    assert loose_modes(home) == []

    # the job saw an allowed variable and the basics, none of the shell's credentials
    log = (workspace / "jobs" / f"env-{umask:o}" / "user_logs" / "std_log.txt").read_text()
    assert "MY_SETTING=visible-to-the-job" in log and "\nPATH=" in log
    for name, value in SHELL_SECRETS.items():
        assert name not in log and value not in log


def test_job_environment_rule():
    shell = {"PATH": "/bin", "HOME": "/root", "LANG": "C.UTF-8", "CUDA_VISIBLE_DEVICES": "0",
             "AZURE_CLIENT_SECRET": "s", "AWS_SECRET_ACCESS_KEY": "s", "GITHUB_TOKEN": "s",
             "AZURE_STORAGE_CONNECTION_STRING": "s", "PIP_INDEX_URL": "https://u:p@idx", "MY_DB_PASSWORD": "s",
             "RANDOM_THING": "x", "MY_APP_MODE": "fast", "MY_APP_TOKEN": "s", "WANTED_TOKEN": "kept"}
    assert filtered(shell) == {"PATH": "/bin", "HOME": "/root", "LANG": "C.UTF-8", "CUDA_VISIBLE_DEVICES": "0"}
    extended = filtered({**shell, "ML_JOB_ENV_ALLOW": "MY_APP_*, WANTED_TOKEN", "ML_JOB_ENV_DENY": "CUDA_*"})
    # a pattern does not let a credential through; an exact name does (the user asked for it)
    assert {k: v for k, v in extended.items() if k.startswith(("MY_", "WANTED", "CUDA"))} == {
        "MY_APP_MODE": "fast", "WANTED_TOKEN": "kept"}


def test_the_job_environment_rule_matches_each_pattern_as_fnmatch_does():
    # the patterns are compiled into one expression: it must keep and drop exactly what fnmatchcase would
    from fnmatch import fnmatchcase

    from cli.local.runner.job_env import ALLOWED, DENIED

    names = ["PATH", "path", "PATH\n", "LC_ALL", "LC_", "lc_all", "CUDA_HOME", "X_KEY", "X_KEY_Y", "X_KEYS",
             "AZURE_X", "MY_TOKENS", "SSH_AUTH_SOCK", "ML_HOME", "ML_", "PIP_INDEX_URL", "PIP_CACHE_DIR",
             "[A]", "A*B", "OMP_NUM_THREADS", "HOSTNAME", "PYTHONPATH2", "UV_INDEX", "UV_INDEX_2", "TMP"]

    def by_fnmatch(name: str) -> bool:
        return (not any(fnmatchcase(name, p) for p in DENIED)) and any(fnmatchcase(name, p) for p in ALLOWED)

    assert filtered({n: "v" for n in names}) == {n: "v" for n in names if by_fnmatch(n)}


def test_datastore_and_compute_secrets_never_come_back(client):
    datastore = {"properties": {"datastoreType": "AzureBlob", "accountName": "acct", "containerName": "c",
                                "credentials": {"credentialsType": "AccountKey",
                                                "secrets": {"secretsType": "AccountKey", "key": ACCOUNT_KEY}}}}
    sas_store = {"properties": {"datastoreType": "AzureBlob", "accountName": "acct", "containerName": "d",
                                "credentials": {"credentialsType": "Sas",
                                                "secrets": {"secretsType": "Sas", "sasToken": f"sv=1&sig={SAS_SIG}"}}}}
    aml = {"location": "local", "properties": {"computeType": "AmlCompute", "properties": {
        "scaleSettings": {"maxNodeCount": 2},
        "userAccountCredentials": {"adminUserName": "azureuser", "adminUserPassword": PASSWORD}}}}
    vm = {"location": "local", "properties": {"computeType": "VirtualMachine", "properties": {
        "administratorAccount": {"username": "azureuser", "password": PASSWORD}}}}
    answers = [client.put(f"{WS}/datastores/keyed", params=API, json=datastore),
               client.put(f"{WS}/datastores/signed", params=API, json=sas_store),
               client.put(f"{WS}/computes/cpu", params=API, json=aml),
               client.put(f"{WS}/computes/vm", params=API, json=vm)]
    assert [a.status_code for a in answers] == [201, 201, 201, 201]
    for url in ("datastores/keyed", "datastores/signed", "datastores", "computes/cpu", "computes/vm", "computes"):
        answers.append(client.get(f"{WS}/{url}", params=API))
    for answer in answers:
        assert answer.status_code in (200, 201)
        for secret in (ACCOUNT_KEY, SAS_SIG, PASSWORD):
            assert secret not in answer.text, answer.request.url
    assert client.get(f"{WS}/computes/cpu", params=API).json()["properties"]["properties"][
        "userAccountCredentials"] == {"adminUserName": "azureuser"}
    # the dedicated actions answer them, as on Azure
    assert client.post(f"{WS}/datastores/keyed/listSecrets", params=API).json()["key"] == ACCOUNT_KEY
    keys = client.post(f"{WS}/computes/vm/listKeys", params=API).json()
    assert keys == {"computeType": "VirtualMachine", "administratorAccount": {"username": "azureuser",
                                                                            "password": PASSWORD}}


def test_the_wire_log_masks_keys_sas_and_passwords(tmp_path, monkeypatch):
    log = tmp_path / "wire.jsonl"
    monkeypatch.setenv("ML_WIRE_LOG", str(log))
    service = LocalWorkspaceService(tmp_path / "home", "local")
    try:
        with httpx.Client(transport=LocalTransport(service)) as client:
            client.put(f"{WS}/datastores/keyed", params=API, json={"properties": {
                "datastoreType": "AzureBlob", "accountName": "a", "containerName": "c",
                "credentials": {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey",
                                                                             "key": ACCOUNT_KEY}}}})
            client.put(f"{WS}/computes/vm", params=API, json={"location": "local", "properties": {
                "computeType": "VirtualMachine",
                "properties": {"administratorAccount": {"username": "u", "password": PASSWORD}}}})
            client.post(f"{WS}/datastores/keyed/listSecrets", params=API)
            client.post(f"{WS}/computes/vm/listKeys", params=API)
            sas = client.post(f"{WS}/datastores/workspaceblobstore/listSecrets", params=API).json()["sasToken"]
            client.get(f"https://local.blob.ml.invalid/workspaceblobstore/x.txt?{sas}")
    finally:
        service.store.close()
    text = log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    signature = dict(p.split("=", 1) for p in sas.split("&"))["sig"]
    for secret in (ACCOUNT_KEY, PASSWORD, signature):
        assert secret not in text
    entries = [json.loads(line) for line in text.splitlines()]
    assert len(entries) == 6 and entries[2]["response_body"] == {"secretsType": "AccountKey", "key": MASK}


def test_one_redaction_list_for_every_shape_of_secret():
    connection = ("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + ACCOUNT_KEY
                  + ";EndpointSuffix=core.windows.net")
    assert ACCOUNT_KEY not in redact(connection) and "AccountName=acct" in redact(connection)
    bus = "Endpoint=sb://x/;SharedAccessKeyName=root;SharedAccessKey=abcdef123="
    assert "abcdef123" not in redact(bus)
    signed = "BlobEndpoint=https://a/;SharedAccessSignature=sv=2022-11-02&ss=b&sig=" + SAS_SIG
    assert SAS_SIG not in redact(signed)
    assert redact("https://a.blob.core.windows.net/c/x?sv=1&sig=abc&comp=list").endswith(
        f"sv={MASK}&sig={MASK}&comp=list")
    assert redact("https://user:pa55word@proxy.local:8080/") == f"https://user:{MASK}@proxy.local:8080/"
    assert redact('{"adminUserPassword": "p\\"w", "name": "n"}') == f'{{"adminUserPassword": "{MASK}", "name": "n"}}'
    body = {"properties": {"credentials": {"credentialsType": "ServicePrincipal",
                                           "secrets": {"clientSecret": "cs", "secretsType": "ServicePrincipal"}},
                           "description": "see https://x/?token=abc", "count": 3, "name": "keep"}}
    assert redact_json(body) == {"properties": {
        "credentials": {"credentialsType": "ServicePrincipal",
                        "secrets": {"clientSecret": MASK, "secretsType": "ServicePrincipal"}},
        "description": f"see https://x/?token={MASK}", "count": 3, "name": "keep"}}


class _LeakyHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = json.dumps({"primaryKey": "k-primary", "value": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_wire_log_works_for_azure_exchanges_too(tmp_path, monkeypatch):
    from cli.client.transports.azure import AzureTransport

    log = tmp_path / "wire.jsonl"
    monkeypatch.setenv("ML_WIRE_LOG", str(log))
    server = HTTPServer(("127.0.0.1", 0), _LeakyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with httpx.Client(transport=AzureTransport(hosts=())) as client:
            answer = client.get(f"http://127.0.0.1:{server.server_port}/keys?sig=urlsecret")
        assert answer.json() == {"primaryKey": "k-primary", "value": "ok"}  # the caller still gets it all
    finally:
        server.shutdown()
        server.server_close()
    entry = json.loads(log.read_text())
    assert entry["served_by"] == "Azure" and entry["response_body"] == {"primaryKey": MASK, "value": "ok"}
    assert "urlsecret" not in log.read_text()


def test_an_existing_ml_home_is_made_private_without_gaining_rights(tmp_path):
    from cli.local.store import open_store

    home = tmp_path / "shared-looking"
    (home / "workspaces" / "local").mkdir(parents=True, mode=0o755)
    home.chmod(0o755)
    (home / "workspaces").chmod(0o755)
    (home / "workspaces" / "local").chmod(0o751)
    open_store(home, "local").close()
    assert loose_modes(home) == []
    assert stat.S_IMODE((home / "workspaces" / "local").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "workspaces" / "local" / "workspace.db").stat().st_mode) == 0o600


def test_wal_and_shm_files_are_as_private_as_the_database(tmp_path):
    from cli.local.store import open_store

    old = os.umask(0)
    try:
        store = open_store(tmp_path / "home", "local")
        with store.transaction() as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES ('probe', 'x')")
        database = store.path
        companions = [Path(f"{database}-wal"), Path(f"{database}-shm")]
        assert all(p.exists() for p in companions)  # open connection: WAL mode keeps them
        assert [oct(stat.S_IMODE(p.stat().st_mode)) for p in [database, *companions]] == ["0o600"] * 3
        store.close()
    finally:
        os.umask(old)
