"""Fit a logistic regression on synthetic data (label: x1 + 2*x2 > 1) and pickle it into --model-dir."""

import argparse
import os
import pickle

import numpy as np
from sklearn.linear_model import LogisticRegression

parser = argparse.ArgumentParser()
parser.add_argument("--model-dir", required=True)
args = parser.parse_args()

rng = np.random.default_rng(0)
features = rng.uniform(-1, 2, size=(500, 2))
labels = (features[:, 0] + 2 * features[:, 1] > 1).astype(int)
model = LogisticRegression().fit(features, labels)
print(f"training accuracy {model.score(features, labels):.3f}")

os.makedirs(args.model_dir, exist_ok=True)
with open(os.path.join(args.model_dir, "model.pkl"), "wb") as out:
    pickle.dump(model, out)
