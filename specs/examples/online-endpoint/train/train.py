"""Fit a Ridge regression on scikit-learn's diabetes data; save it with joblib into the model output."""

import argparse
import os

import joblib
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=0.01)
parser.add_argument("--model", required=True)
args = parser.parse_args()

X, y = load_diabetes(return_X_y=True)
model = Ridge(alpha=args.alpha).fit(X, y)
print(f"R^2 on the training data: {model.score(X, y):.3f}")
os.makedirs(args.model, exist_ok=True)
joblib.dump(model, os.path.join(args.model, "model.pkl"))
