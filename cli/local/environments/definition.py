"""What a job environment asks for, reduced to what a venv can give: a Python version and pip requirements."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

# A conda package whose PyPI name differs; conda names not here are taken to be PyPI names too
# (a name PyPI does not know is dropped at build time, with a warning).
CONDA_TO_PYPI = {
    "pytorch": "torch", "pytorch-cpu": "torch", "pytorch-gpu": "torch", "torchvision-cpu": "torchvision",
    "py-xgboost": "xgboost", "py-xgboost-cpu": "xgboost", "py-xgboost-gpu": "xgboost",
    "tensorflow-gpu": "tensorflow", "tensorflow-cpu": "tensorflow", "keras-gpu": "keras",
    "matplotlib-base": "matplotlib", "py-opencv": "opencv-python", "opencv": "opencv-python",
    "python-graphviz": "graphviz", "pyqt": "PyQt5", "lightgbm-cpu": "lightgbm", "msgpack-python": "msgpack",
    "pytables": "tables", "py-lightgbm": "lightgbm", "libxgboost": "xgboost", "ruamel_yaml": "ruamel.yaml",
    "typing_extensions": "typing-extensions", "dask-core": "dask", "pyarrow-core": "pyarrow",
    "arrow-cpp": "pyarrow", "py-spy": "py-spy", "scikit-learn": "scikit-learn", "python-dateutil": "python-dateutil",
}
# Conda packages that are system libraries or toolchains, not Python packages: nothing on PyPI to install.
# (Sets, not one big regex: this module is imported by every job's runner.)
CONDA_ONLY = frozenset((
    "python", "pip", "cudatoolkit", "cudnn", "nccl", "mkl", "mkl-include", "mkl-devel", "intel-openmp", "blas",
    "openblas", "openmpi", "mpich", "gcc", "gxx", "gcc_linux-64", "gxx_linux-64", "cxx-compiler", "c-compiler",
    "make", "git", "nodejs", "openjdk", "tbb", "ca-certificates", "openssl", "ncurses", "readline", "sqlite", "tk",
    "xz", "zlib", "bzip2", "conda", "mamba", "r", "r-base", "cmake", "ninja", "pkg-config", "ld_impl_linux-64"))
CONDA_ONLY_PREFIXES = ("lib", "cuda", "r-", "_", "magma")
# Packages that only talk to Azure ML's own services: nothing to do in a local run. azureml-mlflow's
# one local use, MLflow itself, is kept through mlflow-skinny (the runner points it at the job's server).
AZURE_ONLY = ("azureml-", "azure-ml-component")  # name prefixes
AZURE_MLFLOW_STANDIN = "mlflow-skinny"
INDEX_OPTIONS = {"--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--no-index", "--pre",
                 "--trusted-host", "--prefer-binary", "--only-binary", "--no-binary"}  # kept in requirements.txt
PLACEHOLDER = re.compile(r"\s*(===?|~=|>=|<=)?\s*\{\{[^}]*\}\}")  # `=={{latest-pypi-version}}`: the newest release
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str | None:
    """The canonical project name of a pip requirement line, or None for options and paths."""
    if line.lstrip().startswith(("-", ".", "/", "~")) or "://" in line.split(";")[0] and " @ " not in line:
        return None
    found = _NAME.match(line)
    return canonical(found.group(1)) if found else None


@dataclass
class Definition:
    """A Python version (None: this machine's default) and pip requirements, later ones replacing
    earlier ones of the same name, as a later `pip install` step would."""

    label: str
    python: str | None = None
    requirements: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)  # requirement-file options: --extra-index-url ...
    notices: list[str] = field(default_factory=list)
    skipped_azure: list[str] = field(default_factory=list)
    unmapped_conda: list[str] = field(default_factory=list)
    from_conda: set[str] = field(default_factory=set)  # names taken from conda: dropped if PyPI lacks them

    def add_pip(self, line: str) -> None:
        line = PLACEHOLDER.sub("", line.split(" #")[0]).strip()
        if not line or line.startswith("#"):
            return
        if line.split()[0].split("=")[0] in INDEX_OPTIONS:
            self.options.append(line)
            return
        name = requirement_name(line)
        if name is None:
            self.notices.append(f"not installed locally (a local path or option): {line}")
            return
        if name.startswith(AZURE_ONLY) or name == "azureml":
            self.skipped_azure.append(name)
            if name == "azureml-mlflow":
                self._put(AZURE_MLFLOW_STANDIN, AZURE_MLFLOW_STANDIN)
            return
        self._put(name, line)

    def add_conda(self, spec: str) -> None:
        """A conda match spec (`numpy=1.22`, `conda-forge::pytorch>=2`, `python 3.10.*`)."""
        spec = PLACEHOLDER.sub("", spec.split("::")[-1].strip())
        found = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$", spec)
        if not found:
            return
        name, version = found.group(1).lower(), found.group(2).strip().replace(" ", "")
        if name == "python":
            wanted = re.search(r"(\d+\.\d+)", version)
            self.python = wanted.group(1) if wanted else self.python
            return
        if (name in CONDA_ONLY or name.startswith(CONDA_ONLY_PREFIXES)) and name not in CONDA_TO_PYPI:
            if name != "pip":
                self.unmapped_conda.append(name)
            return
        pypi = CONDA_TO_PYPI.get(name, name)
        self.from_conda.add(canonical(pypi))
        self.add_pip(pypi + conda_version(version))

    def _put(self, name: str, line: str) -> None:
        self.requirements = [r for r in self.requirements if requirement_name(r) != name] + [line]

    def finish(self) -> "Definition":
        """Folds what was left out into one notice each."""
        if self.skipped_azure:
            why = (" (MLflow, through mlflow-skinny, logs to the job's tracking server)"
                   if "azureml-mlflow" in self.skipped_azure else "")
            self.notices.append(f"Azure-only packages skipped{why}: " + ", ".join(sorted(set(self.skipped_azure))))
        if self.unmapped_conda:
            self.notices.append("warning: conda packages with no PyPI equivalent are not installed: "
                                + ", ".join(sorted(set(self.unmapped_conda))))
        self.skipped_azure, self.unmapped_conda = [], []
        return self

    def digest(self) -> str:
        """The content hash a built venv is cached under."""
        text = json.dumps([BUILD_FORMAT, self.python, self.options, self.requirements])
        return hashlib.sha256(text.encode()).hexdigest()[:24]


BUILD_FORMAT = 1  # bump when the way a venv is built changes, so old ones are not reused


def conda_version(version: str) -> str:
    """A conda version constraint in pip's syntax: conda's `=1.22` (and bare `1.22`) match 1.22.*;
    a build string (`1.22=py310h...`) is dropped."""
    if not version or version.startswith(("==", ">=", "<=", "!=", "~=", ">", "<")):
        return version
    version = version.lstrip("=").split("=")[0].removesuffix(".*").removesuffix("*")
    return f"=={version}.*" if version else ""
