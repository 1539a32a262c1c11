"""What of the submitting shell's environment a local job sees: a documented allow list, minus credentials.

On Azure a job sees none of the submitter's environment; locally it needs some of it to run at all
(PATH, HOME, locale, proxies, CUDA, caches), but never the credentials a shell tends to hold, which
would end up in the job's process, its logs and whatever it uploads. The rule, in order:

1. a variable named exactly in ML_JOB_ENV_ALLOW passes (the user asked for it by name, credential or not);
2. a variable matching ML_JOB_ENV_DENY or the credential patterns in DENIED is dropped;
3. a variable matching ALLOWED or a pattern in ML_JOB_ENV_ALLOW passes;
4. everything else is dropped.

ML_JOB_ENV_ALLOW and ML_JOB_ENV_DENY are comma-separated names or fnmatch patterns (`MY_APP_*`),
matched case-sensitively. The job's own `environment_variables` are not filtered: they are part of the
job. Variables the runner sets (AZUREML_*, MLFLOW_*, inputs and outputs) come on top.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from typing import Callable, Mapping

ALLOW_VARIABLE = "ML_JOB_ENV_ALLOW"
DENY_VARIABLE = "ML_JOB_ENV_DENY"

ALLOWED = (
    # the system and the user
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "TZ", "LANG", "LANGUAGE", "LC_*",
    "TMPDIR", "TMP", "TEMP", "HOSTNAME", "PWD",
    "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR",
    # Windows essentials, should a job run there
    "SYSTEMROOT", "SystemRoot", "COMSPEC", "PATHEXT", "WINDIR", "USERPROFILE", "APPDATA", "LOCALAPPDATA",
    # the network: proxies and trust stores
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    # native libraries and accelerators
    "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "CUDA_*", "NVIDIA_*", "CUDNN_*", "NCCL_*", "HIP_*", "ROCR_*",
    "OMP_*", "MKL_*", "OPENBLAS_*", "KMP_*", "TF_CPP_*",
    # Python and its package tools (the job's venv is built by the runner with them)
    "PYTHONPATH", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING", "PYTHONUTF8",
    "VIRTUAL_ENV", "CONDA_*", "PIP_*", "UV_*", "HF_HOME", "TORCH_HOME", "MPLBACKEND", "MPLCONFIGDIR",
    # ml's own settings, which the runner reads (never secrets)
    "ML_*",
)

DENIED = (
    # cloud and forge credentials
    "AZURE_*", "AZ_*", "ARM_*", "MSI_*", "IDENTITY_*", "AWS_*", "GOOGLE_*", "GCLOUD_*", "CLOUDSDK_*",
    "GITHUB_*", "GH_*", "GITLAB_*", "CI_JOB_TOKEN", "BITBUCKET_*", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
    "OPENAI_*", "ANTHROPIC_*", "WANDB_API_KEY", "DATABRICKS_*", "SSH_AUTH_SOCK", "GPG_AGENT_INFO",
    "NPM_TOKEN", "TWINE_*", "DOCKER_*",
    # anything named like a secret, whatever its prefix
    "*TOKEN*", "*SECRET*", "*PASSWORD*", "*PASSWD*", "*_KEY", "*_KEY_*", "*APIKEY*", "*API_KEY*",
    "*CREDENTIAL*", "*_SAS*", "*CONNECTION_STRING*", "*PRIVATE*", "*AUTH*",
    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX",  # may embed tokens
)


def _patterns(value: str | None) -> list[str]:
    return [p.strip() for p in (value or "").split(",") if p.strip()]


@functools.lru_cache(maxsize=16)
def _matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """One compiled regular expression for a set of fnmatch patterns (case-sensitive, as fnmatchcase).

    Compiled once per process (and before a pipeline's runner forks its steps' runners): fnmatch would
    compile each of these ~110 patterns again in every step's runner, ~20 ms a step."""
    if not patterns:
        return lambda name: False
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)).match


def filtered(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of `environ` a job may see (rules in the module docstring)."""
    extra_allow = _patterns(environ.get(ALLOW_VARIABLE))
    exact = {p for p in extra_allow if not any(c in p for c in "*?[")}
    denied = _matcher((*DENIED, *_patterns(environ.get(DENY_VARIABLE))))
    allowed = _matcher((*ALLOWED, *extra_allow))
    return {name: value for name, value in environ.items()
            if name in exact or (not denied(name) and allowed(name))}
