import time

import pytest

from mcp_server.progress import step


def test_a_long_step_is_announced_and_timed(capsys: pytest.CaptureFixture[str]) -> None:
    with step("loading the pipeline", after=0.05):
        time.sleep(0.3)
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout carries results (and the MCP protocol under serve)
    lines = captured.err.splitlines()
    assert lines[0] == "maskwire: loading the pipeline ..."
    assert lines[1].startswith("maskwire: loading the pipeline: done in ") and lines[1].endswith(" s")


def test_a_short_step_says_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with step("quick", after=5):
        pass
    assert capsys.readouterr().err == ""


def test_a_failing_step_still_ends_its_announcement(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(KeyError), step("failing", after=0.01):
        time.sleep(0.1)
        raise KeyError("x")
    assert "failing: stopped after" in capsys.readouterr().err
