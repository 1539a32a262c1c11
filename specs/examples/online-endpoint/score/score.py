"""Scoring script of the example deployments: Azure's init()/run() contract."""

import json
import logging
import os

import joblib
import numpy


def init():
    global model
    # AZUREML_MODEL_DIR holds the registered model's folder (here: the job output named `model`)
    root = os.environ["AZUREML_MODEL_DIR"]
    path = next(os.path.join(folder, "model.pkl") for folder, _, files in os.walk(root) if "model.pkl" in files)
    model = joblib.load(path)
    logging.info("model loaded from %s", path)


def run(raw_data):
    data = numpy.array(json.loads(raw_data)["data"])
    return model.predict(data).tolist()
