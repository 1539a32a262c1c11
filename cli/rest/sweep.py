"""Sweep jobs: a sweep job spec <-> the JobBase body whose properties are a SweepJob.

Shapes follow the SDK's SweepJob._to_rest_object: the search space as `[kind, [arguments]]`
lists, a TrialComponent for `trial:`, the trial's resources repeated at the sweep's level when the
sweep names none, and each early-termination policy with the SDK's defaults filled in.
"""

from __future__ import annotations

from cli.rest.common import asset_reference, compact, duration_seconds, iso_duration, resource_fields, string_values
from cli.rest.job import distribution_to_rest, identity_to_rest, resources_to_rest
from cli.rest.job_io import input_from_rest, input_to_rest, output_from_rest, output_to_rest

# search-space kind -> the spec keys of its arguments, in the REST list's order
DISTRIBUTION_ARGUMENTS = {
    "randint": ("upper",), "uniform": ("min_value", "max_value"), "loguniform": ("min_value", "max_value"),
    "quniform": ("min_value", "max_value", "q"), "qloguniform": ("min_value", "max_value", "q"),
    "normal": ("mu", "sigma"), "lognormal": ("mu", "sigma"), "qnormal": ("mu", "sigma", "q"),
    "qlognormal": ("mu", "sigma", "q"),
}
_ALGORITHMS = {"random": "Random", "grid": "Grid", "bayesian": "Bayesian"}
# policy -> (wire type, {spec key: (wire key, the SDK's default)})
_POLICIES = {
    "bandit": ("Bandit", {"delay_evaluation": ("delayEvaluation", 0), "evaluation_interval": ("evaluationInterval", 0),
                          "slack_amount": ("slackAmount", 0), "slack_factor": ("slackFactor", 0)}),
    "median_stopping": ("MedianStopping", {"delay_evaluation": ("delayEvaluation", 0),
                                           "evaluation_interval": ("evaluationInterval", 1)}),
    "truncation_selection": ("TruncationSelection", {"delay_evaluation": ("delayEvaluation", 0),
                                                     "evaluation_interval": ("evaluationInterval", 0),
                                                     "truncation_percentage": ("truncationPercentage", 0)}),
}
_LIMITS = {"max_concurrent_trials": "maxConcurrentTrials", "max_total_trials": "maxTotalTrials"}


def search_distribution_to_rest(spec: dict):
    """One search-space entry as the REST list: `["uniform", [0.1, 0.5]]`."""
    kind = spec["type"].lower()
    if kind == "choice":
        return ["choice", [[_choice_value(value) for value in spec.get("values") or []]]]
    return [kind, [spec.get(key) for key in DISTRIBUTION_ARGUMENTS[kind]]]


def _choice_value(value):
    # a dict among the values may hold nested distributions (a conditional search space)
    if isinstance(value, dict):
        return {k: search_distribution_to_rest(v) if isinstance(v, dict) and "type" in v else v for k, v in value.items()}
    return value


def sampling_algorithm_to_rest(algorithm) -> dict:
    if isinstance(algorithm, str) or algorithm is None:
        algorithm = {"type": algorithm or "random"}
    kind = algorithm["type"].lower()
    extra = {key: algorithm.get(key) for key in ("rule", "seed", "logbase")} if kind == "random" else {}
    return compact({"samplingAlgorithmType": _ALGORITHMS[kind], **extra})


def early_termination_to_rest(policy: dict | None) -> dict | None:
    if not policy:
        return None
    wire_type, fields = _POLICIES[policy["type"].lower()]
    return {"policyType": wire_type,
            **{wire: policy[ours] if policy.get(ours) is not None else default for ours, (wire, default) in fields.items()}}


def limits_to_rest(limits: dict | None) -> dict:
    limits = limits or {}
    return compact({"jobLimitsType": "Sweep", **{wire: limits.get(ours) for ours, wire in _LIMITS.items()},
                    "timeout": iso_duration(limits.get("timeout")),
                    "trialTimeout": iso_duration(limits.get("trial_timeout"))})


def to_rest(spec: dict, refs) -> dict:
    """A sweep job's PUT body; the job name goes in the URL, not here."""
    trial = spec.get("trial") or {}
    objective = spec.get("objective") or {}
    queue = spec.get("queue_settings") or {}
    trial_resources = resources_to_rest(trial.get("resources"))
    environment = trial.get("environment")
    return {"properties": compact({
        "jobType": "Sweep",
        "displayName": spec.get("display_name"),
        "description": spec.get("description"),
        "experimentName": spec.get("experiment_name"),
        "isArchived": False,
        "searchSpace": {name: search_distribution_to_rest(value) for name, value in (spec.get("search_space") or {}).items()},
        "samplingAlgorithm": sampling_algorithm_to_rest(spec.get("sampling_algorithm")),
        "limits": limits_to_rest(spec.get("limits")),
        "earlyTermination": early_termination_to_rest(spec.get("early_termination")),
        "properties": string_values(spec.get("properties")),
        "computeId": refs.compute_id(spec.get("compute")),
        "objective": compact({"goal": (objective.get("goal") or "").lower() or None,
                              "primaryMetric": objective.get("primary_metric")}),
        "trial": compact({
            "codeId": refs.code_id(trial["code"]) if trial.get("code") else None,
            "distribution": distribution_to_rest(trial.get("distribution")),
            "environmentId": refs.asset_id(environment, "environments") if isinstance(environment, str) else None,
            "command": trial.get("command"),
            "environmentVariables": string_values(trial.get("environment_variables")),
            "resources": trial_resources,
        }),
        "tags": string_values(spec.get("tags")),
        "inputs": {name: input_to_rest(value, refs) for name, value in (spec.get("inputs") or {}).items()},
        "outputs": {name: output_to_rest(value) for name, value in (spec.get("outputs") or {}).items()},
        "identity": identity_to_rest(spec.get("identity")),
        "queueSettings": {"jobTier": queue["job_tier"].capitalize()} if queue.get("job_tier") else None,
        # the SweepJob model of 2025-12-01 lacks `resources`; the SDK still sends it, from the trial's
        # when the sweep names none
        "resources": resources_to_rest(spec.get("resources")) or trial_resources,
    })}



def search_distribution_from_rest(rest: list) -> dict:
    """A REST search-space entry as the spec writes it."""
    kind, args = rest[0], rest[1]
    if kind == "choice":
        values = [{k: search_distribution_from_rest(v) if isinstance(v, list) and v and v[0] in (*DISTRIBUTION_ARGUMENTS, "choice")
                   else v for k, v in value.items()} if isinstance(value, dict) else value for value in args[0]]
        return {"type": "choice", "values": values}
    return {"type": kind, **dict(zip(DISTRIBUTION_ARGUMENTS[kind], args))}


def from_rest(body: dict) -> dict:
    """The sweep job as `ml job show` prints it."""
    props = body.get("properties") or {}
    trial = props.get("trial") or {}
    algorithm = dict(props.get("samplingAlgorithm") or {})
    kind = (algorithm.pop("samplingAlgorithmType", None) or "Random").lower()
    policy = props.get("earlyTermination") or {}
    policy_type = next((ours for ours, (wire, _) in _POLICIES.items() if wire == policy.get("policyType")), None)
    limits = props.get("limits") or {}
    objective = props.get("objective") or {}
    return compact({
        "name": body.get("name"), **resource_fields(body),
        "type": "sweep",
        "status": props.get("status"),
        "display_name": props.get("displayName"), "description": props.get("description"),
        "experiment_name": props.get("experimentName"),
        "trial": compact({"command": trial.get("command"),
                          "code": "azureml:" + trial["codeId"] if trial.get("codeId") else None,
                          "environment": asset_reference(trial.get("environmentId")),
                          "environment_variables": trial.get("environmentVariables") or None}),
        "compute": asset_reference(props.get("computeId")),
        "inputs": {name: input_from_rest(value) for name, value in (props.get("inputs") or {}).items()},
        "outputs": {name: output_from_rest(value) for name, value in (props.get("outputs") or {}).items()},
        "sampling_algorithm": {"type": kind, **algorithm} if algorithm else kind,
        "search_space": {name: search_distribution_from_rest(rest) for name, rest in (props.get("searchSpace") or {}).items()},
        "objective": compact({"goal": objective.get("goal"), "primary_metric": objective.get("primaryMetric")}),
        "limits": compact({**{ours: limits.get(wire) for ours, wire in _LIMITS.items()},
                           "timeout": duration_seconds(limits.get("timeout")),
                           "trial_timeout": duration_seconds(limits.get("trialTimeout"))}) or None,
        "early_termination": compact({"type": policy_type, **{ours: policy.get(wire) for ours, (wire, _) in
                                                               _POLICIES[policy_type][1].items()}}) if policy_type else None,
        "best_trial": best_trial(props),
        "tags": props.get("tags") or {}, "properties": props.get("properties") or {},
    })


def best_trial(props: dict) -> dict | None:
    """The best trial so far, from the properties the sweep keeps (`best_child_run_id`, `score`, and
    locally `best_hyperparameters`): its name, parameters and primary metric."""
    import json

    extra = props.get("properties") or {}
    name = extra.get("best_child_run_id")
    if not name:
        return None
    metric = (props.get("objective") or {}).get("primaryMetric") or "score"
    try:
        value = float(extra["score"]) if extra.get("score") is not None else None
    except ValueError:
        value = extra["score"]
    try:
        parameters = json.loads(extra["best_hyperparameters"]) if extra.get("best_hyperparameters") else None
    except ValueError:
        parameters = None
    return compact({"name": name, "parameters": parameters, "metric": {metric: value} if value is not None else None})
