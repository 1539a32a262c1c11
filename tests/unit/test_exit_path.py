"""The one exit path: `cli.app.main` turns every ending of a command into its exit code and lines."""

from __future__ import annotations

import pytest

from cli.app import main
from cli.errors import Interrupted, JobFailedError, MLError, SpecInvalidError, UsageError, exit_code


@pytest.mark.parametrize("error, code", [
    (MLError("x"), 1), (UsageError("x"), 2), (SpecInvalidError([]), 4), (JobFailedError("x"), 8),
    (Interrupted("x"), 130), (KeyboardInterrupt(), 130), (BrokenPipeError(), 0), (RuntimeError("x"), 1),
])
def test_exit_codes_come_from_one_table(error, code):
    assert exit_code(error) == code


def test_no_arguments_prints_help_and_succeeds(capsys):
    assert main([]) == 0
    assert "Usage: ml" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["nope"]) == 2
    assert capsys.readouterr().err.startswith("ml: error: No such command 'nope'")


def test_validate_many_ends_by_raising_with_its_summary(tmp_path, capsys):
    (tmp_path / "bad.yml").write_text("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
                                      "command: 1\ncomand: x\n")
    assert main(["validate", str(tmp_path)]) == 4
    err = capsys.readouterr().err
    assert err.rstrip().splitlines()[-1] == "ml: error: 1 file: 0 valid, 1 invalid"


def test_interrupted_says_what_goes_on_without_error(monkeypatch, capsys):
    import cli.app

    def interrupted(app, argv):
        raise Interrupted("detached; the job goes on: ml job stream -n j")

    monkeypatch.setattr(cli.app, "_run", interrupted)
    assert main(["job", "stream", "-n", "j"]) == 130
    assert capsys.readouterr().err == "ml: detached; the job goes on: ml job stream -n j\n"
