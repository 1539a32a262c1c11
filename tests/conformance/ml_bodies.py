"""What `ml <group> create -f FILE` sends for a corpus spec: our operations, run for real against the
stand-in workspace the SDK recorder used (workspace_stand_in.py), each PUT and POST recorded.

The operations, the client, its uploads (blob PUTs answered 201 by the stand-in) and the translation
all run as they do for a user; only the service is the stand-in.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx

from body_families import spec_file
from cli_defaults import overrides_for
from workspace_stand_in import RESOURCE_GROUP, SUBSCRIPTION, WORKSPACE, WORKSPACE_ID, answer

BASE_URL = "https://management.azure.com"
# the requests that only move content: neither resource bodies nor part of the comparison
_NOT_COMPARED = ("/startPendingUpload", "/listSecrets")


class StandInTransport(httpx.BaseTransport):
    """The stand-in workspace on the management host; blob storage accepts writes."""

    def __init__(self):
        self.sent: list[dict] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        url = urlsplit(str(request.url))
        if not url.netloc.startswith("management."):
            return httpx.Response(201 if request.method == "PUT" else 404, headers={"etag": '"0x1"'})
        body = json.loads(request.content) if request.content else None
        if request.method in ("PUT", "POST") and not url.path.endswith(_NOT_COMPARED):
            query = sorted((k, v) for k, v in parse_qsl(url.query) if k != "api-version")
            self.sent.append({"method": request.method, "path": url.path[len(WORKSPACE_ID):],
                              "query": "&".join(f"{k}={v}" for k, v in query), "body": body})
        status, answered = answer(request.method, url.path, body)
        return httpx.Response(status, json=answered)


@contextmanager
def _working_folder(folder: Path):
    # jobs take their default experiment name from the working folder, as the SDK does
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def ml_requests(corpus: Path, rel: str, family: str, group: str, work: Path) -> tuple[list[dict], str | None]:
    """(requests ml sent, the error it stopped with or None) for the spec at corpus/rel."""
    import yaml

    from cli.client.resources import WorkspaceId
    from cli.client.workspace_client import WorkspaceClient
    from cli.errors import MLError
    from cli.spec.loader import load_spec

    path = spec_file(corpus, rel)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    sets = [f"{k}={v}" for k, v in overrides_for(rel, family, data if isinstance(data, dict) else {})]
    transport = StandInTransport()
    client = WorkspaceClient(BASE_URL, WorkspaceId(SUBSCRIPTION, RESOURCE_GROUP, WORKSPACE), transport,
                             max_retries=0, sleep=lambda seconds: None)
    try:
        spec = load_spec(path, group=group, overrides=sets)
        with _working_folder(work), client:
            _create(client, group, spec)
        error = None
    except MLError as exc:
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - a crash is a finding the comparison reports, not a reason to stop
        error = f"CRASH {type(exc).__name__}: {exc}"
    return transport.sent, error


def _create(client, group: str, spec) -> None:
    """What the `create` verb of `group` does with a loaded spec file (no flags)."""
    from cli.operations import (batch_deployment, batch_endpoint, component, compute, data, datastore, environment,
                                job, model, online_deployment, online_endpoint)

    if group == "batch-endpoint":
        batch_endpoint.create(client, spec.data)
    elif group == "batch-deployment":
        batch_deployment.create(client, spec.data)
    elif group == "component":
        component.create(client, spec)
    elif group == "job":
        job.create(client, spec.data, source=spec)
    elif group == "compute":
        compute.create(client, spec.data)
    elif group == "online-endpoint":
        online_endpoint.create(client, spec.data)
    elif group == "online-deployment":
        online_deployment.create(client, spec.data, None)
    elif group == "datastore":
        datastore.create(client, spec.data)
    else:
        {"data": data, "model": model, "environment": environment}[group].create(client, spec.data)
