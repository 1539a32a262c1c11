"""Early-termination policies on metric series (cli.local.sweep.early_termination)."""

from __future__ import annotations

from cli.local.sweep.early_termination import due, verdict

BANDIT = {"policyType": "Bandit", "evaluationInterval": 1, "delayEvaluation": 0, "slackFactor": 0.1}


def test_evaluation_points_follow_interval_and_delay():
    policy = {"policyType": "Bandit", "evaluationInterval": 2, "delayEvaluation": 5}
    assert [n for n in range(1, 12) if due(policy, n)] == [6, 8, 10]
    assert [n for n in range(1, 5) if due({"policyType": "Bandit", "evaluationInterval": 0}, n)] == [1, 2, 3, 4]
    assert [n for n in range(1, 8) if due({"policyType": "MedianStopping", "evaluationInterval": 1, "delayEvaluation": 5}, n)] == [5, 6, 7]


def test_bandit_slack_factor_stops_what_falls_outside_it():
    series = {"best": [0.5, 0.8], "near": [0.6, 0.75], "far": [0.6, 0.7]}
    # 0.8 / 1.1 = 0.727: near's 0.75 is within, far's 0.7 outside
    assert verdict(BANDIT, "maximize", "near", series, 2) is None
    assert verdict(BANDIT, "maximize", "far", series, 2) == (
        "Bandit policy at interval 2: best 0.7 is outside the slack_factor 0.1 of the best trial's 0.8")
    assert verdict(BANDIT, "maximize", "best", series, 2) is None


def test_bandit_slack_amount_and_minimize():
    policy = {"policyType": "Bandit", "evaluationInterval": 1, "slackAmount": 0.2}
    series = {"a": [1.0], "b": [1.15], "c": [1.3]}
    assert verdict(policy, "minimize", "b", series, 1) is None
    assert "outside the slack_amount 0.2" in verdict(policy, "minimize", "c", series, 1)
    assert verdict(policy, "maximize", "a", series, 1) is not None  # 1.0 + 0.2 < 1.3


def test_bandit_waits_for_the_delay_and_for_peers():
    policy = {**BANDIT, "delayEvaluation": 3}
    series = {"good": [0.9, 0.9, 0.9], "bad": [0.1, 0.1, 0.1]}
    assert verdict(policy, "maximize", "bad", series, 2) is None
    assert verdict(policy, "maximize", "bad", series, 3) is not None
    assert verdict(BANDIT, "maximize", "bad", {"bad": [0.1]}, 1) is None  # alone: nothing to compare


def test_median_stopping_compares_best_with_the_median_of_running_averages():
    policy = {"policyType": "MedianStopping", "evaluationInterval": 1, "delayEvaluation": 0}
    series = {"a": [0.2, 0.4, 0.6], "b": [0.3, 0.5, 0.7], "c": [0.1, 0.2, 0.3], "d": [0.6, 0.6, 0.6]}
    # at 3, averages of the others of c: a 0.4, b 0.5, d 0.6 -> median 0.5; c's best 0.3 is worse
    assert verdict(policy, "maximize", "c", series, 3) == (
        "MedianStopping policy at interval 3: best 0.3 is worse than the median 0.5 of the other trials' running averages")
    assert verdict(policy, "maximize", "a", series, 3) is None  # best 0.6 vs median(0.5, 0.2, 0.6) = 0.5
    assert verdict(policy, "minimize", "d", series, 3) is not None  # best 0.6 vs median(0.4, 0.5, 0.2) = 0.4


def test_truncation_selection_cuts_the_lowest_percentage_at_the_interval():
    policy = {"policyType": "TruncationSelection", "evaluationInterval": 1, "truncationPercentage": 50}
    series = {"a": [0.1], "b": [0.4], "c": [0.3], "d": [0.2]}
    stopped = {t for t in series if verdict(policy, "maximize", t, series, 1)}
    assert stopped == {"a", "d"}
    stopped = {t for t in series if verdict(policy, "minimize", t, series, 1)}
    assert stopped == {"b", "c"}
    # 20% of 4 trials is less than one trial: none is cut
    assert not any(verdict({**policy, "truncationPercentage": 20}, "maximize", t, series, 1) for t in series)


def test_a_trial_is_judged_on_its_first_n_values_only():
    series = {"a": [0.9, 0.1], "b": [0.1, 0.9]}
    assert verdict(BANDIT, "maximize", "b", series, 1) is not None
    assert verdict(BANDIT, "maximize", "a", series, 3) is None  # not yet at interval 3
    assert verdict(None, "maximize", "b", series, 1) is None
