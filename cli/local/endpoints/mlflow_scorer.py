"""An MLflow model deployed without a scoring script: run(raw_data) over the payloads Azure's MLflow
deployments accept, the model's signature checked.

Runs inside a scoring worker, in the deployment's venv (built from the model's own requirements when the
deployment names no environment: cli.local.endpoints.mlflow_environment). Payloads, as Azure's:
`{"input_data": {"columns": [...], "index": [...], "data": [[...]]}}` (pandas split), `{"input_data":
[[...]]}` (rows: named by the signature's columns when it has them, else a tensor), `{"input_data":
{"a": [...]}}` (named tensors or columns), and MLflow's own `dataframe_split`, `dataframe_records`,
`instances`, `inputs`. Input the signature rejects, or a payload of no known shape, is the caller's
error: 400 with MLflow's message, not 500.
"""

from __future__ import annotations

import json
import os


class BadInput(ValueError):
    http_status = 400


def model_root(model_dir: str) -> str:
    """The folder holding MLmodel: AZUREML_MODEL_DIR itself or its one model folder."""
    if os.path.isfile(os.path.join(model_dir, "MLmodel")):
        return model_dir
    found = [os.path.join(model_dir, e) for e in sorted(os.listdir(model_dir))
             if os.path.isfile(os.path.join(model_dir, e, "MLmodel"))]
    if len(found) != 1:
        raise RuntimeError(f"no MLflow model (a folder with an MLmodel file) in {model_dir}: a deployment without a"
                           " scoring script needs one")
    return found[0]


def scorer(model_dir: str):
    """run(raw_data) of the MLflow model under `model_dir`."""
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException

    root = model_root(model_dir)
    model = mlflow.pyfunc.load_model(root)
    signature = model.metadata.get_input_schema()
    if signature is None:
        print(f"MLflow model {root} has no signature: its inputs are not checked", flush=True)
    else:
        print(f"MLflow model {root}: inputs checked against its signature {signature}", flush=True)

    def run(raw: str):
        try:
            data = json.loads(raw)
        except ValueError as error:
            raise BadInput(f"the request body is not JSON: {error}") from None
        model_input = parse(data, signature)
        try:
            result = model.predict(model_input)
        except MlflowException as error:
            raise BadInput(error.message) from None
        return _jsonable(result)

    return run


def parse(data, signature):
    """The model input a payload stands for."""
    import numpy as np
    import pandas as pd

    if not isinstance(data, dict):
        raise BadInput("the request body must be a JSON object with 'input_data' (or MLflow's 'dataframe_split',"
                       " 'dataframe_records', 'instances', 'inputs')")
    try:
        if "dataframe_split" in data:
            split = data["dataframe_split"]
            return pd.DataFrame(split["data"], columns=split.get("columns"), index=split.get("index"))
        if "dataframe_records" in data:
            return pd.DataFrame(data["dataframe_records"])
        for key in ("input_data", "instances", "inputs"):
            if key in data:
                payload = data[key]
                break
        else:
            raise BadInput("the request body has no 'input_data' (nor 'dataframe_split', 'dataframe_records',"
                           " 'instances', 'inputs')")
        tensors = signature is not None and signature.is_tensor_spec()
        names = signature.input_names() if signature is not None and signature.has_input_names() else None
        if isinstance(payload, dict) and "data" in payload and not tensors:
            return pd.DataFrame(payload["data"], columns=payload.get("columns"), index=payload.get("index"))
        if isinstance(payload, dict):
            if tensors:
                return {k: np.array(v) for k, v in payload.items()}
            return pd.DataFrame(payload)
        if tensors:
            return np.array(payload)
        if isinstance(payload, list) and payload and isinstance(payload[0], list) and names \
                and len(payload[0]) == len(names):
            return pd.DataFrame(payload, columns=names)
        return pd.DataFrame(payload)
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, BadInput):
            raise
        raise BadInput(f"the payload does not make a model input: {error}") from None


def _jsonable(result):
    if hasattr(result, "to_dict") and hasattr(result, "columns"):  # a DataFrame
        return result.to_dict(orient="records")
    if hasattr(result, "tolist"):
        return result.tolist()
    return result
