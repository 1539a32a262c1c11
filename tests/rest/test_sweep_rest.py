"""Sweep jobs: spec -> REST body -> the shown job (cli.rest.sweep). The bodies themselves are compared
with the SDK's in tests/conformance/test_bodies.py (body_specs/sweep_*.yml and the corpus)."""

from __future__ import annotations

from cli.rest.job import from_rest, to_rest


class Refs:
    def code_id(self, value):
        return "/subscriptions/s/codes/c/versions/1"

    def asset_id(self, value, asset_type):
        return value

    def compute_id(self, value):
        return f"/subscriptions/s/computes/{value.removeprefix('azureml:')}" if value else None

    def input_uri(self, path, kind):
        return path


SPEC = {
    "type": "sweep", "display_name": "s",
    "trial": {"command": "python t.py --x ${{search_space.x}}", "code": "src", "environment": "azureml:env:1"},
    "sampling_algorithm": {"type": "random", "seed": 3, "rule": "sobol"},
    "search_space": {
        "x": {"type": "quniform", "min_value": 1, "max_value": 9, "q": 2},
        "y": {"type": "qlognormal", "mu": 0, "sigma": 1, "q": 1},
        "z": {"type": "choice", "values": [{"k": "a", "w": {"type": "randint", "upper": 3}}, 5]},
    },
    "objective": {"goal": "Minimize", "primary_metric": "loss"},
    "limits": {"max_total_trials": 8, "max_concurrent_trials": 2, "timeout": 600, "trial_timeout": 60},
    "early_termination": {"type": "truncation_selection", "truncation_percentage": 20, "delay_evaluation": 2},
}


def test_a_sweep_goes_to_rest_in_the_sdks_shapes():
    props = to_rest(SPEC, Refs())["properties"]
    assert props["jobType"] == "Sweep"
    assert props["searchSpace"] == {"x": ["quniform", [1, 9, 2]], "y": ["qlognormal", [0, 1, 1]],
                                    "z": ["choice", [[{"k": "a", "w": ["randint", [3]]}, 5]]]}
    assert props["samplingAlgorithm"] == {"samplingAlgorithmType": "Random", "seed": 3, "rule": "sobol"}
    assert props["objective"] == {"goal": "minimize", "primaryMetric": "loss"}
    assert props["limits"] == {"jobLimitsType": "Sweep", "maxTotalTrials": 8, "maxConcurrentTrials": 2,
                               "timeout": "PT10M", "trialTimeout": "PT1M"}
    assert props["earlyTermination"] == {"policyType": "TruncationSelection", "delayEvaluation": 2,
                                         "evaluationInterval": 0, "truncationPercentage": 20}
    assert props["trial"] == {"codeId": "/subscriptions/s/codes/c/versions/1", "command": SPEC["trial"]["command"],
                              "environmentId": "azureml:env:1", "environmentVariables": {}}


def test_the_shown_sweep_reads_back_as_the_spec_wrote_it():
    shown = from_rest({"name": "n", "properties": {**to_rest(SPEC, Refs())["properties"], "status": "Running"}})
    assert shown["type"] == "sweep" and shown["status"] == "Running"
    assert shown["search_space"] == SPEC["search_space"]
    assert shown["sampling_algorithm"] == {"type": "random", "seed": 3, "rule": "sobol"}
    assert shown["objective"] == {"goal": "minimize", "primary_metric": "loss"}
    assert shown["limits"] == SPEC["limits"]
    assert shown["early_termination"] == {"type": "truncation_selection", "truncation_percentage": 20,
                                          "delay_evaluation": 2, "evaluation_interval": 0}
    assert shown["trial"]["command"] == SPEC["trial"]["command"]


def test_a_plain_algorithm_name_and_bandit_defaults():
    spec = {**SPEC, "sampling_algorithm": "grid", "early_termination": {"type": "bandit", "slack_factor": 0.1}}
    props = to_rest(spec, Refs())["properties"]
    assert props["samplingAlgorithm"] == {"samplingAlgorithmType": "Grid"}
    assert props["earlyTermination"] == {"policyType": "Bandit", "delayEvaluation": 0, "evaluationInterval": 0,
                                         "slackAmount": 0, "slackFactor": 0.1}
    assert from_rest({"properties": props})["sampling_algorithm"] == "grid"
