"""Run `ml local serve`: the gateway on a private TLS port, the CONNECT proxy on the public one.

Both listen on 127.0.0.1 only. The proxy secret, client id and secret live in $ML_HOME/serve (0600), so
`ml local serve --print-env` (another process) prints the same values the running server accepts.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Callable

from cli.local import ids
from cli.local.serve.identity import LOGIN_HOST, TENANT, TRACKING_TOKEN_SECONDS, Identity

DEFAULT_PORT = 8443
PROXY_USER = "ml"


def _folder(home: Path) -> Path:
    return Path(home).absolute() / "serve"


def proxy_secret(folder: Path) -> str:
    path = folder / "proxy-secret"
    if not path.is_file():
        import os

        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def environment(home: Path, workspace: str, port: int) -> dict[str, str]:
    """The variables a client's shell needs to reach the served workspace as Azure (see the README)."""
    from cli.local.serve import certs
    from cli.local.serve.gateway import CERT_HOSTS, CLOUD_NAME

    folder = _folder(home)
    ca = str(certs.server_files(folder, CERT_HOSTS).ca) if not (folder / "ca.pem").is_file() else str(folder / "ca.pem")
    identity = Identity.load(folder)
    proxy = f"http://{PROXY_USER}:{proxy_secret(folder)}@127.0.0.1:{port}"
    ws = ids.workspace_id(workspace)
    return {
        "HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        "REQUESTS_CA_BUNDLE": ca, "SSL_CERT_FILE": ca, "CURL_CA_BUNDLE": ca,
        "ARM_CLOUD_METADATA_URL": f"{ids.MANAGEMENT_URL}/metadata/endpoints?api-version=2019-05-01",
        "AZUREML_CURRENT_CLOUD": CLOUD_NAME, "AZUREML_DEV_URL_MFE": ids.MANAGEMENT_URL,
        "AZURE_AUTHORITY_HOST": f"https://{LOGIN_HOST}", "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": identity.client_id, "AZURE_CLIENT_SECRET": identity.client_secret,
        "ML_TARGET": "azure", "ML_SUBSCRIPTION": ids.SUBSCRIPTION, "ML_RESOURCE_GROUP": ids.RESOURCE_GROUP,
        "ML_WORKSPACE": workspace,
        "MLFLOW_TRACKING_URI": f"https://{ids.API_HOST}/mlflow/v1.0{ws}",
        "MLFLOW_TRACKING_TOKEN": identity.issue(f"https://{ids.API_HOST}", TRACKING_TOKEN_SECONDS),
    }


def run(home: Path, workspace: str, port: int, *, log: Callable[[str], None] | None,
        announce: Callable[[str], None]) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM); everything it opened is closed on the way out."""
    from cli.local.home import LocalHome
    from cli.local.serve import certs
    from cli.local.serve.gateway import CERT_HOSTS, Gateway, served_host
    from cli.local.serve.proxy import ConnectProxy
    from cli.local.serving import Served

    home = Path(home).absolute()
    if log is not None:
        log = _whole_lines(log)
    folder = _folder(home)
    files = certs.server_files(folder, CERT_HOSTS)
    identity = Identity.load(folder)
    local_home = LocalHome(home, workspace)
    gateway = Gateway(local_home, identity, log=log)
    tls = Served(gateway.app(), name="ml-serve-tls", tls=(str(files.cert), str(files.key))).start()
    try:
        asyncio.run(_proxy(ConnectProxy(proxy_secret(folder), tls.port, served_host, log), port, announce, workspace))
    finally:
        tls.close()
        local_home.close()


def _whole_lines(log: Callable[[str], None]) -> Callable[[str], None]:
    """`log`, one caller at a time: the gateway's threads and the proxy's loop all log, and a line written
    by two at once comes out as one (print writes the text and its newline separately)."""
    import threading

    lock = threading.Lock()

    def locked(line: str) -> None:
        with lock:
            log(line)

    return locked


async def _proxy(proxy, port: int, announce, workspace: str) -> None:
    import signal

    from cli.local.serve.proxy import HEAD_LIMIT

    server = await asyncio.start_server(proxy.serve, "127.0.0.1", port, limit=HEAD_LIMIT)
    bound = server.sockets[0].getsockname()[1]
    announce(f"serving the local workspace '{workspace}' through the https proxy 127.0.0.1:{bound}; "
             f"in another shell: eval \"$(ml local serve -w {workspace} --port {bound} --print-env)\". Ctrl-C stops.")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()  # open tunnels are cancelled as asyncio.run ends; not awaited, a keep-alive would block

