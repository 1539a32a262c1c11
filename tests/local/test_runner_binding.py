import pytest

from cli.local.runner.binding import bind
from cli.local.runner.errors import JobError


def test_literals_verbatim_paths_quoted_and_optional_segments_dropped():
    command = "run --lr ${{inputs.lr}} --data ${{ inputs.data }} $[[--extra ${{inputs.extra}}]] --out ${{outputs.o}}"
    bound = bind(command, {"inputs.lr": "0.1"}, {"inputs.data": "/d/my data", "outputs.o": "/o"})
    assert bound == "run --lr 0.1 --data '/d/my data'  --out /o"
    kept = bind("x $[[--extra ${{inputs.extra}}]]", {}, {"inputs.extra": "/e"})
    assert kept == "x --extra /e"


def test_unknown_reference_is_an_error():
    with pytest.raises(JobError, match="no input 'nope'"):
        bind("echo ${{inputs.nope}}", {}, {})
    with pytest.raises(JobError, match=r"\$\{\{search_space.x\}\}"):
        bind("echo ${{search_space.x}}", {}, {})
