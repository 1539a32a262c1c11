"""Search spaces and the random, Sobol and grid samplers, on their REST form (cli.local.sweep)."""

from __future__ import annotations

import math
import statistics

import pytest

from cli.local.sweep.samplers import GridSampler, RandomSampler, make_sampler
from cli.local.sweep.space import SearchSpaceError, parse

EVERY_KIND = {
    "c": ["choice", [["a", "b", "c"]]],
    "ri": ["randint", [5]],
    "u": ["uniform", [2.0, 3.0]],
    "qu": ["quniform", [0, 100, 10]],
    "lu": ["loguniform", [-3, 0]],
    "qlu": ["qloguniform", [0, 5, 4]],
    "n": ["normal", [10.0, 2.0]],
    "qn": ["qnormal", [10.0, 2.0, 0.5]],
    "ln": ["lognormal", [0.0, 0.5]],
    "qln": ["qlognormal", [1.0, 0.5, 2]],
}


def _draws(space: dict, count: int = 2000, **kwargs) -> list[dict]:
    sampler = RandomSampler(parse(space), seed=7, **kwargs)
    return [sampler.propose() for _ in range(count)]


def test_every_distribution_draws_values_of_its_definition():
    draws = _draws(EVERY_KIND)
    column = {name: [d[name] for d in draws] for name in EVERY_KIND}
    assert set(column["c"]) == {"a", "b", "c"}
    assert set(column["ri"]) == {0, 1, 2, 3, 4}
    assert all(2.0 <= v <= 3.0 for v in column["u"]) and abs(statistics.mean(column["u"]) - 2.5) < 0.03
    assert set(column["qu"]) <= set(range(0, 101, 10)) and {0, 100} <= set(column["qu"])
    assert all(math.exp(-3) <= v <= 1.0 for v in column["lu"])
    # log-uniform: the exponent is uniform, so its mean is the middle of [-3, 0]
    assert abs(statistics.mean(math.log(v) for v in column["lu"]) + 1.5) < 0.05
    assert all(v % 4 == 0 and isinstance(v, int) for v in column["qlu"]) and max(column["qlu"]) <= round(math.exp(5) / 4) * 4
    assert abs(statistics.mean(column["n"]) - 10) < 0.15 and abs(statistics.stdev(column["n"]) - 2) < 0.15
    assert all((v / 0.5).is_integer() for v in column["qn"])
    assert all(v > 0 for v in column["ln"]) and abs(statistics.mean(math.log(v) for v in column["ln"])) < 0.05
    assert all(v % 2 == 0 for v in column["qln"])


def test_a_seed_draws_the_same_points_and_another_seed_others():
    space = {"u": ["uniform", [0, 1]], "c": ["choice", [[1, 2, 3]]]}
    first = [RandomSampler(parse(space), seed=3).propose() for _ in range(1)]
    again = RandomSampler(parse(space), seed=3)
    other = RandomSampler(parse(space), seed=4)
    assert first[0] == again.propose()
    assert [again.propose() for _ in range(5)] != [other.propose() for _ in range(5)]


def test_logbase_changes_the_base_of_log_distributions():
    draws = _draws({"lu": ["loguniform", [0, 3]]}, count=200, logbase=10)
    assert all(1 <= d["lu"] <= 1000 for d in draws) and max(d["lu"] for d in draws) > math.exp(3)


def test_sobol_covers_each_dimension_evenly():
    """The first 2**k points of a (scrambled) Sobol sequence put one point in each 1/2**k slice of
    every dimension; independent random draws almost never do."""
    space = {"x": ["uniform", [0, 16]], "y": ["uniform", [0, 16]], "z": ["randint", [16]]}
    sampler = RandomSampler(parse(space), seed=11, rule="sobol")
    points = [sampler.propose() for _ in range(16)]
    assert sorted(int(p["x"]) for p in points) == list(range(16))
    assert sorted(int(p["y"]) for p in points) == list(range(16))
    assert sorted(p["z"] for p in points) == list(range(16))
    again = RandomSampler(parse(space), seed=11, rule="sobol")
    assert [again.propose() for _ in range(16)] == points


def test_nested_choice_values_draw_their_own_distributions():
    space = {"model": ["choice", [[{"kind": "svm", "C": ["uniform", [1, 2]]}, {"kind": "tree", "depth": ["randint", [3]]}]]]}
    draws = _draws(space, count=100)
    svm = [d["model"] for d in draws if d["model"]["kind"] == "svm"]
    tree = [d["model"] for d in draws if d["model"]["kind"] == "tree"]
    assert svm and tree
    assert all(1 <= m["C"] <= 2 for m in svm) and {m["depth"] for m in tree} == {0, 1, 2}


def test_grid_enumerates_every_combination_once_then_stops():
    sampler = GridSampler(parse({"b": ["choice", [[1, 2]]], "a": ["choice", [["x", "y", "z"]]]}))
    points = []
    while (point := sampler.propose()) is not None:
        points.append(point)
    assert sampler.size == 6 and len(points) == 6
    assert points[0] == {"a": "x", "b": 1} and points[-1] == {"a": "z", "b": 2}
    assert len({tuple(sorted(p.items())) for p in points}) == 6


@pytest.mark.parametrize("algorithm, space, message", [
    ({"samplingAlgorithmType": "Grid"}, {"u": ["uniform", [0, 1]]}, "search_space.u: grid sampling takes only choice parameters, not uniform"),
    ({"samplingAlgorithmType": "Random"}, {"u": ["uniform", [2, 1]]}, "search_space.u: min_value 2 is above max_value 1"),
    ({"samplingAlgorithmType": "Random"}, {"q": ["quniform", [0, 1, 0]]}, "search_space.q: q must be positive"),
    ({"samplingAlgorithmType": "Random"}, {"r": ["randint", [0]]}, "search_space.r: randint needs an upper bound of at least 1"),
    ({"samplingAlgorithmType": "Random"}, {"x": ["gamma", [1, 2]]}, "search_space.x: unknown distribution 'gamma'"),
    ({"samplingAlgorithmType": "Random"}, {"u": ["uniform", [0]]}, "search_space.u: uniform takes 2 numbers, got [0]"),
    ({"samplingAlgorithmType": "Random", "rule": "halton"}, {"u": ["uniform", [0, 1]]}, "'halton' is not a rule"),
    ({"samplingAlgorithmType": "Random", "logbase": "1"}, {"u": ["uniform", [0, 1]]}, "logbase: '1' is not a positive number"),
    ({"samplingAlgorithmType": "Random"}, {}, "a sweep needs a search_space"),
])
def test_bad_spaces_are_refused_naming_the_parameter(algorithm, space, message):
    with pytest.raises(SearchSpaceError) as caught:
        make_sampler(algorithm, space)
    assert message in str(caught.value)


def test_make_sampler_reads_seed_and_rule_from_the_rest_algorithm():
    space = {"u": ["uniform", [0, 1]]}
    a = make_sampler({"samplingAlgorithmType": "Random", "seed": 5, "rule": "Sobol"}, space)
    b = make_sampler({"samplingAlgorithmType": "Random", "seed": 5, "rule": "sobol"}, space)
    assert a.sobol is not None and [a.propose() for _ in range(4)] == [b.propose() for _ in range(4)]


def test_a_trial_is_the_command_job_its_parameters_make():
    from cli.local.sweep.trials import TrialError, trial_properties

    sweep = {"trial": {"command": "python t.py --lr ${{search_space.lr}} --m ${{ search_space.model }} --d ${{inputs.d}}",
                       "codeId": "code-1", "environmentId": "env-1", "environmentVariables": {"A": "1"},
                       "resources": {"instanceCount": 1}},
             "inputs": {"d": {"jobInputType": "literal", "value": "3"}},
             "outputs": {"model": {"jobOutputType": "uri_folder", "uri": "azureml://datastores/x/paths/sweep/", "assetName": "m"}},
             "computeId": "compute-1", "experimentName": "e"}
    props = trial_properties(sweep, {"lr": 0.5, "model": {"kind": "svm"}}, trial_timeout=30)
    assert props["command"] == 'python t.py --lr 0.5 --m {"kind": "svm"} --d ${{inputs.d}}'
    assert props["environmentVariables"] == {"A": "1", "AZUREML_SWEEP_lr": "0.5", "AZUREML_SWEEP_model": '{"kind": "svm"}'}
    assert props["outputs"] == {"model": {"jobOutputType": "uri_folder"}}  # each trial writes its own
    assert props["limits"] == {"jobLimitsType": "Command", "timeout": "PT30S"}
    assert (props["jobType"], props["codeId"], props["computeId"], props["inputs"]) == ("Command", "code-1", "compute-1", sweep["inputs"])
    with pytest.raises(TrialError, match=r"uses \$\{\{search_space.lr\}\}, which the search_space does not define"):
        trial_properties(sweep, {"model": 1}, None)


def test_bayesian_takes_choice_uniform_quniform_and_learns_from_results():
    from cli.local.sweep.bayesian import BayesianSampler

    space = parse({"x": ["quniform", [0, 20, 1]], "c": ["choice", [["bad", "good"]]], "u": ["uniform", [0, 1]]})
    sampler = BayesianSampler(space, goal="maximize", seed=1)
    seen = []
    for _ in range(25):
        params = sampler.propose()
        assert float(params["x"]).is_integer() and 0 <= params["x"] <= 20 and 0 <= params["u"] <= 1
        value = params["x"] + (5 if params["c"] == "good" else 0)
        sampler.observe(params, value)
        seen.append(value)
    # the later half does better than the first ten (TPE's random start-up) on average
    assert sum(seen[-10:]) / 10 > sum(seen[:10]) / 10
    with pytest.raises(SearchSpaceError, match="bayesian sampling takes choice, uniform and quniform parameters only, not normal"):
        make_sampler({"samplingAlgorithmType": "Bayesian"}, {"n": ["normal", [0, 1]]})
