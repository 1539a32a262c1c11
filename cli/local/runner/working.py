"""A job's working folder as Azure prepares it, and the variables Azure's runtime sets for the job.

On Azure the command runs in the code snapshot (`AZUREML_CR_EXECUTION_WORKING_DIR_PATH`), where
`./outputs` and `./logs` exist; when the command ends, whatever they hold is uploaded to the run's
artifacts as `outputs/...` and `logs/...`, beside `user_logs/` and `system_logs/` (what
`az ml job download --all` brings back under `artifacts/`). Here they are moved into the job's
artifact root (JobFolder.artifacts), whatever the command's outcome, as Azure uploads them either way.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cli.local import ids

UPLOADED_FOLDERS = ("outputs", "logs")


def prepare(working: Path) -> None:
    """Create `./outputs` and `./logs` in the working folder (the snapshot may bring its own)."""
    for name in UPLOADED_FOLDERS:
        (working / name).mkdir(parents=True, exist_ok=True)


def collect(working: Path, artifacts: Path, log=lambda message: None) -> int:
    """Move what the command left in `./outputs` and `./logs` into the artifact root; files moved."""
    moved = 0
    for name in UPLOADED_FOLDERS:
        source, target = working / name, artifacts / name
        if source.is_symlink() or not source.is_dir():
            continue  # the command replaced the folder by a link or a file: nothing to follow out
        for folder, _, files in os.walk(source):
            for file in files:
                origin = Path(folder) / file
                destination = target / origin.relative_to(source)
                try:
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    if origin.is_symlink():
                        continue  # a link may point anywhere on this machine: not an artifact
                    shutil.move(str(origin), destination)
                    moved += 1
                except OSError as exc:
                    log(f"could not keep {name}/{origin.relative_to(source)} as an artifact: {exc}")
    if moved:
        log(f"kept {moved} file{'s' if moved != 1 else ''} of ./outputs and ./logs as artifacts")
    return moved


def azure_variables(workspace_id: str, job: str, experiment: str, working: Path) -> dict[str, str]:
    """The run's identity as Azure's runtime gives it to the command (the ones that mean something here).

    Left out: tokens (AZUREML_RUN_TOKEN: the local tracking server needs none), service endpoints
    (AZUREML_SERVICE_ENDPOINT, AZUREML_DISCOVERY_SERVICE_ENDPOINT: nothing answers them), and the
    capability paths of Azure's data and lifecycle sidecars (AZUREML_CR_DATA_CAPABILITY_PATH ...)."""
    return {
        "AZUREML_RUN_ID": job,
        "AZUREML_ROOT_RUN_ID": job,
        "AZUREML_ARM_SUBSCRIPTION": ids.SUBSCRIPTION,
        "AZUREML_ARM_RESOURCEGROUP": ids.RESOURCE_GROUP,
        "AZUREML_ARM_WORKSPACE_NAME": workspace_id.rsplit("/", 1)[-1],
        "AZUREML_ARM_PROJECT_NAME": experiment,
        "AZUREML_WORKSPACE_SCOPE": workspace_id,
        "AZUREML_EXPERIMENT_SCOPE": f"{workspace_id}/experiments/{experiment}",
        "AZUREML_CR_EXECUTION_WORKING_DIR_PATH": str(working),
        "AZUREML_CR_CORRELATION_ID": job,
    }
