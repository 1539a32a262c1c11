"""What an environment asks for, read from conda files, Dockerfiles, build contexts and the shipped
curated definitions (no processes, no network)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cli.local.environments import curated, pythons
from cli.local.environments.definition import Definition, conda_version
from cli.local.environments.sources import build_context, conda_file, dockerfile, python_of_image
from tests.conftest import REPO, shared_path


@pytest.mark.parametrize("conda, pip", [("", ""), ("=1.22", "==1.22.*"), ("1.22", "==1.22.*"),
                                        ("==1.22.4", "==1.22.4"), (">=1.2,<2", ">=1.2,<2"),
                                        ("=1.22.4=py310h1234", "==1.22.4.*"), ("1.22.*", "==1.22.*")])
def test_conda_versions_in_pips_syntax(conda, pip):
    assert conda_version(conda) == pip


def test_conda_file_maps_packages_skips_azure_and_names_what_is_left_out():
    definition = Definition("e")
    conda_file(definition, """
name: e
channels: [conda-forge, pytorch]
dependencies:
  - python=3.9.7
  - pip=23
  - pytorch::pytorch>=2.0
  - py-xgboost=1.7
  - scikit-learn
  - cudatoolkit=11.8
  - mkl
  - pip:
    - azureml-mlflow=={{latest-pypi-version}}
    - azureml-defaults
    - python-dateutil~=2.8  # why not
    - scikit-learn==1.5.1
    - --extra-index-url https://download.pytorch.org/whl/cpu
""")
    definition.finish()
    assert definition.python == "3.9"
    assert definition.requirements == ["torch>=2.0", "xgboost==1.7.*", "mlflow-skinny", "python-dateutil~=2.8",
                                       "scikit-learn==1.5.1"]  # a later pin of the same package wins
    assert definition.options == ["--extra-index-url https://download.pytorch.org/whl/cpu"]
    assert definition.notices == [
        "Azure-only packages skipped (MLflow, through mlflow-skinny, logs to the job's tracking server):"
        " azureml-defaults, azureml-mlflow",
        "warning: conda packages with no PyPI equivalent are not installed: cudatoolkit, mkl"]


def test_dockerfile_install_steps_and_the_files_they_read(tmp_path):
    (tmp_path / "reqs.txt").write_text("six==1.16.0\n-r more.txt\n")
    (tmp_path / "more.txt").write_text("idna\n")
    (tmp_path / "env.yml").write_text("dependencies:\n  - python=3.11\n  - pip:\n    - attrs\n")
    definition = Definition("ctx")
    steps = dockerfile(definition, """FROM python:3.10-slim
ENV A=1
RUN apt-get update && apt-get install -y git
COPY reqs.txt env.yml ./
RUN pip install --no-cache-dir -r reqs.txt && \\
    python -m pip install -U 'tqdm>=4' "sglang==${VERSION}"  # a comment
RUN conda env update -n base -f env.yml && conda install -y -c conda-forge 'numpy=1.26' && conda clean -a
""", tmp_path)
    assert steps is True
    assert definition.python == "3.11"  # the conda file's, over the image's 3.10
    assert definition.requirements == ["six==1.16.0", "idna", "tqdm>=4", "attrs", "numpy==1.26.*"]
    assert "Dockerfile instructions not carried out locally (no Docker): ENV, RUN apt-get" in definition.notices
    assert "not installed locally (depends on a build variable): sglang==${VERSION}" in definition.notices


def test_a_context_without_install_steps_installs_its_requirements(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM ubuntu:22.04\nCMD [\"bash\"]\n")
    (tmp_path / "requirements.txt").write_text("six\n")
    definition = Definition("ctx")
    build_context(definition, tmp_path, None)
    assert definition.requirements == ["six"]
    assert python_of_image("docker.io/library/python:3.12-bookworm") == "3.12" and python_of_image("ubuntu") is None


@pytest.mark.parametrize("environment_id, name", [
    ("azureml:AzureML-sklearn-1.5@latest", "sklearn-1.5"),
    ("azureml:AzureML-sklearn-1.5:33", "sklearn-1.5"),
    ("azureml://registries/azureml/environments/sklearn-1.5/labels/latest", "sklearn-1.5"),
    ("azureml://registries/azureml/environments/sklearn-1.5/versions/12", "sklearn-1.5"),
    ("/subscriptions/0/resourceGroups/local/providers/Microsoft.MachineLearningServices/workspaces/local/"
     "environments/mine/versions/1", None)])
def test_curated_ids(environment_id, name):
    assert curated.curated_name(environment_id) == name


def test_curated_sklearn_is_its_published_definition_without_azure_packages():
    definition = curated.definition("sklearn-1.5")
    names = [r.split("~")[0].split("=")[0].split(">")[0] for r in definition.requirements]
    assert definition.python == "3.10"
    assert {"scikit-learn", "pandas", "numpy", "scipy", "mlflow-skinny", "matplotlib"} <= set(names)
    assert not [n for n in names if n.startswith("azureml")]
    assert "scikit-learn~=1.5.0" in definition.requirements
    assert len(definition.notices) == 1 and "azureml-core" in definition.notices[0]


def test_unknown_curated_or_registry_environments_say_so():
    with pytest.raises(curated.UnknownEnvironment, match="'sklearn-9.9' has no published definition here"):
        curated.definition("sklearn-9.9")
    with pytest.raises(curated.UnknownEnvironment, match="registry 'myreg', which is not available locally"):
        curated.curated_name("azureml://registries/myreg/environments/x/versions/1")


def test_nearest_python_is_chosen_with_one_warning():
    available = pythons.available()
    assert pythons.own().version in [i.version for i in available]
    exact, warning = pythons.choose(pythons.own().label)
    assert exact.version == pythons.own().version and warning is None
    missing, warning = pythons.choose("3.99")
    assert missing.version == max(i.version for i in available if i.version[0] == 3)
    assert warning.startswith("warning: Python 3.99 is not installed on this machine; using Python ")


def test_shipped_definitions_match_the_shared_source(tmp_path):
    """tools/curated_environments.py, run again on ../shared, gives what the package holds."""
    source = shared_path("curated-environments")
    shipped = json.loads((curated.FOLDER / "index.json").read_text())
    assert {"sklearn-1.5", "lightgbm-3.3", "minimal-py311-inference"} <= set(shipped["environments"])
    size = sum(p.stat().st_size for p in curated.FOLDER.rglob("*") if p.is_file())
    assert size < 200_000  # only what builds read
    fresh = tmp_path / "curated"
    made = subprocess.run([sys.executable, str(REPO / "tools" / "curated_environments.py"), str(source),
                           "--target", str(fresh)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert _files(fresh) == _files(curated.FOLDER)


def _files(root) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
