"""`maskwire index` refreshes every indexed document source; one that cannot be opened is named, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_server.cli import main


def test_index_names_an_unopenable_source_and_indexes_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MASKWIRE_HOME", str(tmp_path / "home"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "refunds.md").write_text("# Refunds\nRefunds are paid within 14 days.\n")
    (tmp_path / "a-file").write_text("not a folder")
    config = tmp_path / "maskwire.toml"
    config.write_text(
        f'[server]\nstate_dir = "{tmp_path / "state"}"\n'
        '[[sources]]\nname = "broken"\nkind = "files"\npath = "a-file"\n'
        '[[sources]]\nname = "docs"\nkind = "files"\npath = "docs"\n'
    )
    assert main(["index", "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert 'source "broken"' in err and "is not a directory" in err and "Traceback" not in err
    assert "[docs] 1 files seen: 1 indexed" in out
