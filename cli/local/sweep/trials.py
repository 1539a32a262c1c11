"""One sweep trial: the command job its parameters make of the sweep's `trial:`, and its objective.

The trial is an ordinary command job (a child of the sweep): the trial's command with every
`${{search_space.<name>}}` replaced by the sampled value, the sweep's inputs, compute and resources,
`limits.trial_timeout` as its timeout, and each parameter also in `AZUREML_SWEEP_<name>` (as Azure
sets it). Its outputs are its own (the sweep's output URIs and asset names stay the sweep's). Its
objective is read from its MLflow run (the run id is the trial's name): every value of the primary
metric in the order logged, and the best of them is the trial's score (HyperDrive's "best primary
metric" of a child run).
"""

from __future__ import annotations

import json
import math
import re
from typing import Optional

from cli.rest.common import compact, iso_duration

SEARCH_SPACE_REF = re.compile(r"\$\{\{\s*search_space\.([A-Za-z0-9_.-]+)\s*\}\}")
PARAMETERS_KEY = "hyperparameters"  # the trial's parameters (JSON) in its string properties


class TrialError(ValueError):
    """The sweep's trial cannot be made from its parameters (a name the search space lacks)."""


def format_value(value) -> str:
    """A parameter as the command line gets it: strings as they are, dicts and lists as JSON."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def bind_command(command: str, params: dict) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in params:
            raise TrialError(f"the trial's command uses ${{{{search_space.{name}}}}}, which the search_space "
                             f"does not define (it has: {', '.join(sorted(params))})")
        return format_value(params[name])

    return SEARCH_SPACE_REF.sub(value, command)


def trial_properties(sweep: dict, params: dict, trial_timeout: Optional[float]) -> dict:
    """The JobBase `properties` of the command job that runs one trial of the sweep `sweep`."""
    trial = sweep.get("trial") or {}
    outputs = {name: compact({k: v for k, v in (spec or {}).items() if k in ("jobOutputType", "mode", "description")})
               for name, spec in (sweep.get("outputs") or {}).items()}
    return compact({
        "jobType": "Command",
        "command": bind_command(trial.get("command") or "", params),
        "codeId": trial.get("codeId"),
        "environmentId": trial.get("environmentId"),
        "environmentVariables": {**(trial.get("environmentVariables") or {}),
                                 **{f"AZUREML_SWEEP_{name}": format_value(v) for name, v in params.items()}},
        "distribution": trial.get("distribution"),
        "resources": trial.get("resources") or sweep.get("resources"),
        "computeId": sweep.get("computeId"),
        "inputs": sweep.get("inputs") or None,
        "outputs": outputs or None,
        "experimentName": sweep.get("experimentName"),
        "identity": sweep.get("identity"),
        "queueSettings": sweep.get("queueSettings"),
        "limits": {"jobLimitsType": "Command", "timeout": iso_duration(trial_timeout)} if trial_timeout else None,
        "properties": {PARAMETERS_KEY: json.dumps(params, sort_keys=True)},
    })


def metric_series(tracking, trial: str, metric: str) -> list[float]:
    """The trial's primary-metric values in the order logged (NaN left out); [] before its run exists."""
    from cli.local.tracking.errors import TrackingError

    try:
        history = tracking.metric_history(trial, metric)
    except TrackingError:
        return []
    values = []
    for point in history:
        value = point.get("value")
        if isinstance(value, (int, float)) and not math.isnan(value):
            values.append(float(value))
    return values


def score(series: list[float], goal: str) -> Optional[float]:
    """The trial's best value of the primary metric, None when it logged none."""
    if not series:
        return None
    return max(series) if goal.lower() == "maximize" else min(series)
