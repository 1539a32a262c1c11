"""Batch endpoints: create/update (PUT), show, list, delete, invoke (a POST to the scoring URI that
starts a batch scoring job, as on Azure), list-jobs.

Invoke follows the SDK's wire shape (operations/_batch_endpoint_operations.py): the body is
`{"properties": {"inputData": {<name>: <JobInput>}, "outputDataset"?, ...}}`, the deployment goes in the
`azureml-model-deployment` header, and the bearer token is one for Azure ML's data plane."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Optional

from cli.errors import UsageError
from cli.spec.paths import is_local_path

ML_SCOPE = "https://ml.azure.com/.default"  # the audience of batch scoring URIs
INPUT_TYPES = {"uri_folder": "UriFolder", "uri_file": "UriFile"}


def create(client, spec: dict, *, wait: bool = True) -> Optional[dict]:
    from cli.rest import batch

    location = (client.get(client.workspace.arm_id) or {}).get("location")
    result = client.put(client.workspace.batch_endpoint(spec["name"]), batch.endpoint_to_rest(spec, location), wait=wait)
    return batch.endpoint_from_rest(result) if result else None


def update(client, spec: dict, *, wait: bool = True) -> Optional[dict]:
    """az's update: the endpoint must exist; its default deployment stays unless the spec names one."""
    from cli.rest import batch

    old = client.get(client.workspace.batch_endpoint(spec["name"])) or {}
    default = ((old.get("properties") or {}).get("defaults") or {}).get("deploymentName")
    if default and not (spec.get("defaults") or {}).get("deployment_name"):
        spec = {**spec, "defaults": {"deployment_name": default}}
    result = client.put(client.workspace.batch_endpoint(spec["name"]),
                        batch.endpoint_to_rest(spec, old.get("location")), wait=wait)
    return batch.endpoint_from_rest(result) if result else None


def show(client, name: str) -> dict:
    from cli.rest import batch

    return batch.endpoint_from_rest(client.get(client.workspace.batch_endpoint(name)))


def list_endpoints(client) -> list:
    from cli.rest import batch

    return [batch.endpoint_from_rest(item) for item in client.list(client.workspace.batch_endpoint())]


def delete(client, name: str, *, wait: bool = True) -> None:
    client.get(client.workspace.batch_endpoint(name))  # missing: exit 3, as az has it
    client.delete(client.workspace.batch_endpoint(name), wait=wait)


def _input(client, path: str, input_type: Optional[str]) -> dict:
    """--input as a JobInput: a local file or folder (uploaded), azureml:name:version data, or a URI."""
    from cli.client.datastore_upload import upload_to_datastore
    from cli.rest.references import ReferenceResolver

    if is_local_path(path):
        from pathlib import Path

        local = Path(path).expanduser()
        if not local.exists():
            raise UsageError(f"--input {path}: no such file or folder")
        kind = input_type or ("uri_file" if local.is_file() else "uri_folder")
        uri = upload_to_datastore(client, str(local.resolve()), name=str(uuid.uuid4()), version="1").uri
        if kind == "uri_folder" and not uri.endswith("/"):
            uri += "/"
    elif path.startswith("azureml:") and not path.startswith("azureml://"):
        kind = input_type or "uri_folder"
        uri = ReferenceResolver(client.workspace.arm_id, latest={}).asset_id(path, "data") \
            if "@" not in path else _latest_data(client, path)
    else:
        kind = input_type or ("uri_file" if path.rsplit("/", 1)[-1].count(".") else "uri_folder")
        uri = path
    if kind not in INPUT_TYPES:
        raise UsageError(f"--input-type {kind}: expected uri_folder or uri_file")
    return {INPUT_TYPES[kind]: {"jobInputType": INPUT_TYPES[kind], "uri": uri}}


def _latest_data(client, path: str) -> str:
    from cli.operations.assets import latest_version

    name = path.removeprefix("azureml:").split("@", 1)[0]
    return f"{client.workspace.arm_id}/data/{name}/versions/{latest_version(client, 'data', name)}"


# the SDK's BatchJob wire types (BatchJobSchema): data inputs and outputs by type, anything else a Literal
WIRE_TYPES = {"uri_folder": "UriFolder", "uri_file": "UriFile", "mltable": "MLTable", "mlflow_model": "MLFlowModel",
              "custom_model": "CustomModel", "triton_model": "TritonModel"}
LITERAL_TYPES = ("string", "integer", "number", "boolean")


def _named_input(client, name: str, value, base: Path) -> dict:
    """One of invoke's named inputs (az's --file `inputs:`) as the SDK sends it: a data input (a local path
    relative to the file, uploaded; azureml:<name>:<version>; or a URI) or a Literal."""
    if not isinstance(value, dict):
        return {"jobInputType": "Literal", "value": value}
    kind = str(value.get("type") or ("uri_folder" if value.get("path") else "string")).lower()
    if kind in LITERAL_TYPES:
        literal = value.get("value", value.get("default"))
        if literal is None:
            raise UsageError(f"input '{name}': a {kind} input needs a value (value: or default:)")
        return {"jobInputType": "Literal", "value": literal}
    if kind not in WIRE_TYPES:
        raise UsageError(f"input '{name}': type '{kind}' is not one batch jobs take"
                         f" ({', '.join([*WIRE_TYPES, *LITERAL_TYPES])})")
    path = value.get("path")
    if not isinstance(path, str) or not path:
        raise UsageError(f"input '{name}': a {kind} input needs a path")
    if is_local_path(path):
        from cli.client.datastore_upload import upload_to_datastore

        local = (base / Path(path).expanduser()).resolve()
        if not local.exists():
            raise UsageError(f"input '{name}': no such file or folder: {path}")
        uri = upload_to_datastore(client, str(local), name=str(uuid.uuid4()), version="1").uri
        if local.is_dir() and not uri.endswith("/"):
            uri += "/"
    elif path.startswith("azureml:") and not path.startswith("azureml://"):
        asset = "models" if kind.endswith("_model") else "data"
        if "@" in path:
            uri = _latest_asset(client, path, asset)
        else:
            from cli.rest.references import ReferenceResolver

            uri = ReferenceResolver(client.workspace.arm_id, latest={}).asset_id(path, asset)
    else:
        uri = path
    return {"jobInputType": WIRE_TYPES[kind], "uri": uri}


def _named_output(name: str, value) -> dict:
    value = value if isinstance(value, dict) else {}
    kind = str(value.get("type") or "uri_folder").lower()
    if kind not in ("uri_folder", "uri_file", "mlflow_model", "custom_model", "mltable"):
        raise UsageError(f"output '{name}': type '{kind}' is not one batch jobs write")
    wire = {"jobOutputType": WIRE_TYPES[kind]}
    if value.get("mode"):
        wire["mode"] = value["mode"]
    if value.get("path"):
        if is_local_path(value["path"]):
            raise UsageError(f"output '{name}': give a datastore path (azureml://datastores/<ds>/paths/<path>)"
                             " for an output, not a local one")
        wire["uri"] = value["path"]
    return wire


def _latest_asset(client, path: str, asset: str) -> str:
    from cli.operations.assets import latest_version

    name = path.removeprefix("azureml:").split("@", 1)[0]
    return f"{client.workspace.arm_id}/{asset}/{name}/versions/{latest_version(client, asset, name)}"


def io_from_file(file: Path) -> tuple[dict, dict]:
    """az's `invoke --file`: a YAML with `inputs:` and `outputs:` by name."""
    from cli.spec.loader import read_spec_bytes
    from cli.spec.yaml_source import YamlSourceError, parse_yaml

    try:
        data, _ = parse_yaml(read_spec_bytes(file), str(file))
    except OSError as error:
        raise UsageError(f"--file {file}: {error.strerror or error}") from None
    except YamlSourceError as error:
        raise UsageError(f"--file {file}: {error}") from None
    if not isinstance(data, dict) or set(data) - {"inputs", "outputs", "$schema"}:
        raise UsageError(f"--file {file}: expected `inputs:` and/or `outputs:` by name")
    inputs, outputs = data.get("inputs") or {}, data.get("outputs") or {}
    if not isinstance(inputs, dict) or not isinstance(outputs, dict):
        raise UsageError(f"--file {file}: `inputs:` and `outputs:` map names to inputs and outputs")
    return inputs, outputs


def apply_io_settings(assignments: list, inputs: dict, outputs: dict) -> list:
    """Take invoke's `--set inputs.<name>.<key>=value` / `outputs.<name>.<key>=value` into `inputs`/`outputs`;
    the other assignments (job settings) are returned."""
    rest = []
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        side, _, path = key.strip().partition(".")
        if not sep or side not in ("inputs", "outputs"):
            rest.append(assignment)
            continue
        port, _, field = path.partition(".")
        if not port:
            raise UsageError(f"--set {assignment}: give {side}.<name>[.<key>]=value")
        target = inputs if side == "inputs" else outputs
        current = target.get(port)
        if not field:
            target[port] = value
            continue
        current = dict(current) if isinstance(current, dict) else ({} if current is None else {"value": current})
        current[field] = value
        target[port] = current
    return rest


def invoke(client, name: str, *, deployment: Optional[str] = None, input_path: Optional[str] = None,
           input_type: Optional[str] = None, job_name: Optional[str] = None,
           experiment_name: Optional[str] = None, output_path: Optional[str] = None,
           output_file_name: Optional[str] = None, settings: Optional[dict] = None,
           inputs: Optional[dict] = None, outputs: Optional[dict] = None, base: Optional[Path] = None) -> dict:
    """Start a batch job; returns the job as `ml job show` prints it. `settings`: the BatchJob's
    miniBatchSize, errorThreshold, retrySettings, compute, outputFileName (job_settings). `inputs` and
    `outputs` (az's --file, by name, local paths relative to `base`) are sent as the SDK's `inputs=`/`outputs=`
    (a pipeline component deployment binds them to its component's ports); `input_path` as its `input=`."""
    from cli.operations.job import shown_job

    endpoint = client.get(client.workspace.batch_endpoint(name)) or {}
    scoring_uri = (endpoint.get("properties") or {}).get("scoringUri")
    if not scoring_uri:
        raise UsageError(f"batch endpoint '{name}' has no scoring URI yet")
    if deployment:
        client.get(client.workspace.batch_deployment(name, deployment))  # a wrong name: exit 3 before the POST
    if input_path and inputs:
        raise UsageError("give either --input or named inputs (--file, --set inputs.<name>...), not both")
    base = base or Path.cwd()
    if inputs:
        props = {"inputData": {port: _named_input(client, port, value, base) for port, value in inputs.items()}}
    elif input_path:
        props = {"inputData": _input(client, input_path, input_type)}
    else:
        props = {}  # a pipeline component without inputs; a model deployment answers that it needs one
    if outputs:
        props["outputData"] = {port: _named_output(port, value) for port, value in outputs.items()}
    props.update(settings or {})
    if output_path:
        datastore, _, path = output_path.removeprefix("azureml://datastores/").partition("/paths/")
        props["outputDataset"] = {"datastoreId": client.workspace.datastore(datastore), "path": path}
    if output_file_name:
        props["outputFileName"] = output_file_name
    if job_name:
        props["jobName"] = job_name  # the SDK's BatchJobSchema field for --job-name
    if experiment_name:
        props["properties"] = {"experimentName": experiment_name}
    headers = {"azureml-model-deployment": deployment} if deployment else {}
    answered = client.post_with_token(scoring_uri, {"properties": props}, scope=ML_SCOPE, headers=headers) or {}
    job = answered.get("name")
    return shown_job(client.get(client.workspace.job(job))) if job else answered


JOB_SETTINGS = ("output_file_name", "mini_batch_size", "error_threshold", "instance_count",
                "retry_settings.max_retries", "retry_settings.timeout")


def job_settings(assignments: list, mini_batch_size: Optional[int] = None,
                 instance_count: Optional[int] = None) -> dict:
    """The BatchJob fields of invoke's `--set key=value` (the SDK's BatchJob schema, on the wire as it
    sends them), --mini-batch-size and --instance-count."""
    values: dict = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        key = key.strip().removeprefix("compute.")
        if not sep or key not in JOB_SETTINGS:
            raise UsageError(f"--set {assignment}: give key=value with one of {', '.join(JOB_SETTINGS)}")
        if key == "output_file_name":
            values[key] = value
            continue
        try:
            values[key] = int(value)
        except ValueError:
            raise UsageError(f"--set {assignment}: {key} must be an integer") from None
    if mini_batch_size is not None:
        values["mini_batch_size"] = mini_batch_size
    if instance_count is not None:
        values["instance_count"] = instance_count
    wire: dict = {}
    if "output_file_name" in values:
        wire["outputFileName"] = values["output_file_name"]
    if "mini_batch_size" in values:
        wire["miniBatchSize"] = values["mini_batch_size"]
    if "error_threshold" in values:
        wire["errorThreshold"] = values["error_threshold"]
    if "instance_count" in values:
        wire["compute"] = {"instanceCount": values["instance_count"]}
    retry = {k: values[f"retry_settings.{k}"] for k in ("max_retries", "timeout") if f"retry_settings.{k}" in values}
    if retry:
        wire["retrySettings"] = {**({"maxRetries": retry["max_retries"]} if "max_retries" in retry else {}),
                                 **({"timeout": f"PT{retry['timeout']}S"} if "timeout" in retry else {})}
    return wire


def _shown(item: dict) -> dict:
    """A listed job: a JobBase (the local workspace answers these) as `ml job show` prints it; Azure's
    BatchJob shape, which has no jobType, as its name, status and times."""
    from cli.operations.job import shown_job
    from cli.rest.common import compact

    props = item.get("properties") or {}
    if "jobType" in props:
        return shown_job(item)
    return compact({"name": item.get("name"), "id": item.get("id"), "status": props.get("status"),
                    "start_time": props.get("startTime"), "end_time": props.get("endTime")})


JOBS_API_VERSION = "2020-09-01-dataplanepreview"  # the SDK's, for the data plane's job list


def list_jobs(client, name: str) -> list:
    """The endpoint's jobs, newest first, as `ml job list` prints them (read on the workspace's API
    host, as the SDK's list_jobs does)."""
    client.get(client.workspace.batch_endpoint(name))  # a missing endpoint: exit 3
    url = f"{client.service_url('api')}{client.workspace.batch_endpoint(name)}/jobs"
    jobs, seen = [], set()
    while url and url not in seen:
        seen.add(url)
        page = client.get(url, api_version=JOBS_API_VERSION) or {}
        jobs.extend(_shown(item) for item in page.get("value") or ())
        url = page.get("nextLink")
    return jobs
