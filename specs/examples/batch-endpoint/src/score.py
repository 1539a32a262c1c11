"""Batch scoring script: init() loads the pickled classifier from AZUREML_MODEL_DIR; run() scores each
CSV file of a mini-batch (columns x1, x2) and returns one `file,row,prediction` line per row."""

import logging
import os
import pickle

import pandas as pd

model = None


def init():
    global model
    # AZUREML_MODEL_DIR holds the registered model's folder (named `model`: the training job's output)
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "model.pkl")
    with open(path, "rb") as f:
        model = pickle.load(f)
    logging.info("loaded %s", path)


def run(mini_batch):
    results = []
    for file in mini_batch:
        frame = pd.read_csv(file)
        predictions = model.predict(frame[["x1", "x2"]].to_numpy())
        name = os.path.basename(file)
        results.extend(f"{name},{row},{int(p)}" for row, p in enumerate(predictions))
    return results
