#!/usr/bin/env bash
# The separate venv the tests in tests/serve run the official SDK in (azure-ai-ml 1.35.2 and its pins stay
# out of ml's own environment), with azureml-mlflow (the `azureml://` tracking URI's plugin) beside it:
# one resolve, so the two packages' storage pins agree (azureml-mlflow caps azure-storage-blob). Usage, e.g. from .ci/run:
#   ML_ORACLE_PYTHON="$(tests/oracle_venv.sh .oracle-venv)" python -m pytest tests/serve
# Prints the venv's python; without it (or ML_ORACLE_PYTHON), the SDK tests skip and say why.
set -euo pipefail
dir="${1:-.oracle-venv}"
if [ ! -x "$dir/bin/python" ]; then
  python3 -m venv "$dir" >&2
fi
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check "azure-ai-ml==1.35.2" "azure-identity>=1.17" \
  "azureml-mlflow==1.62.0.post6" >&2
"$dir/bin/python" -c "import azure.ai.ml, azure.identity, azureml.mlflow" >&2
echo "$(cd "$dir" && pwd)/bin/python"
