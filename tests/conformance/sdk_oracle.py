"""Record what the official SDK (azure-ai-ml) says about every YAML file of the conformance corpus.

Run with the oracle venv only (it imports azure.ai.ml; nothing under cli/ may import it):
    /opt/oracle/bin/python tests/conformance/sdk_oracle.py [ROOT ...] [--out FILE]
ROOTs default to ../shared/conformance/{azureml-examples,azure-sdk-tests} from the repository root.
Each file is loaded with the SDK loader that `az ml <group> create -f FILE` uses (plus, for jobs and
components, the local validation create runs before any request), offline (any socket use aborts
the run), and written to sdk_verdicts.tsv: path, family, verdict, detail.
verdict: accept | reject (detail = the SDK's error, one line) | not-a-spec | unsupported (detail = why).
"""
import argparse
import logging
import os
import re
import socket
import sys
import warnings
from pathlib import Path

import yaml
# every loader the CLI uses lives here (load_schedule and the batch-deployment ones are not re-exported)
from azure.ai.ml.entities import _load_functions as ml
from azure.ai.ml.entities._validation import PathAwareSchemaValidatableMixin

# The `--set` overrides the examples' scripts pass on the command line: one table, shared with our
# own conformance test (cli_defaults.py beside this file).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_defaults import overrides_for as _overrides_for  # noqa: E402

# Not applied: `{{ENDPOINT_NAME}}`-style template slots that some scripts fill with sed before calling
# `az ml`; the raw file is what is recorded (mostly a YAML or name-pattern reject).

# $schema basename (lower-cased, without .schema.json/.json) -> our family name
SCHEMA_FAMILY = {f.lower(): f for f in """commandJob pipelineJob sweepJob autoMLJob sparkJob commandComponent
    pipelineComponent parallelComponent sparkComponent data model environment amlCompute computeInstance
    kubernetesCompute vmCompute managedOnlineEndpoint kubernetesOnlineEndpoint managedOnlineDeployment
    kubernetesOnlineDeployment batchEndpoint batchDeployment modelBatchDeployment
    pipelineComponentBatchDeployment azureBlob azureFile azureDataLakeGen1 azureDataLakeGen2 oneLake schedule
    workspace connection registry synapseSparkCompute""".split()}
NOT_AZUREML_SCHEMAS = {"flow": "promptflow flow file", "run": "promptflow run file"}
# Families the SDK loads that ml does not model: judged too, so that each difference is on record
# (expectations.tsv); our conformance test maps them to their command group (SDK_ONLY_GROUPS there).
SDK_ONLY_SCHEMAS = {"automlcomponent": "autoMLComponent", "datatransfercomponent": "dataTransferComponent",
                    "modelversionpackage": "modelPackage"}
SDK_ONLY_TYPES = {"distillation": "distillationJob", "finetuning": "fineTuningJob", "hdfs": "hdfsDatastore"}

# `type:` value -> family, for files without $schema (command/kubernetes/azure_blob need the folder too)
TYPE_FAMILY = {
    "pipeline": "pipelineJob", "sweep": "sweepJob", "automl": "autoMLJob", "spark": "sparkJob",
    "amlcompute": "amlCompute", "computeinstance": "computeInstance", "virtualmachine": "vmCompute",
    "azure_file": "azureFile", "azure_data_lake_gen1": "azureDataLakeGen1",
    "azure_data_lake_gen2": "azureDataLakeGen2", "uri_file": "data", "uri_folder": "data", "mltable": "data",
    "mlflow_model": "model", "custom_model": "model", "triton_model": "model",
    "synapsespark": "synapseSparkCompute", "one_lake": "oneLake",
}
# folder name in the path -> family, for files with neither $schema nor a telling `type:`. Only the
# SDK test tree is laid out by family; in the examples a model/ or endpoints/online/ folder also holds
# model artifacts and tool configs, so there only workspace/registry/connection folders count.
FOLDER_FAMILY = [("command_job", "commandJob"), ("dataset", "data"), ("environment", "environment"),
                 ("model", "model"), ("deployments/online", "managedOnlineDeployment"),
                 ("endpoints/online", "managedOnlineEndpoint"), ("workspace", "workspace"),
                 ("registry", "registry"), ("connection", "connection")]
# files used with `az ml workspace update --file` though they sit in a jobs folder
WORKSPACE_FILES = {"azureml-examples/cli/jobs/spark/storage_pe.yml",
                   "azureml-examples/cli/jobs/spark/user-assigned-identity.yml"}

LOADERS = {
    **dict.fromkeys(["commandJob", "pipelineJob", "sweepJob", "autoMLJob", "sparkJob"], ml.load_job),
    **dict.fromkeys(["commandComponent", "pipelineComponent", "parallelComponent", "sparkComponent"],
                    ml.load_component),
    **dict.fromkeys(["amlCompute", "computeInstance", "kubernetesCompute", "vmCompute", "synapseSparkCompute"],
                    ml.load_compute),
    **dict.fromkeys(["managedOnlineEndpoint", "kubernetesOnlineEndpoint"], ml.load_online_endpoint),
    **dict.fromkeys(["managedOnlineDeployment", "kubernetesOnlineDeployment"], ml.load_online_deployment),
    **dict.fromkeys(["azureBlob", "azureFile", "azureDataLakeGen1", "azureDataLakeGen2", "oneLake"], ml.load_datastore),
    "data": ml.load_data, "model": ml.load_model, "environment": ml.load_environment,
    "batchEndpoint": ml.load_batch_endpoint, "batchDeployment": ml.load_batch_deployment,
    "modelBatchDeployment": ml.load_model_batch_deployment,
    "pipelineComponentBatchDeployment": ml.load_pipeline_component_batch_deployment,
    "schedule": ml.load_schedule, "workspace": ml.load_workspace, "connection": ml.load_connection,
    "registry": ml.load_registry,
    "autoMLComponent": ml.load_component, "dataTransferComponent": ml.load_component,
    "modelPackage": ml.load_model_package, "distillationJob": ml.load_job, "fineTuningJob": ml.load_job,
    "hdfsDatastore": ml.load_datastore, "serverlessEndpoint": ml.load_serverless_endpoint,
}


class NetworkAttempt(BaseException):
    """Raised past every `except Exception`: a loader that touches the network must stop the run."""


def _no_network(*args, **kwargs):
    raise NetworkAttempt(f"network access attempted: {args[:2]}")


def classify(rel, text):
    """Return (family, None) for a spec, or (None, (verdict, reason)) for anything else."""
    m = re.search(r"^\$schema:\s*['\"]?(\S+?)['\"]?\s*$", text, re.M)
    if m:
        base = re.sub(r"(\.schema)?\.json$", "", m.group(1).rsplit("/", 1)[-1]).lower()
        if base in SCHEMA_FAMILY:
            return batch_kind(SCHEMA_FAMILY[base], text), None
        if base in SDK_ONLY_SCHEMAS:
            return SDK_ONLY_SCHEMAS[base], None
        if base in NOT_AZUREML_SCHEMAS:
            return None, ("not-a-spec", NOT_AZUREML_SCHEMAS[base])
        return None, ("unsupported", f"unsupported-family: $schema {m.group(1).rsplit('/', 1)[-1]}")
    try:
        data = yaml.safe_load(text)
        if data is None:
            return None, ("not-a-spec", "empty YAML document")
    except yaml.YAMLError:
        data = {}  # unparsable and without $schema: the folder decides below, the loader rejects
    if not isinstance(data, dict):
        return None, ("not-a-spec", "not a YAML mapping")
    if set(data) <= {"name", "model_id", "auth_mode"} and "model_id" in data:
        return "serverlessEndpoint", None
    if "dependencies" in data or "channels" in data:
        return None, ("not-a-spec", "conda/python environment file")
    if rel in WORKSPACE_FILES:
        return "workspace", None
    kind = str(data.get("type", "")).lower()
    folder = "/" + rel.rsplit("/", 1)[0] + "/"
    if kind in TYPE_FAMILY:
        return TYPE_FAMILY[kind], None
    if kind == "command":
        return ("commandComponent" if "component" in folder else "commandJob"), None
    if kind in SDK_ONLY_TYPES:
        return SDK_ONLY_TYPES[kind], None
    if "/connection" in folder:
        return "connection", None
    if kind == "azure_blob":
        return "azureBlob", None
    for part, fam in FOLDER_FAMILY:
        if rel.startswith("azureml-examples/") and part not in ("workspace", "registry", "connection"):
            continue
        if f"/{part}/" in folder or f"/{part}s/" in folder:
            if fam.endswith("OnlineEndpoint") and "compute" in data:
                fam = "kubernetesOnlineEndpoint"
            if fam.endswith("OnlineDeployment") and kind == "kubernetes":
                fam = "kubernetesOnlineDeployment"
            return fam, None
    if "/jobs/" in folder and "command" in data:
        return "commandJob", None
    return None, ("not-a-spec", "no $schema, and neither `type:` nor folder names an Azure ML spec")


def batch_kind(family, text):
    """`az ml batch-deployment create` picks the loader from `type:` (model/pipeline), not $schema."""
    if family == "batchDeployment":
        kind = re.search(r"^type:\s*['\"]?(\w+)", text, re.M)
        kind = kind and kind.group(1).lower()
        return {"model": "modelBatchDeployment", "pipeline": "pipelineComponentBatchDeployment"}.get(kind, family)
    return family


def overrides_for(rel, family, text):
    data = yaml.safe_load(text) if text.strip() else {}
    data = data if isinstance(data, dict) else {}
    return [{key: value} for key, value in _overrides_for(rel, family, data)]


def one_line(exc, base):
    """The error on one line, without the machine's corpus location, so the TSV is reproducible."""
    msg = (str(exc) or type(exc).__name__).replace("\\n", " ").replace(f"{base}/", "")
    return re.sub(r"\s+", " ", msg).strip()[:300]


def verdict(path, rel, base):
    text = path.read_text(encoding="utf-8", errors="replace")
    family, other = classify(rel, text)
    if other:
        return "-", other[0], other[1]
    try:
        params = overrides_for(rel, family, text)
    except yaml.YAMLError:
        params = []  # the loader reports the YAML error itself
    try:
        entity = LOADERS[family](str(path), params_override=params)
    except Exception as exc:  # the SDK's rejection is the datum we record
        return family, "reject", one_line(exc, base)
    problems = local_checks(family, entity)
    if problems:
        return family, "reject", one_line("[validate] " + "; ".join(f"{k}: {v}" for k, v in problems.items()), base)
    return family, "accept", ""


def local_checks(family, entity):
    """The offline part of `az ml job|component|schedule create`: jobs.create_or_update and
    components.create_or_update run entity._validate() (and reject git code for jobs) before any
    request; schedules build their REST body, which refuses create_job types other than pipeline jobs
    (and ARM ids), and online deployments check their name and scale settings; the remote part (compute lookup) is skipped. Other groups validate on load only."""
    if family == "schedule":
        try:
            entity._to_rest_object()
        except Exception as exc:  # noqa: BLE001 - only the SDK's own refusal counts, see below
            if "Unsupported job type" in str(exc):
                return {"create_job": str(exc)}
        return {}
    if family.endswith("OnlineDeployment"):  # _to_rest_object runs _validate: the name rule, scale settings
        try:
            entity._validate()
        except Exception as exc:  # noqa: BLE001 - the SDK's refusal is the datum
            return {"name" if "name" in str(exc) else "deployment": str(exc)}
        return {}
    if not family.endswith(("Job", "Component")):
        return {}
    problems = {}
    if isinstance(entity, PathAwareSchemaValidatableMixin):  # what jobs.create_or_update checks too
        problems.update(entity._validate().error_messages)
    code = getattr(entity, "code", None)
    if family.endswith("Job") and isinstance(code, str) and code.startswith("git+"):
        problems["code"] = f"Invalid code value: {code}. Git paths are not supported."
    return problems


def main():
    if os.environ.get("PYTHONHASHSEED") != "0":  # the SDK lists unknown keys in set order: pin it
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    repo = Path(__file__).resolve().parents[2]
    shared = repo.parent / "shared" / "conformance"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("roots", nargs="*", type=Path,
                    default=[shared / "azureml-examples", shared / "azure-sdk-tests"])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("sdk_verdicts.tsv"))
    args = ap.parse_args()

    socket.socket.connect = socket.create_connection = socket.getaddrinfo = _no_network
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")

    rows = []
    for root in args.roots:
        root = root.resolve()
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()):
            rel = path.relative_to(root.parent).as_posix()
            rows.append((rel, *verdict(path, rel, root.parent)))
    rows.sort()
    with args.out.open("w", encoding="utf-8") as out:
        out.write("path\tfamily\tverdict\tdetail\n")
        for row in rows:
            out.write("\t".join(row) + "\n")
    counts = {}
    for _, family, result, _ in rows:
        counts[(family, result)] = counts.get((family, result), 0) + 1
    for (family, result), n in sorted(counts.items()):
        print(f"{n:5d}  {family:34s} {result}")
    print(f"{len(rows):5d}  total -> {args.out}")


if __name__ == "__main__":
    main()
