"""Spec families: which schema a file is validated against, chosen from `$schema` or `type`."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from cli.spec.diagnostics import did_you_mean


@dataclass(frozen=True)
class Family:
    name: str  # also the schema file's stem: commandJob -> schemas/commandJob.schema.json
    group: str  # the command group that creates it: job, component, online-deployment ...
    type_values: tuple = ()  # values of `type:` that select it inside its group
    default_in_group: bool = False  # chosen when the spec has no `type:`

    @property
    def schema_file(self) -> str:
        return f"{self.name}.schema.json"


FAMILIES = [
    Family("commandJob", "job", ("command",), True),
    Family("pipelineJob", "job", ("pipeline",)),
    Family("sweepJob", "job", ("sweep",)),
    Family("autoMLJob", "job", ("automl",)),
    Family("sparkJob", "job", ("spark",)),
    Family("commandComponent", "component", ("command",), True),
    Family("pipelineComponent", "component", ("pipeline",)),
    Family("parallelComponent", "component", ("parallel",)),
    Family("sparkComponent", "component", ("spark",)),
    Family("data", "data", ("uri_file", "uri_folder", "mltable"), True),
    Family("model", "model", ("custom_model", "mlflow_model", "triton_model"), True),
    Family("environment", "environment", (), True),
    Family("amlCompute", "compute", ("amlcompute",)),
    Family("computeInstance", "compute", ("computeinstance",)),
    Family("kubernetesCompute", "compute", ("kubernetes",)),
    Family("vmCompute", "compute", ("virtualmachine",)),
    Family("synapseSparkCompute", "compute", ("synapsespark",)),
    Family("managedOnlineEndpoint", "online-endpoint", (), True),
    Family("kubernetesOnlineEndpoint", "online-endpoint", ()),
    Family("managedOnlineDeployment", "online-deployment", ("managed",), True),
    Family("kubernetesOnlineDeployment", "online-deployment", ("kubernetes",)),
    Family("batchEndpoint", "batch-endpoint", (), True),
    Family("batchDeployment", "batch-deployment", (), True),
    Family("modelBatchDeployment", "batch-deployment", ("model",)),
    Family("pipelineComponentBatchDeployment", "batch-deployment", ("pipeline",)),
    Family("azureBlob", "datastore", ("azure_blob",), True),
    Family("azureFile", "datastore", ("azure_file",)),
    Family("azureDataLakeGen1", "datastore", ("azure_data_lake_gen1",)),
    Family("azureDataLakeGen2", "datastore", ("azure_data_lake_gen2",)),
    Family("schedule", "schedule", (), True),
    Family("workspace", "workspace", (), True),
    Family("connection", "connection", (), True),
    Family("registry", "registry", (), True),
]
BY_NAME = {f.name.lower(): f for f in FAMILIES}
GROUPS = sorted({f.group for f in FAMILIES})

# Official $schema file stems that name one of our families under another spelling.
_SCHEMA_ALIASES = {
    "commandcomponent": "commandComponent",
    "schedule": "schedule",
    "cronschedule": "schedule",
    "recurrenceschedule": "schedule",
}


class FamilyError(Exception):
    """The family cannot be chosen; the message says why, in the user's terms."""


def schema_folder() -> Path:
    """Where our schemas live: the source tree, or the installed data folder."""
    here = Path(__file__).resolve().parents[2] / "schemas"
    if here.is_dir():
        return here
    installed = Path(sys.prefix) / "share" / "ml-cli" / "schemas"
    if installed.is_dir():
        return installed
    raise FamilyError("the schemas folder is missing from this installation; reinstall ml")


def family_from_schema_url(url: str) -> Family | None:
    """commandJob from `https://azuremlschemas.azureedge.net/latest/commandJob.schema.json`; None if unknown."""
    stem = PurePosixPath(str(url).split("?")[0].split("#")[0]).name
    for suffix in (".schema.json", ".json"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    key = stem.lower()
    name = _SCHEMA_ALIASES.get(key, key)
    return BY_NAME.get(name.lower())


def schema_stem(url: str) -> str:
    return PurePosixPath(str(url)).name


def choose_family(data: dict, group: str | None) -> Family:
    """The family of a spec: `type` within the command group, else its `$schema`, else the default.

    As in `az ml`, `type` decides between the families of one group (a batchDeployment.schema.json
    file with `type: model` is a model batch deployment); `$schema` picks the group when none is given.
    """
    url = data.get("$schema")
    declared = None
    if isinstance(url, str) and url.strip():
        declared = family_from_schema_url(url)
        if declared is None:
            known = [f"{f.name}.schema.json" for f in FAMILIES]
            raise FamilyError(f"'{schema_stem(url)}' is not a spec family ml knows{did_you_mean(schema_stem(url), known)}")
    if group is None:
        group = declared.group if declared else infer_group(data)
        if group is None:
            raise FamilyError("not an Azure ML spec: no $schema, and no 'type' that names a family")
    members = [f for f in FAMILIES if f.group == group]
    kind = data.get("type")
    if isinstance(kind, str):
        for family in members:
            if kind.lower() in family.type_values:
                return family
    if declared is not None:
        if declared.group != group:
            raise FamilyError(f"this is a {declared.group} spec ({schema_stem(url)}); use 'ml {declared.group} ...'")
        return declared
    if group == "online-endpoint" and "compute" in data:
        return BY_NAME["kubernetesonlineendpoint"]
    if group in ("job", "component", "compute", "datastore") and isinstance(kind, str):
        known = sorted({t for f in members for t in f.type_values})
        raise FamilyError(f"unknown {group} type '{kind}'; expected one of {', '.join(known)}{did_you_mean(kind, known)}")
    for family in members:
        if family.default_in_group:
            return family
    raise FamilyError(f"cannot tell which kind of {group} this is; add a 'type' or '$schema'")


_COMPONENT_ONLY_KEYS = {"version", "is_deterministic", "additional_includes", "input_data", "mini_batch_size"}
_GROUP_BY_TYPE = {t: f.group for f in FAMILIES if f.group in ("data", "model", "compute", "datastore") for t in f.type_values}


def infer_group(data: dict) -> str | None:
    """Best guess of the command group for a spec without `$schema` (used by `ml validate PATH`)."""
    kind = data.get("type")
    if isinstance(kind, str):
        kind = kind.lower()
        if kind in _GROUP_BY_TYPE:
            return _GROUP_BY_TYPE[kind]
        if kind in ("command", "pipeline", "sweep", "automl", "spark", "parallel"):
            if kind == "parallel" or _COMPONENT_ONLY_KEYS & data.keys():
                return "component"
            return "job"
        return None
    if {"image", "conda_file", "build"} & data.keys() and "command" not in data:
        return "environment"
    if "trigger" in data and "create_job" in data:
        return "schedule"
    return None


@lru_cache(maxsize=1)
def schema_store():
    from cli.spec.schema import SchemaStore

    return SchemaStore(schema_folder())
