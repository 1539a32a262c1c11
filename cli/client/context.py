"""Choosing the workspace: flags, then environment, then config.json, else the local workspace."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple

from cli.client.resources import WorkspaceId
from cli.errors import UsageError

LOCAL_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
LOCAL_RESOURCE_GROUP = "local"
LOCAL_WORKSPACE = "local"
LOCAL_BASE_URL = "https://management.ml.invalid"
AZURE_BASE_URL = "https://management.azure.com"
CONFIG_SEARCH_LEVELS = 20

FIELDS = ("subscription", "resource_group", "workspace")
FLAG_NAMES = {"subscription": "--subscription", "resource_group": "--resource-group", "workspace": "--workspace-name"}
ENV_NAMES = {
    "subscription": ("ML_SUBSCRIPTION",),
    "resource_group": ("ML_RESOURCE_GROUP", "AZURE_DEFAULTS_GROUP"),
    "workspace": ("ML_WORKSPACE", "AZURE_DEFAULTS_WORKSPACE"),
}


@dataclass(frozen=True)
class WorkspaceTarget:
    kind: str  # "local" | "azure"
    workspace: WorkspaceId
    reason: str
    home: Optional[Path] = None  # the local data dir; None for Azure


def local_home(env: Mapping[str, str] = os.environ) -> Path:
    """$ML_HOME, else $XDG_DATA_HOME/ml, else ~/.local/share/ml."""
    if env.get("ML_HOME"):
        return Path(env["ML_HOME"]).expanduser().absolute()  # a job's runner works in another folder
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "ml"


def resolve_target(*, workspace_name: Optional[str] = None, resource_group: Optional[str] = None,
                   subscription: Optional[str] = None, env: Mapping[str, str] = os.environ,
                   cwd: Optional[Path] = None) -> WorkspaceTarget:
    """Each of subscription, resource group and workspace comes from its flag, else env, else config.json;
    with neither a subscription nor a resource group, the target is the local workspace."""
    flags = {"subscription": subscription, "resource_group": resource_group, "workspace": workspace_name}
    target = (env.get("ML_TARGET") or "").strip().lower()
    if target not in ("", "local", "azure"):
        raise UsageError(f"ML_TARGET={target!r}: expected 'local' or 'azure'")
    if target == "local":
        given = [FLAG_NAMES[f] for f in ("subscription", "resource_group") if flags[f]]
        if given:
            raise UsageError(f"ML_TARGET=local but {' and '.join(given)} given")
        name, _ = _first(flags, env, {}, "workspace")
        return _local(name, "ML_TARGET=local", env)

    config, config_path = find_config(cwd or Path.cwd())
    values: Dict[str, Tuple[Optional[str], str]] = {f: _first(flags, env, config, f, config_path) for f in FIELDS}
    sub, rg, name = (values[f][0] for f in FIELDS)
    if sub == LOCAL_SUBSCRIPTION and rg == LOCAL_RESOURCE_GROUP and target != "azure":  # the local ids
        # (ML_TARGET=azure reaches them through `ml local serve`, over HTTPS, as an Azure workspace)
        return _local(name, f"subscription {sub} and resource group 'local'", env)
    if not (sub or rg) and target != "azure":
        why = f"{values['workspace'][1]} without a subscription or resource group" if name else "no workspace configured"
        return _local(name, why, env)
    if not sub:
        sub = default_az_subscription(env)
        values["subscription"] = (sub, "the default subscription of `az account`")
    missing = [FLAG_NAMES[f] for f in FIELDS if not values[f][0]]
    if missing:
        raise UsageError(f"an Azure workspace needs {', '.join(missing)}",
                         hint="or set ML_SUBSCRIPTION, ML_RESOURCE_GROUP and ML_WORKSPACE, or write a config.json")
    _check_azure_ids(sub, rg, name)
    sources = ", ".join(sorted({source for _, source in values.values()}))
    workspace = WorkspaceId(sub, rg, name)
    reason = f"Azure workspace '{name}' in resource group '{rg}' of subscription '{sub}' (from {sources})"
    return WorkspaceTarget("azure", workspace, reason)

def _check_azure_ids(subscription: str, resource_group: str, workspace: str) -> None:
    """Each goes into every request path as is, so each must be one segment; the service judges the rest."""
    from cli import names

    for value in (subscription, resource_group, workspace):
        reason = names.segment_problem(value)
        if reason or "%" in value:
            raise UsageError(reason or f"{value!r} cannot name a subscription, resource group or workspace: no '%'")


def _first(flags, env, config, field, config_path: Optional[Path] = None) -> Tuple[Optional[str], str]:
    if flags.get(field):
        return flags[field], FLAG_NAMES[field]
    for name in ENV_NAMES[field]:
        if env.get(name):
            return env[name], name
    if config.get(field):
        return config[field], str(config_path)
    return None, ""


def _local(name: Optional[str], why: str, env: Mapping[str, str]) -> WorkspaceTarget:
    name = name or LOCAL_WORKSPACE
    from cli import names

    reason = names.problem("local workspace", name)
    if reason:
        raise UsageError(f"invalid local workspace name: {reason}")
    home = local_home(env)
    reason = f"{why}: using the local workspace '{name}' under {_tilde(home)}"
    return WorkspaceTarget("local", WorkspaceId(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, name), reason, home)


def _tilde(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def find_config(start: Path) -> Tuple[Dict[str, str], Optional[Path]]:
    """The SDK's search: `.azureml/config.json` up to 20 parents, then `config.json` the same way."""
    for relative in (Path(".azureml") / "config.json", Path("config.json")):
        folder = start.resolve()
        for _ in range(CONFIG_SEARCH_LEVELS + 1):
            candidate = folder / relative
            if candidate.is_file():
                config = _read_config(candidate, strict=relative.parent.name == ".azureml")
                if config:
                    return config, candidate
            if folder.parent == folder:
                break
            folder = folder.parent
    return {}, None


def _read_config(path: Path, *, strict: bool) -> Dict[str, str]:
    # A plain config.json may belong to anything else; only `.azureml/config.json` must be ours.
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        if strict:
            raise UsageError(f"{path}: not a readable JSON workspace config ({exc})") from None
        return {}
    if not isinstance(data, dict):
        data = {}
    if isinstance(data.get("Scope"), str):
        pieces = data["Scope"].split("/")
        if len(pieces) > 8:
            return {"subscription": pieces[2], "resource_group": pieces[4], "workspace": pieces[8]}
    config = {"subscription": data.get("subscription_id"), "resource_group": data.get("resource_group"),
              "workspace": data.get("workspace_name")}
    config = {k: str(v) for k, v in config.items() if isinstance(v, str) and v}
    if strict and not config:
        raise UsageError(f"{path}: expected subscription_id, resource_group and workspace_name")
    return config


def default_az_subscription(env: Mapping[str, str] = os.environ) -> Optional[str]:
    """The subscription `az account set` chose, from az's profile; None when az was never used."""
    config_dir = Path(env.get("AZURE_CONFIG_DIR") or Path.home() / ".azure")
    try:
        profile = json.loads((config_dir / "azureProfile.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    for subscription in profile.get("subscriptions") or ():
        if isinstance(subscription, dict) and subscription.get("isDefault"):
            return subscription.get("id")
    return None
