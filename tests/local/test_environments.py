"""Job environments with real runner processes: every kind of environment gives the job its own venv
with its packages, and nothing a job does reaches ml's own site-packages.

Packages come from wheels built here and installed with `--no-index`; only pip (seeded into each venv,
from uv's cache after the first time) and the one curated environment come from PyPI."""

from __future__ import annotations

import base64
import hashlib
import os
import sysconfig
import threading
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from cli.client.datastore_upload import upload_to_datastore
from cli.client.uploads import upload_code
from cli.local.environments import pythons
from cli.local.environments.builder import environments_root
from cli.operations.job import JobReferences
from cli.rest.job import to_rest
from cli.spec.loader import load_spec
from runner_support import WORKSPACE, LocalJobs

SCHEMA = "https://azuremlschemas.azureedge.net/latest/commandJob.schema.json"


def wheel(folder: Path, name: str, version: str, value: str = "") -> Path:
    """A one-module pure-Python wheel `name`, whose module holds VALUE."""
    files = {f"{name}/__init__.py": f"VALUE = {value or f'{name}-{version}'!r}\n",
             f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                                  "Tag: py3-none-any\n"}
    record = [f"{path},sha256={_digest(text)},{len(text.encode())}" for path, text in files.items()]
    files[f"{name}-{version}.dist-info/RECORD"] = "\n".join(record + [f"{name}-{version}.dist-info/RECORD,,"]) + "\n"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return path


def _digest(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


def ml_site_packages() -> list[str]:
    return sorted(os.listdir(sysconfig.get_paths()["purelib"]))


@pytest.fixture
def wheels(tmp_path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    wheel(folder, "envpkg", "0.1")
    wheel(folder, "envpkg", "0.2")
    wheel(folder, "otherpkg", "1.0")
    (folder / "oldpkg-1.0.tar.gz").write_bytes(b"an sdist that must never be built")  # only a source release
    wheel(folder, "oldpkg", "2.0")
    return folder


@pytest.fixture
def jobs(tmp_path):
    local = LocalJobs(tmp_path / "home")
    yield local
    local.close()


def submit(jobs: LocalJobs, folder: Path, name: str, command: str, environment: str) -> None:
    jobs.jobs.append(name)
    jobs.client.put(f"jobs/{name}", job_body(jobs, folder, name, command, environment))


def job_body(jobs: LocalJobs, folder: Path, name: str, command: str, environment: str) -> dict:
    src = folder / f"{name}-src"
    src.mkdir(parents=True)
    (src / "job.py").write_text(command)
    spec_file = folder / f"{name}.yml"
    spec_file.write_text(yaml.safe_dump({"$schema": SCHEMA, "command": "python job.py", "code": src.name,
                                         "environment": environment}))
    spec = load_spec(spec_file, group="job").data
    refs = JobReferences(WORKSPACE.arm_id, uploads={spec["code"]: upload_code(jobs.client, spec["code"])})
    return to_rest(spec, refs)


def register(jobs: LocalJobs, name: str, properties: dict) -> str:
    jobs.client.put(f"environments/{name}/versions/1", {"properties": properties})
    return f"azureml:{name}:1"


def finished(jobs: LocalJobs, name: str, timeout: float = 120) -> tuple[dict, str]:
    props = jobs.wait(name, timeout=timeout)["properties"]
    return props, jobs.log(name)


SHOW = ("import sys, os\nprint('prefix', sys.prefix)\nprint('python', '%d.%d' % sys.version_info[:2])\n"
        "print('ml site-packages on path:', any(p.startswith(os.environ['ML_SITE']) for p in sys.path))\n")


def test_conda_file_environment_has_its_packages_and_python(jobs, wheels, tmp_path, monkeypatch):
    monkeypatch.setenv("ML_SITE", sysconfig.get_paths()["purelib"])
    conda = ("name: t\nchannels: [conda-forge]\ndependencies:\n  - python=3.12\n  - pip\n  - cudatoolkit=11.8\n"
             f"  - pip:\n    - --no-index\n    - --find-links {wheels}\n    - envpkg==0.1\n"
             "    - azureml-core=={{latest-pypi-version}}\n")
    env = register(jobs, "conda-env", {"condaFile": conda, "image": "mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04"})
    submit(jobs, tmp_path, "conda-1", SHOW + "import envpkg; print('value', envpkg.VALUE)\n", env)
    props, log = finished(jobs, "conda-1")
    assert props["status"] == "Completed", log
    assert "value envpkg-0.1" in log and "ml site-packages on path: False" in log
    assert f"python {pythons.choose('3.12')[0].label}" in log  # the pinned one, or the nearest this machine has
    assert "conda packages with no PyPI equivalent are not installed: cudatoolkit" in log
    assert "Azure-only packages skipped: azureml-core" in log
    prefix = Path(next(line.split(" ", 1)[1] for line in log.splitlines() if line.startswith("prefix ")))
    assert prefix.parent == environments_root(jobs.home)


def test_image_environment_is_a_plain_venv_and_pip_install_stays_inside(jobs, wheels, tmp_path):
    before = ml_site_packages()
    env = register(jobs, "image-env", {"image": "python:3.11-slim"})
    command = ("import subprocess, sys\n"
               f"subprocess.run(['pip', 'install', '--no-index', '--find-links', {str(wheels)!r}, 'otherpkg'],"
               " check=True)\n"
               "import otherpkg\nprint('installed', otherpkg.VALUE, 'into', sys.prefix)\n"
               "print('python', '%d.%d' % sys.version_info[:2])\n")
    submit(jobs, tmp_path, "image-1", command, env)
    props, log = finished(jobs, "image-1")
    assert props["status"] == "Completed", log
    assert "image python:3.11-slim is not pulled locally" in log
    assert f"python {pythons.choose('3.11')[0].label}" in log  # the image's Python, or the nearest
    assert "installed otherpkg-1.0 into " + str(environments_root(jobs.home)) in log
    assert ml_site_packages() == before  # the job's `pip install` went into its own venv


def test_build_context_honours_dockerfile_steps_and_requirements(jobs, wheels, tmp_path):
    context = tmp_path / "context"
    context.mkdir()
    (context / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\nenvpkg==0.2\n")
    (context / "Dockerfile").write_text(
        "FROM python:3.11\nENV X=1\nRUN apt-get update && apt-get install -y curl\nCOPY requirements.txt .\n"
        f"RUN pip install -r requirements.txt && \\\n    pip install --no-index --find-links {wheels} 'otherpkg>=1'\n")
    uri = upload_to_datastore(jobs.client, str(context), name="ctx", version="1").uri
    env = register(jobs, "build-env", {"build": {"contextUri": uri, "dockerfilePath": "Dockerfile"}})
    submit(jobs, tmp_path, "build-1", "import envpkg, otherpkg\nprint('values', envpkg.VALUE, otherpkg.VALUE)\n", env)
    props, log = finished(jobs, "build-1")
    assert props["status"] == "Completed", log
    assert "values envpkg-0.2 otherpkg-1.0" in log
    assert "Dockerfile instructions not carried out locally (no Docker): ENV, RUN apt-get" in log


def test_curated_environment_by_name_and_registry_id(jobs, tmp_path, monkeypatch):
    """AzureML-sklearn-1.5 from its published definition (built once per session by conftest)."""
    before = ml_site_packages()
    command = ("import sys, sklearn, pandas, mlflow\n"
               "print('versions', sys.version_info[:2] == (3, 10), sklearn.__version__, pandas.__version__)\n"
               "mlflow.log_metric('accuracy', 0.5)\nprint('tracking', mlflow.get_tracking_uri())\n")
    submit(jobs, tmp_path, "curated-name", command, "azureml:AzureML-sklearn-1.5@latest")
    submit(jobs, tmp_path, "curated-registry", command,
           "azureml://registries/azureml/environments/sklearn-1.5/labels/latest")
    for name in ("curated-name", "curated-registry"):
        props, log = finished(jobs, name, timeout=180)
        assert props["status"] == "Completed", log
        version_line = next(line for line in log.splitlines() if line.startswith("versions "))
        assert version_line.split()[2].startswith("1.5.") and version_line.split()[3].startswith("1.5.")
        assert "tracking http://127.0.0.1:" in log
        assert "environment AzureML-sklearn-1.5 (Python 3.10)" in log
        assert "Azure-only packages skipped" in log and "azureml-core" in log
    from cli.local.tracking.summary import latest_metrics

    assert latest_metrics(jobs.service.root, "curated-name") == {"accuracy": 0.5}
    assert ml_site_packages() == before


def test_concurrent_jobs_on_a_new_environment_build_it_once(jobs, wheels, tmp_path, monkeypatch):
    root = tmp_path / "fresh-envs"
    monkeypatch.setenv("ML_ENVIRONMENTS_DIR", str(root))  # the runners inherit it
    env = register(jobs, "shared-env", {"condaFile": f"dependencies:\n  - pip:\n    - --no-index\n"
                                                     f"    - --find-links {wheels}\n    - envpkg==0.2\n"})
    names = [f"together-{i}" for i in range(3)]
    bodies = {name: job_body(jobs, tmp_path, name, f"import envpkg; print({name!r}, envpkg.VALUE)\n", env)
              for name in names}
    jobs.jobs.extend(names)
    threads = [threading.Thread(target=jobs.client.put, args=(f"jobs/{name}", bodies[name])) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logs = []
    for name in names:
        props, log = finished(jobs, name)
        assert props["status"] == "Completed", log
        logs.append(log)
    assert sum("building environment shared-env:1" in log for log in logs) == 1, logs
    assert sum("built environment shared-env:1" in log for log in logs) == 1
    assert [p.name for p in root.iterdir() if p.is_dir()] == [next(p.name for p in root.iterdir() if p.is_dir())]


def test_failed_build_fails_the_job_with_the_installers_lines_and_leaves_nothing(jobs, wheels, tmp_path,
                                                                                  monkeypatch):
    root = tmp_path / "fresh-envs"
    monkeypatch.setenv("ML_ENVIRONMENTS_DIR", str(root))
    env = register(jobs, "broken-env", {"condaFile": f"dependencies:\n  - pip:\n    - --no-index\n"
                                                     f"    - --find-links {wheels}\n    - nosuchpkg==1.0\n"})
    submit(jobs, tmp_path, "broken-1", "print('never')\n", env)
    props, log = finished(jobs, "broken-1")
    assert props["status"] == "Failed"
    reason = props["properties"]["FailureReason"]
    assert "building environment broken-env:1 failed:" in reason and "nosuchpkg" in reason
    assert "never" not in log
    assert not [p for p in root.iterdir() if p.is_dir()]  # no half-built venv
    assert [p.name for p in root.glob("*.failed.log")]


def test_offline_index_is_one_clear_line_not_a_hang(jobs, tmp_path, monkeypatch):
    import socket

    root = tmp_path / "fresh-envs"
    monkeypatch.setenv("ML_ENVIRONMENTS_DIR", str(root))
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again: nothing listens there
    env = register(jobs, "offline-env", {"condaFile": f"dependencies:\n  - pip:\n    - --index-url"
                                                      f" http://127.0.0.1:{port}/simple\n    - somepkg\n"})
    started = time.monotonic()
    submit(jobs, tmp_path, "offline-1", "print('never')\n", env)
    props, _ = finished(jobs, "offline-1")
    assert props["status"] == "Failed" and time.monotonic() - started < 60
    reason = props["properties"]["FailureReason"]
    assert "could not be fetched (offline?)" in reason, reason
    assert len(reason.split("building environment", 1)[1].splitlines()) == 1


def test_pins_with_no_wheel_are_relaxed_with_one_line(jobs, wheels, tmp_path):
    env = register(jobs, "relax-env", {"condaFile": f"dependencies:\n  - pip:\n    - --no-index\n"
                                                    f"    - --find-links {wheels}\n    - oldpkg==1.0\n"})
    submit(jobs, tmp_path, "relax-1", "import oldpkg; print('value', oldpkg.VALUE)\n", env)
    props, log = finished(jobs, "relax-1")
    assert props["status"] == "Completed", log
    assert "value oldpkg-2.0" in log
    assert "relaxed pins that have no wheel for Python" in log and "oldpkg==1.0" in log
