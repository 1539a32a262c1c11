"""The official SDK's scenario against `ml local serve`: run by the SDK's own interpreter, not ours.

Usage: python sdk_scenario.py WORKDIR STEP...  (the environment printed by `ml local serve --print-env`).
Prints one JSON line per step: {"step", "ok", "result" | "error"}; a step failing does not stop the rest.
"""

import json
import os
import sys
import time
import traceback
from pathlib import Path

from azure.ai.ml import Input, MLClient, Output, command, dsl, load_component
from azure.ai.ml.entities import (CodeConfiguration, Data, Environment, ManagedOnlineDeployment,
                                  ManagedOnlineEndpoint, Model)
from azure.identity import DefaultAzureCredential

WORK = Path(sys.argv[1])
client = MLClient(DefaultAzureCredential(), os.environ["ML_SUBSCRIPTION"], os.environ["ML_RESOURCE_GROUP"],
                  os.environ["ML_WORKSPACE"])
state = {}
SKLEARN = "azureml://registries/azureml/environments/sklearn-1.5/versions/1"


def step_workspace():
    ws = client.workspaces.get(os.environ["ML_WORKSPACE"])
    return {"name": ws.name, "mlflow": ws.mlflow_tracking_uri}


def step_data():
    made = client.data.create_or_update(Data(name="table", path=str(WORK / "data" / "table.csv"), type="uri_file"))
    got = client.data.get("table", version=made.version)
    return {"version": made.version, "path": got.path, "listed": sorted(d.name for d in client.data.list())}


def step_model():
    made = client.models.create_or_update(Model(name="clf", path=str(WORK / "model"), type="custom_model"))
    got = client.models.get("clf", version=made.version)
    target = WORK / "downloaded-model"
    client.models.download("clf", version=made.version, download_path=str(target))
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    return {"version": got.version, "listed": sorted(m.name for m in client.models.list()), "downloaded": files}


def step_environment():
    made = client.environments.create_or_update(Environment(
        name="env-docker", image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04", conda_file=str(WORK / "conda.yml")))
    got = client.environments.get("env-docker", version=made.version)
    return {"version": got.version, "image": got.image, "listed": sorted(e.name for e in client.environments.list())}


def step_component():
    component = command(name="hello_component", command="echo hello ${{inputs.word}}", inputs={"word": "x"},
                        environment="azureml://registries/azureml/environments/sklearn-1.5/versions/1")
    made = client.components.create_or_update(component.component)
    return {"name": made.name, "version": made.version}


def step_compute():
    return {"listed": [c.name for c in client.compute.list()]}


def step_job():
    job = command(code=str(WORK / "src"), command="python io_check.py ${{inputs.lr}} ${{inputs.table}} ${{inputs.folder}} ${{outputs.result}}",
                  inputs={"lr": 0.5, "table": Input(type="uri_file", path=str(WORK / "data" / "table.csv")),
                          "folder": Input(type="uri_folder", path=str(WORK / "data" / "folder"))},
                  outputs={"result": Output(type="uri_folder")},
                  environment="azureml://registries/azureml/environments/sklearn-1.5/versions/1",
                  experiment_name="served")
    made = client.jobs.create_or_update(job)
    state["job"] = made.name
    client.jobs.stream(made.name)
    got = client.jobs.get(made.name)
    return {"status": got.status, "listed": made.name in [j.name for j in client.jobs.list()]}


def step_download_unstreamed():
    """A job never streamed downloads its logs and outputs too (the run's links exist from creation)."""
    job = command(command="echo unstreamed > ${{outputs.out}}/said.txt", outputs={"out": Output(type="uri_folder")},
                  environment="azureml://registries/azureml/environments/sklearn-1.5/versions/1", experiment_name="served")
    made = client.jobs.create_or_update(job)
    deadline = time.time() + 300
    while client.jobs.get(made.name).status not in ("Completed", "Failed", "Canceled") and time.time() < deadline:
        time.sleep(1)
    target = WORK / "unstreamed-download"
    client.jobs.download(made.name, download_path=str(target), all=True)
    return {"status": client.jobs.get(made.name).status,
            "files": sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())}


def step_download():
    target = WORK / "job-download"
    client.jobs.download(state["job"], download_path=str(target), all=True)
    return {"files": sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())}


def step_cancel():
    job = command(command="sleep 300", environment="azureml://registries/azureml/environments/sklearn-1.5/versions/1",
                  experiment_name="served")
    made = client.jobs.create_or_update(job)
    client.jobs.begin_cancel(made.name).result()
    deadline = time.time() + 120
    while client.jobs.get(made.name).status not in ("Canceled", "Failed", "Completed") and time.time() < deadline:
        time.sleep(1)
    return {"status": client.jobs.get(made.name).status}


def step_pipeline():
    """A two-step pipeline: the second step reads the first one's output; streamed, then its children listed."""
    say = command(name="say", command="echo ${{inputs.word}} > ${{outputs.out}}/said.txt", inputs={"word": "x"},
                  outputs={"out": Output(type="uri_folder")}, environment=SKLEARN)
    read = command(name="read", command="cat ${{inputs.said}}/said.txt", inputs={"said": Input(type="uri_folder")},
                   environment=SKLEARN)

    @dsl.pipeline(experiment_name="served", description="said and read")
    def said_and_read(word):
        first = say(word=word)
        read(said=first.outputs.out)
        return {"said": first.outputs.out}

    pipeline = said_and_read(word="piped")
    pipeline.settings.default_compute = "serverless"  # the SDK insists on a compute; serverless as on Azure
    made = client.jobs.create_or_update(pipeline)
    client.jobs.stream(made.name)
    got = client.jobs.get(made.name)
    children = list(client.jobs.list(parent_job_name=made.name))
    return {"type": got.type, "status": got.status,
            "children": sorted((c.display_name, c.status) for c in children)}


def step_online():
    """An online endpoint (key auth) and a deployment of the model step's model, invoked with the key."""
    score = WORK / "score"
    score.mkdir(exist_ok=True)
    (score / "score.py").write_text(
        "import json, os\n"
        "def init():\n"
        "    global weights\n"
        "    root = os.environ['AZUREML_MODEL_DIR']\n"
        "    weights = next(open(os.path.join(d, 'model.pkl')).read() for d, _, f in os.walk(root) if 'model.pkl' in f)\n"
        "def run(raw):\n"
        "    return {'echo': json.loads(raw)['data'], 'weights': weights}\n")
    request = WORK / "request.json"
    request.write_text(json.dumps({"data": [1, 2, 3]}))
    endpoint = ManagedOnlineEndpoint(name="served-ep", auth_mode="key")
    client.online_endpoints.begin_create_or_update(endpoint).result()
    deployment = ManagedOnlineDeployment(
        name="blue", endpoint_name="served-ep", model="azureml:clf:1", environment=SKLEARN,
        code_configuration=CodeConfiguration(code=str(score), scoring_script="score.py"),
        instance_type="Standard_DS3_v2", instance_count=1)
    client.online_deployments.begin_create_or_update(deployment).result()
    endpoint = client.online_endpoints.get("served-ep")
    endpoint.traffic = {"blue": 100}
    client.online_endpoints.begin_create_or_update(endpoint).result()
    keys = client.online_endpoints.get_keys("served-ep")
    answer = client.online_endpoints.invoke(endpoint_name="served-ep", request_file=str(request))
    got = client.online_endpoints.get("served-ep")
    deployments = [d.name for d in client.online_deployments.list("served-ep")]
    client.online_endpoints.begin_delete(name="served-ep").result()
    return {"traffic": got.traffic, "auth_mode": got.auth_mode, "deployments": deployments,
            "keys": bool(keys.primary_key) and keys.primary_key != keys.secondary_key,
            "answer": json.loads(answer), "listed_after_delete": [e.name for e in client.online_endpoints.list()]}


for name in sys.argv[2:]:
    try:
        result = globals()[f"step_{name}"]()
        # a line of its own: the SDK prints progress dots on stdout while it polls an operation
        print("\n" + json.dumps({"step": name, "ok": True, "result": result}), flush=True)
    except Exception as exc:  # the report says which step failed, and how
        print("\n" + json.dumps({"step": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000],
                                 "trace": traceback.format_exc()[-3000:]}), flush=True)
