"""Computes: amlcompute, computeinstance, kubernetes, virtualmachine, synapsespark -> ComputeResource."""

from __future__ import annotations

from cli.rest.common import compact, duration_seconds, iso_duration, resource_fields

_TYPES = {"amlcompute": "AmlCompute", "computeinstance": "ComputeInstance",
          "kubernetes": "Kubernetes", "virtualmachine": "VirtualMachine", "synapsespark": "SynapseSpark"}
_DEFAULT_SIZE = "STANDARD_DS3_V2"  # the SDK's ComputeDefaults.VMSIZE
# the SDK's AmlCompute defaults (ComputeDefaults): the contract requires maxNodeCount
_MIN_NODES, _MAX_NODES, _IDLE_SECONDS = 0, 4, 120
_SSH_PORT = 22  # the SDK's default for an attached virtual machine
_IDENTITY = {"system_assigned": "SystemAssigned", "user_assigned": "UserAssigned",
             "system_assigned,user_assigned": "SystemAssigned,UserAssigned", "none": "None"}


def _identity(identity: dict | None) -> dict | None:
    if not identity:
        return None
    users = identity.get("user_assigned_identities") or []
    return compact({"type": _IDENTITY.get(identity["type"], identity["type"]),
                    "userAssignedIdentities": {item["resource_id"]: {} for item in users} or None})


def _pascal(value: str | None) -> str | None:
    return "".join(part.capitalize() for part in value.split("_")) if value else None


def _given(spec: dict, key: str, default):
    return default if spec.get(key) is None else spec[key]


def _trigger(trigger: dict) -> dict:
    """A compute instance schedule's trigger (cron or recurrence) as the wire has it."""
    kind = trigger.get("type", "cron").lower()
    # triggerType goes on the schedule only: the contract's Cron and Recurrence have none (the SDK repeats it)
    common = compact({"startTime": trigger.get("start_time"), "timeZone": trigger.get("time_zone")})
    if kind == "cron":
        return {"cron": {**common, "expression": trigger.get("expression")}}
    schedule = trigger.get("schedule") or {}
    recurrence = compact({"frequency": trigger.get("frequency"), "interval": trigger.get("interval"),
                          "schedule": compact({"hours": schedule.get("hours"), "minutes": schedule.get("minutes"),
                                               "weekDays": schedule.get("week_days"),
                                               "monthDays": schedule.get("month_days")}) or None})
    return {"recurrence": {**recurrence, **common}}


def _schedules(schedules: dict | None) -> dict | None:
    """`schedules.compute_start_stop` as ComputeSchedules (the SDK's ComputeStartStopSchedule)."""
    if not schedules:
        return None
    entries = []
    for item in schedules.get("compute_start_stop") or ():
        trigger = item.get("trigger") or {}
        entries.append({"action": item.get("action"), **_trigger(trigger),
                        "status": item.get("state", "enabled").capitalize(),
                        "triggerType": trigger.get("type", "cron").lower().capitalize()})
    return {"computeStartStop": entries}


def _aml(spec: dict) -> tuple[dict, bool]:
    ssh = spec.get("ssh_settings")
    public = spec.get("ssh_public_access_enabled")
    props = compact({
        "vmSize": spec.get("size", _DEFAULT_SIZE),
        "vmPriority": _pascal(spec.get("tier")),
        "userAccountCredentials": compact({
            "adminUserName": ssh.get("admin_username"), "adminUserSshPublicKey": ssh.get("ssh_key_value"),
            "adminUserPassword": ssh.get("admin_password")}) if ssh else None,
        "scaleSettings": compact({
            "maxNodeCount": _given(spec, "max_instances", _MAX_NODES),
            "minNodeCount": _given(spec, "min_instances", _MIN_NODES),
            "nodeIdleTimeBeforeScaleDown": iso_duration(_given(spec, "idle_time_before_scale_down", _IDLE_SECONDS))}),
        "subnet": {"id": spec["network_settings"]["subnet"]} if (spec.get("network_settings") or {}).get("subnet") else None,
        "remoteLoginPortPublicAccess": "NotSpecified" if public is None else "Enabled" if public else "Disabled",
        "enableNodePublicIp": spec.get("enable_node_public_ip", True),
        "osType": "Linux",
    })
    return props, not ssh


def _instance(spec: dict) -> tuple[dict, bool]:
    ssh, public = spec.get("ssh_settings"), spec.get("ssh_public_access_enabled")
    ssh_rest = None
    if public is not None or ssh is not None:
        ssh_rest = compact({"sshPublicAccess": "Enabled" if public else "Disabled",
                            "adminPublicKey": (ssh or {}).get("ssh_key_value")})
    minutes = spec.get("idle_time_before_shutdown_minutes")
    props = compact({
        "vmSize": spec.get("size", _DEFAULT_SIZE),
        "subnet": {"id": spec["network_settings"]["subnet"]} if (spec.get("network_settings") or {}).get("subnet") else None,
        "sshSettings": ssh_rest,
        "idleTimeBeforeShutdown": f"PT{minutes}M" if minutes else spec.get("idle_time_before_shutdown"),
        "enableNodePublicIp": spec.get("enable_node_public_ip", True),
        "enableSSO": spec.get("enable_sso", True),
        "applicationSharingPolicy": "Shared",
        "computeInstanceAuthorizationType": "personal",
        "schedules": _schedules(spec.get("schedules")),
    })
    return props, ssh_rest is None or not public


def to_rest(spec: dict, refs=None) -> dict:
    kind = spec["type"]
    compute = {"computeType": _TYPES[kind], "description": spec.get("description")}
    if kind == "amlcompute":
        compute["properties"], compute["disableLocalAuth"] = _aml(spec)
    elif kind == "computeinstance":
        compute["properties"], compute["disableLocalAuth"] = _instance(spec)
    elif kind == "kubernetes":
        compute["resourceId"] = spec.get("resource_id")
        compute["properties"] = compact({"namespace": spec.get("namespace", "default")})
        compute["computeLocation"] = spec.get("location")
    elif kind == "synapsespark":
        compute["resourceId"] = spec.get("resource_id")  # an attached pool: its id says it all
    else:
        ssh = spec.get("ssh_settings") or {}
        compute["resourceId"] = spec.get("resource_id")
        compute["properties"] = compact({
            "sshPort": ssh.get("ssh_port", _SSH_PORT),
            "administratorAccount": compact({"username": ssh.get("admin_username"), "password": ssh.get("admin_password")}) or None,
        })
    return compact({"location": spec.get("location"), "tags": spec.get("tags"),
                    "identity": _identity(spec.get("identity")), "properties": compact(compute)})


def from_rest(body: dict) -> dict:
    compute = body.get("properties") or {}
    props = compute.get("properties") or {}
    kind = next((ours for ours, wire in _TYPES.items() if wire == compute.get("computeType")), compute.get("computeType"))
    scale = props.get("scaleSettings") or {}
    identity = body.get("identity")
    return compact({
        "name": body.get("name"), **resource_fields(body), "type": kind, "location": body.get("location"),
        "description": compute.get("description"), "tags": body.get("tags") or {},
        "provisioning_state": compute.get("provisioningState"), "resource_id": compute.get("resourceId"),
        "size": props.get("vmSize") or props.get("virtualMachineSize"),
        "tier": {"Dedicated": "dedicated", "LowPriority": "low_priority"}.get(props.get("vmPriority")),
        "min_instances": scale.get("minNodeCount"), "max_instances": scale.get("maxNodeCount"),
        "idle_time_before_scale_down": duration_seconds(scale.get("nodeIdleTimeBeforeScaleDown")),
        "idle_time_before_shutdown_minutes": (duration_seconds(props.get("idleTimeBeforeShutdown")) or 0) // 60 or None,
        "namespace": props.get("namespace"),
        "state": props.get("state"),
        "identity": {"type": next((k for k, v in _IDENTITY.items() if v == identity.get("type")), identity.get("type"))} if identity else None,
    })
