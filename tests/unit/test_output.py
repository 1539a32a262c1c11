import pytest

from cli.output import render

JOBS = [
    {"name": "a", "status": "Completed", "creation_context": {"created_at": "t1"}, "tags": {"k": "v"}},
    {"name": "b", "status": "Failed", "creation_context": {"created_at": "t2"}, "tags": {}},
]


def test_json_is_indented_and_yaml_keeps_key_order():
    assert render({"b": 1, "a": [1]}, "json") == '{\n  "b": 1,\n  "a": [\n    1\n  ]\n}\n'
    assert render({"b": 1, "a": [1]}, "yaml") == "b: 1\na:\n- 1\n"


def test_tsv_prints_scalars_of_each_item_like_az():
    assert render(JOBS, "tsv") == "a\tCompleted\nb\tFailed\n"
    assert render(JOBS, "tsv", "[].name") == "a\nb\n"
    assert render({"name": "x"}, "tsv", "name") == "x\n"


def test_table_shows_the_chosen_columns_by_their_last_segment():
    assert render(JOBS, "table", columns=("name", "status", "creation_context.created_at")) == (
        "Name  Status     CreatedAt\n"
        "----  ---------  ---------\n"
        "a     Completed  t1\n"
        "b     Failed     t2\n"
    )


def test_a_query_result_is_tabled_as_it_is():
    assert render(JOBS, "table", "[].{job: name}", columns=("status",)) == "Job\n---\na\nb\n"


def test_none_prints_nothing():
    assert render(JOBS, "none") == ""


def test_bad_query_raises_for_the_application_to_report():
    with pytest.raises(Exception):
        render(JOBS, "json", "[?")
