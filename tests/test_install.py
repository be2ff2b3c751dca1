import json
import sys
from pathlib import Path

import pytest

from mcp_server.cli import main
from mcp_server.demo.workspace import prepare_demo
from mcp_server.install import install


def test_install_merges_and_keeps_other_servers(tmp_path: Path) -> None:
    target = tmp_path / "claude_desktop_config.json"
    target.write_text(json.dumps({"mcpServers": {"other": {"command": "x"}}, "theme": "dark"}))
    install("claude", tmp_path / "maskwire.toml", "claude-desktop", target)
    install("claude", tmp_path / "maskwire.toml", "claude-desktop", target)  # idempotent
    document = json.loads(target.read_text())
    assert document["theme"] == "dark" and "other" in document["mcpServers"]
    entry = document["mcpServers"]["maskwire"]
    assert entry["command"] == sys.executable
    assert entry["args"][-4:] == ["--config", str((tmp_path / "maskwire.toml").resolve()), "--agent", "claude-desktop"]
    assert (tmp_path / "claude_desktop_config.json.bak").exists()


def test_vscode_uses_servers_with_a_type(tmp_path: Path) -> None:
    target = install("vscode", tmp_path / "m.toml", "vscode", tmp_path / ".vscode" / "mcp.json")
    assert json.loads(target.read_text())["servers"]["maskwire"]["type"] == "stdio"


def test_broken_client_file_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "mcp.json"
    target.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        install("cursor", tmp_path / "m.toml", "cursor", target)
    assert target.read_text() == "{not json"


def test_cli_install(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prepare_demo(tmp_path)
    target = tmp_path / "cursor.json"
    assert main(["install", "cursor", "--config", str(tmp_path / "maskwire.toml"), "--path", str(target)]) == 0
    assert "cursor" in json.loads(target.read_text())["mcpServers"]["maskwire"]["args"]
    assert main(["install", "claude", "--config", str(tmp_path / "maskwire.toml"), "--print"]) == 0
    assert '"mcpServers"' in capsys.readouterr().out
