"""Jobs: create (uploads, then PUT), show, list, cancel, archive/restore, update, download.

Names and defaults follow the SDK (`entities/_job/to_rest_functions.py` `generate_defaults`): a job
without a name gets `<adjective>_<noun>_<10 characters>`, its display name is its name, and its
experiment is the working folder's name. Local job inputs go to the default datastore under a fresh
anonymous name, and the input then points at `azureml://datastores/<ds>/paths/...`, as the SDK's
`_upload_and_generate_remote_uri` does.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

from cli.errors import MLError, ResourceNotFoundError, UsageError
from cli.rest.references import ReferenceResolver
from cli.spec.paths import is_local_path

SUFFIX_CHARS = "bcdfghjklmnpqrstvwxyz0123456789"  # the SDK's: no vowels, so no words
ADJECTIVES = ("amber", "brave", "calm", "clever", "crisp", "eager", "fluffy", "gentle", "golden", "happy",
              "honest", "jolly", "keen", "kind", "lively", "lucid", "mellow", "nimble", "patient", "plucky",
              "polite", "quiet", "quick", "shiny", "sincere", "sleepy", "stoic", "sunny", "tender", "witty")
NOUNS = ("apple", "badger", "basil", "cactus", "cherry", "coconut", "comet", "fennel", "fig", "garden",
         "ginger", "heron", "island", "kettle", "lemon", "lizard", "mango", "maple", "nutmeg", "otter",
         "pepper", "pigeon", "plum", "quince", "river", "salmon", "spoon", "tangelo", "turnip", "walrus")
CURATED_PREFIX = "AzureML-"  # curated environments: the service expands their short form
MUTABLE = ("description", "display_name", "tags")
TERMINAL = ("Completed", "Failed", "Canceled", "NotResponding", "Paused")
DEFAULT_OUTPUT = "default"  # the SDK's name for a job's artifacts and logs


def generate_name(rng: random.Random = random) -> str:
    suffix = "".join(rng.choices(SUFFIX_CHARS, k=10))
    return f"{rng.choice(ADJECTIVES)}_{rng.choice(NOUNS)}_{suffix}"


def default_experiment_name(cwd: Optional[Path] = None) -> str:
    return (cwd or Path.cwd()).resolve().stem.replace(" ", "") or "Default"


class JobReferences(ReferenceResolver):
    """A resolver that passes curated environments (`azureml:AzureML-...`) through, as the SDK does."""

    def asset_id(self, value: str, asset_type: str) -> str:
        short = value.removeprefix("azureml:")
        if asset_type == "environments" and short.startswith(CURATED_PREFIX):
            return f"azureml:{short}"
        return super().asset_id(value, asset_type)


# ---- create


def create(client, spec: dict, *, name: Optional[str] = None, source=None) -> dict:
    """Upload what is local, PUT the job; returns the created job as `show` prints it. `source` is the
    loaded Spec `spec` came from: a pipeline's step component files are read from it."""
    from cli.operations.assets import translate
    from cli.rest import job as rest

    spec = dict(spec)
    if spec.get("type") == "pipeline":
        from cli.operations.pipeline_job import prepare_steps
        from cli.rest import pipeline_job as rest

        spec = prepare_steps(client, spec, source)
    spec["name"] = name or spec.get("name") or generate_name()
    spec.setdefault("experiment_name", default_experiment_name())
    spec.setdefault("display_name", spec["name"])
    _check_compute(client, spec.get("compute"))
    # a sweep's code and environment are its trial's
    runnable = spec
    if spec.get("type") == "sweep" and isinstance(spec.get("trial"), dict):
        runnable = spec["trial"] = dict(spec["trial"])
    uploads = _upload_local(client, spec, runnable)
    if isinstance(runnable.get("environment"), dict):
        from cli.operations.environment import register_inline

        runnable["environment"] = "azureml:" + register_inline(client, runnable["environment"])
    body = translate(client, lambda refs: rest.to_rest(spec, refs), uploads, JobReferences)
    return shown_job(client.put(client.workspace.job(spec["name"]), body) or {})


def _check_compute(client, compute: Optional[str]) -> None:
    """A named compute must exist: say so before the job is sent, with the command that makes one."""
    if not compute or compute.startswith(("/subscriptions/", "azureml:/")) or compute in ("local", "azureml:local"):
        return
    short = compute.removeprefix("azureml:")
    try:
        client.get(client.workspace.compute(short))
    except ResourceNotFoundError:
        raise ResourceNotFoundError(f"compute '{short}' does not exist in this workspace",
                                    hint=f"create it first: ml compute create --name {short} --type amlcompute"
                                         " --max-instances 4, or leave out `compute:` to run on the default") from None


def _upload_local(client, spec: dict, runnable: dict) -> dict:
    """{local path: what the body names}: datastore URIs of local inputs; local code is uploaded and
    `runnable["code"]` becomes its version id (so an input of the same folder is uploaded on its own).
    `runnable` is the spec, or a sweep's trial."""
    from cli.client.datastore_upload import upload_to_datastore
    from cli.client.uploads import upload_code

    uploads = {}
    if isinstance(runnable.get("code"), str) and is_local_path(runnable["code"]):
        runnable["code"] = upload_code(client, runnable["code"])
    ports = [spec.get("inputs") or {}] + [node.get("inputs") or {} for node in (spec.get("jobs") or {}).values()
                                          if isinstance(node, dict)]  # a pipeline's steps' inputs too
    for value in (value for inputs in ports for value in inputs.values()):
        path = value.get("path") if isinstance(value, dict) else None
        if isinstance(path, str) and is_local_path(path) and path not in uploads:
            # Named like the SDK's anonymous input uploads: a fresh UUID, version 1.
            uploads[path] = upload_to_datastore(client, path, name=str(uuid.uuid4()), version="1").uri
    return uploads


# ---- reads


def shown_job(body: dict) -> dict:
    """The job as `show` prints it, a SAS in an input or output URL masked (the stored body keeps it)."""
    from cli.redact import redact
    from cli.rest.job import from_rest

    shown = from_rest(body)
    for ports in (shown.get("inputs"), shown.get("outputs")):
        for port in (ports or {}).values():
            if isinstance(port, dict) and isinstance(port.get("path"), str):
                port["path"] = redact(port["path"])
    return shown


def get_body(client, name: str) -> dict:
    try:
        return client.get(client.workspace.job(name)) or {}
    except ResourceNotFoundError:
        raise ResourceNotFoundError(f"job '{name}' does not exist in this workspace",
                                    hint="ml job list shows the jobs there are") from None


def show(client, name: str) -> dict:
    """The job as az prints it, with its latest MLflow metrics when it logged any."""
    body = get_body(client, name)
    shown = shown_job(body)
    if shown.get("type") == "pipeline":
        from cli.operations.pipeline_job import steps_shown
        from cli.rest.pipeline_job import from_rest as pipeline_from_rest

        shown.update(pipeline_from_rest(body.get("properties") or {}))
        shown["steps"] = steps_shown(client, name, body)
    metrics = latest_metrics(client, name)
    if metrics:
        shown["metrics"] = metrics
    return shown


def latest_metrics(client, name: str) -> dict:
    """{metric: latest value} of the job's MLflow run, from the workspace's MLflow REST API (`runs/get`,
    on the host its tracking URI names); {} when the job logged nothing."""
    url = f"{client.service_url('api')}/mlflow/v1.0{client.workspace.arm_id}/api/2.0/mlflow/runs/get"
    try:
        run = (client.get(url, params={"run_id": name}, api_version="") or {}).get("run") or {}
    except ResourceNotFoundError:  # a job that never logged has no run
        return {}
    return {m["key"]: m.get("value") for m in (run.get("data") or {}).get("metrics") or () if "key" in m}


def list_jobs(client, *, max_results: Optional[int], include_archived: bool = False, archived_only: bool = False,
              parent: Optional[str] = None) -> Tuple[List[dict], bool]:
    """(jobs newest first, whether more were left out by max_results)."""
    from cli.operations.assets import list_view

    if parent:
        return _children(client, parent, max_results)
    params = {"listViewType": list_view(include_archived, archived_only)}
    limit = None if max_results is None else max_results + 1  # one more tells whether we capped
    items = [shown_job(item) for item in client.list(client.workspace.job(), params, max_results=limit)]
    capped = max_results is not None and len(items) > max_results
    return items[:max_results] if capped else items, capped


def _children(client, parent: str, max_results: Optional[int]) -> Tuple[List[dict], bool]:
    """Child jobs come from run history, as in the SDK (`get_run_children`)."""
    from cli.operations.job_stream import history_base

    get_body(client, parent)
    base = history_base(client)
    try:
        answer = client.get(f"{base}/runs/{parent}/children", api_version="v1.0") or {}
    except ResourceNotFoundError:
        raise MLError("this workspace's run history does not list child jobs (--parent-job-name)") from None
    names = [run.get("runId") for run in answer.get("value") or () if run.get("runId")]
    capped = max_results is not None and len(names) > max_results
    names = names[:max_results] if capped else names
    return [shown_job(get_body(client, child)) for child in names], capped


# ---- writes


def cancel(client, name: str, *, wait: bool = True) -> None:
    get_body(client, name)
    client.post(client.workspace.job(name) + "/cancel", None, wait=wait)


def set_archived(client, name: str, archived: bool) -> dict:
    body = get_body(client, name)
    body["properties"] = {**(body.get("properties") or {}), "isArchived": archived}
    return shown_job(client.put(client.workspace.job(name), _writable(body)) or {})


def update(client, name: str, overrides: Iterable[str]) -> dict:
    """Apply `--set` to the shown job; only description, display_name and tags may change."""
    from cli.rest.common import string_values
    from cli.rest.job import from_rest
    from cli.spec.overrides import updated

    body = get_body(client, name)
    after, changed = updated(from_rest(body), overrides, MUTABLE)
    if changed:
        raise UsageError(f"job '{name}': {', '.join(changed)} cannot change; only {', '.join(MUTABLE)} can be updated")
    props = dict(body.get("properties") or {})
    props.update(description=after.get("description"), displayName=after.get("display_name"),
                 tags=string_values(after.get("tags")))
    body["properties"] = {k: v for k, v in props.items() if v is not None}
    return shown_job(client.put(client.workspace.job(name), _writable(body)) or {})


def _writable(body: dict) -> dict:
    """What a PUT of an existing job sends: its properties without what only the service sets."""
    props = {k: v for k, v in (body.get("properties") or {}).items() if k not in ("status", "services")}
    return {"properties": props}


# ---- download


def download(client, name: str, *, path: Path, output_name: Optional[str] = None, all_: bool = False,
             overwrite: bool = False, info=lambda message: None) -> List[Path]:
    """Outputs into <path>/named-outputs/<name>, logs and artifacts into <path>/artifacts (the SDK's layout).

    Existing files are replaced only with `overwrite`; a symlink in the destination is never written through."""
    from cli.rest.job import from_rest

    if output_name and all_:
        raise UsageError("give --output-name or --all, not both")
    shown = from_rest(get_body(client, name))
    if shown.get("status") not in TERMINAL:
        raise MLError(f"job '{name}' is {shown.get('status')}; download is possible once it has ended "
                      f"({', '.join(TERMINAL)})", hint=f"ml job stream -n {name} waits for it")
    outputs = shown.get("outputs") or {}
    if output_name and output_name != DEFAULT_OUTPUT and output_name not in outputs:
        raise ResourceNotFoundError(f"job '{name}' has no output '{output_name}'"
                                    + (f" (it has: {', '.join(sorted(outputs))})" if outputs else ""))
    wanted = [output_name] if output_name else ([DEFAULT_OUTPUT, *sorted(outputs)] if all_ else [DEFAULT_OUTPUT])
    written: List[Path] = []
    for output in wanted:
        if output == DEFAULT_OUTPUT:
            files = _download_artifacts(client, name, outputs.get(DEFAULT_OUTPUT), path / "artifacts", overwrite)
        else:
            uri = (outputs[output] or {}).get("path") or _default_output_uri(client, name, output)
            files = _download_folder(client, uri, path / "named-outputs" / output, overwrite)
        info(f"Downloaded {len(files)} file{'s' if len(files) != 1 else ''} of '{output}'")
        written += files
    if not written:
        raise MLError(f"nothing was downloaded for job '{name}': "
                      + ("its output is empty" if output_name else "it has no logs or outputs stored"))
    return written


def _default_output_uri(client, job: str, output: str) -> str:
    from cli.operations.uploading import default_datastore

    return f"azureml://datastores/{default_datastore(client).get('name', 'workspaceblobstore')}/paths/azureml/{job}/{output}/"


def _download_folder(client, uri: str, destination: Path, overwrite: bool = False) -> List[Path]:
    """The files below `uri`, written below `destination` (whatever the blob folder is called)."""
    import os

    import tempfile

    from cli.operations import blob_files

    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".download-") as scratch:
        try:
            files = blob_files.download(client, uri, Path(scratch))
        except (ResourceNotFoundError, UsageError):
            return []
        if not files:
            return []
        top = [p for p in Path(scratch).iterdir()]
        source = top[0] if len(top) == 1 and top[0].is_dir() else Path(scratch)
        targets = blob_files.check_targets(destination, [f.relative_to(source).as_posix() for f in files],
                                           overwrite=overwrite)
        for file, target in zip(files, targets):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(file, target)  # replaces a file (or link) there, never writes through it
        return targets


def _download_artifacts(client, job: str, default: Optional[dict], destination: Path,
                        overwrite: bool = False) -> List[Path]:
    """The job's artifact store (logs, outputs/, MLflow artifacts); else the log files run history lists."""
    from cli.operations import blob_files

    if (default or {}).get("path"):
        return _download_folder(client, default["path"], destination, overwrite)
    from cli.operations.uploading import default_datastore

    written: List[Path] = []
    # The whole run folder, as the SDK's download of the default output: user_logs/, system_logs/,
    # outputs/, logs/ and MLflow artifacts at its root. Azure keeps it in workspaceartifactstore; a
    # workspace without one, in its default datastore.
    for datastore in ("workspaceartifactstore", default_datastore(client).get("name", "workspaceblobstore")):
        written = _download_folder(client, f"azureml://datastores/{datastore}/paths/ExperimentRun/dcid.{job}",
                                   destination, overwrite)
        if written:
            return written
    from cli.operations.job_stream import history_base, run_details

    logs = sorted((run_details(client, history_base(client), job).get("logFiles") or {}).items())
    targets = blob_files.check_targets(destination, [log_name for log_name, _ in logs], overwrite=overwrite)
    for (_, url), target in zip(logs, targets):
        client.save_blob(url, lambda chunks, to=target: blob_files.write_file(to, chunks))
        written.append(target)
    return written
