"""The scoring script of an MLflow model deployed to a batch endpoint without one (Azure writes its own
for such deployments): each file of a mini-batch (CSV, Parquet, JSON lines) is read into a DataFrame and
scored with the model's pyfunc flavour; one result line per row: `row,prediction,file`, as Azure's
no-code MLflow batch output (predictions.csv) has them."""

import glob
import os

import pandas

model = None


def _model_folder():
    root = os.environ["AZUREML_MODEL_DIR"]
    found = sorted(glob.glob(os.path.join(root, "**", "MLmodel"), recursive=True), key=len)
    if not found:
        raise FileNotFoundError(f"no MLmodel file under {root}")
    return os.path.dirname(found[0])


def init():
    global model
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(_model_folder())


def _read(path):
    extension = os.path.splitext(path)[1].lower()
    if extension == ".parquet":
        return pandas.read_parquet(path)
    if extension in (".json", ".jsonl"):
        return pandas.read_json(path, lines=True)
    return pandas.read_csv(path)


def run(mini_batch):
    lines = []
    for path in mini_batch:
        frame = _read(path)
        predictions = model.predict(frame)
        values = predictions.tolist() if hasattr(predictions, "tolist") else list(predictions)
        for row, value in enumerate(values):
            if isinstance(value, (list, tuple)) and len(value) == 1:
                value = value[0]
            lines.append(f"{row},{value},{os.path.basename(path)}")
    return lines
