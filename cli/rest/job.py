"""Jobs: a command job spec <-> the JobBase body whose properties are a CommandJob."""

from __future__ import annotations

from cli.errors import NotSupportedError
from cli.rest.common import asset_reference, compact, duration_seconds, iso_duration, resource_fields, string_values
from cli.rest.job_io import input_from_rest, input_to_rest, output_from_rest, output_to_rest

_DISTRIBUTIONS = {"pytorch": "PyTorch", "mpi": "Mpi", "tensorflow": "TensorFlow", "ray": "Ray"}
_DISTRIBUTION_FIELDS = {"process_count_per_instance": "processCountPerInstance", "worker_count": "workerCount",
                        "parameter_server_count": "parameterServerCount", "port": "port", "address": "address",
                        "include_dashboard": "includeDashboard", "dashboard_port": "dashboardPort",
                        "head_node_additional_args": "headNodeAdditionalArgs",
                        "worker_node_additional_args": "workerNodeAdditionalArgs"}
_IDENTITIES = {"managed": "Managed", "managed_identity": "Managed", "user_identity": "UserIdentity", "aml_token": "AMLToken"}
_IDENTITY_SPELLINGS = {"amltoken": "aml_token", "useridentity": "user_identity", "managedidentity": "managed"}
_RESOURCES = {"instance_count": "instanceCount", "instance_type": "instanceType", "shm_size": "shmSize",
              "docker_args": "dockerArgs", "properties": "properties"}


def _renamed(data: dict | None, names: dict) -> dict:
    return {wire: data[ours] for ours, wire in names.items() if data and data.get(ours) is not None}


def distribution_to_rest(distribution: dict | None) -> dict | None:
    if not distribution:
        return None
    kind = distribution["type"].lower()
    if kind == "tensorflow":  # the SDK's TensorFlowDistribution defaults parameter_server_count to 0
        distribution = {"parameter_server_count": 0, **distribution}
    return {"distributionType": _DISTRIBUTIONS[kind], **_renamed(distribution, _DISTRIBUTION_FIELDS)}


def identity_to_rest(identity: dict | None) -> dict | None:
    if not identity:
        return None
    kind = identity["type"].lower()
    return compact({"identityType": _IDENTITIES[_IDENTITY_SPELLINGS.get(kind, kind)], "clientId": identity.get("client_id"),
                    "objectId": identity.get("object_id"), "resourceId": identity.get("msi_resource_id")})


# properties only the service sets; the SDK removes them from what it sends
_SERVICE_SET = ("_azureml.ComputeTargetType",)
_SERVICE_TYPES = {"jupyter_lab": "JupyterLab", "vs_code": "VSCode", "tensor_board": "TensorBoard", "ssh": "SSH",
                  "custom": "Custom", "tracking": "Tracking", "studio": "Studio"}
# service keys the SDK carries in the service's properties
_SERVICE_PROPERTIES = {"log_dir": "logDir", "ssh_public_keys": "sshPublicKeys"}


def services_to_rest(services: dict | None) -> dict | None:
    """`services:` (interactive endpoints) as the SDK's JobService entries."""
    if not services:
        return None
    result = {}
    for name, service in services.items():
        service = service or {}
        properties = {**string_values(service.get("properties")),
                      **{wire: str(service[ours]) for ours, wire in _SERVICE_PROPERTIES.items() if service.get(ours)}}
        kind = service.get("type")
        result[name] = compact({
            "jobServiceType": _SERVICE_TYPES.get(kind, kind) if kind else None,
            "port": service.get("port"), "endpoint": service.get("endpoint"),
            "nodes": {"nodesValueType": "All"} if service.get("nodes") else None,
            "properties": properties or None,
        })
    return result


def resources_to_rest(resources: dict | None) -> dict | None:
    if not resources:
        return None
    return {**_renamed(resources, _RESOURCES), "properties": resources.get("properties") or {}}


def to_rest(spec: dict, refs) -> dict:
    """A command job's PUT body; the job name goes in the URL, not here."""
    kind = spec.get("type", "command")
    if kind == "sweep":
        from cli.rest.sweep import to_rest as sweep_to_rest

        return sweep_to_rest(spec, refs)
    if kind != "command":
        raise NotSupportedError(f"'{kind}' jobs are not supported by ml yet (it runs command, pipeline and sweep jobs)",
                                hint="az ml job create runs them on Azure")
    queue = spec.get("queue_settings") or {}
    timeout = (spec.get("limits") or {}).get("timeout")
    return {"properties": compact({
        "jobType": "Command",
        "command": spec["command"],
        "codeId": refs.code_id(spec["code"]) if spec.get("code") else None,
        "environmentId": refs.asset_id(spec["environment"], "environments") if isinstance(spec.get("environment"), str) else None,
        "computeId": refs.compute_id(spec.get("compute")),
        "displayName": spec.get("display_name"),
        "description": spec.get("description"),
        "experimentName": spec.get("experiment_name"),
        "tags": string_values(spec.get("tags")),
        "properties": string_values({k: v for k, v in (spec.get("properties") or {}).items() if k not in _SERVICE_SET}),
        "inputs": {name: input_to_rest(value, refs) for name, value in (spec.get("inputs") or {}).items()},
        "outputs": {name: output_to_rest(value) for name, value in (spec.get("outputs") or {}).items()},
        "environmentVariables": string_values(spec.get("environment_variables")),
        "resources": resources_to_rest(spec.get("resources")),
        "distribution": distribution_to_rest(spec.get("distribution")),
        "limits": {"jobLimitsType": "Command", "timeout": iso_duration(timeout)} if timeout else None,
        "identity": identity_to_rest(spec.get("identity")),
        "queueSettings": {"jobTier": queue["job_tier"].capitalize()} if queue.get("job_tier") else None,
        "services": services_to_rest(spec.get("services")),
        "isArchived": False,
    })}


def _distribution_from_rest(rest: dict | None) -> dict | None:
    if not rest:
        return None
    kinds = {wire: ours for ours, wire in _DISTRIBUTIONS.items()}
    fields = {wire: ours for ours, wire in _DISTRIBUTION_FIELDS.items()}
    return {"type": kinds.get(rest["distributionType"], rest["distributionType"]),
            **{fields[k]: v for k, v in rest.items() if k in fields}}


def from_rest(body: dict) -> dict:
    """The job as `ml job show` prints it."""
    props = body.get("properties") or {}
    if props.get("jobType") == "Sweep":
        from cli.rest.sweep import from_rest as sweep_from_rest

        return sweep_from_rest(body)
    resources = props.get("resources")
    identity = props.get("identity")
    queue = props.get("queueSettings")
    timeout = (props.get("limits") or {}).get("timeout")
    return compact({
        "name": body.get("name"), **resource_fields(body),
        "type": (props.get("jobType") or "command").lower(),
        "status": props.get("status"),
        "display_name": props.get("displayName"), "description": props.get("description"),
        "experiment_name": props.get("experimentName"),
        "command": props.get("command"),
        "code": "azureml:" + props["codeId"] if props.get("codeId") else None,
        "environment": asset_reference(props.get("environmentId")),
        "compute": asset_reference(props.get("computeId")),
        "inputs": {name: input_from_rest(value) for name, value in (props.get("inputs") or {}).items()},
        "outputs": {name: output_from_rest(value) for name, value in (props.get("outputs") or {}).items()},
        "environment_variables": props.get("environmentVariables") or {},
        "resources": {ours: resources[wire] for ours, wire in _RESOURCES.items() if resources.get(wire) not in (None, {})} if resources else None,
        "distribution": _distribution_from_rest(props.get("distribution")),
        "limits": {"timeout": duration_seconds(timeout)} if timeout else None,
        "identity": {"type": next(k for k, v in _IDENTITIES.items() if v == identity["identityType"]),
                     **compact({"client_id": identity.get("clientId"), "object_id": identity.get("objectId"),
                                "msi_resource_id": identity.get("resourceId")})} if identity else None,
        "queue_settings": {"job_tier": queue["jobTier"].lower()} if queue and queue.get("jobTier") else None,
        "services": props.get("services"),
        "tags": props.get("tags") or {}, "properties": props.get("properties") or {},
    })
