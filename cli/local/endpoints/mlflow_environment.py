"""The environment of an MLflow model deployed without one: built from the model's own requirements, as
Azure builds it from the model's conda.yaml for a no-code deployment.

The model folder's requirements.txt (else conda.yaml) and python_env.yaml give the packages and the
Python; `mlflow` becomes `mlflow-skinny` of the same version (what loading a pyfunc model needs, without
the tracking server's dependencies), and pandas is added when missing (the worker builds DataFrames).
"""

from __future__ import annotations

import re
from pathlib import Path

from cli.local.environments.definition import Definition, requirement_name
from cli.local.environments.sources import conda_file, requirements_file


def definition(model_root: Path) -> Definition:
    result = Definition(f"the MLflow model's requirements ({model_root.name})")
    python_env = model_root / "python_env.yaml"
    if python_env.is_file():
        found = re.search(r"^python:\s*['\"]?(\d+\.\d+)", python_env.read_text(errors="replace"), re.M)
        result.python = found.group(1) if found else None
    if (model_root / "requirements.txt").is_file():
        requirements_file(result, "requirements.txt", model_root)
    elif (model_root / "conda.yaml").is_file():
        conda_file(result, (model_root / "conda.yaml").read_text(errors="replace"), model_root)
    mlflow = next((r for r in result.requirements if requirement_name(r) == "mlflow"), None)
    if mlflow is not None:
        result.requirements.remove(mlflow)
        result.add_pip("mlflow-skinny" + mlflow.strip()[len("mlflow"):])
        result.notices.append(f"{mlflow.strip()} of the model installed as mlflow-skinny (loading needs no more)")
    names = {requirement_name(r) for r in result.requirements}
    if "mlflow-skinny" not in names:
        result.add_pip("mlflow-skinny")
    if "pandas" not in names:
        result.add_pip("pandas")
    return result.finish()
