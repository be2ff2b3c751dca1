import json
import sys
from pathlib import Path

import pytest

from mcp_server import jsonc
from mcp_server.cli import main
from mcp_server.demo.workspace import prepare_demo
from mcp_server.install import CLIENTS, install, remote_entry, server_entry

VSCODE_WITH_COMMENTS = """\
// Workspace MCP servers (VS Code allows comments and trailing commas here)
{
  "servers": {
    /* the team's issue tracker */
    "tracker": {
      "type": "stdio",
      "command": "tracker-mcp", // keep me
    },
  },
}
"""


def test_install_merges_and_keeps_other_servers(tmp_path: Path) -> None:
    target = tmp_path / "claude_desktop_config.json"
    target.write_text(json.dumps({"mcpServers": {"other": {"command": "x"}}, "theme": "dark"}))
    entry = server_entry("claude", tmp_path / "maskwire.toml", "claude-desktop")
    install("claude", entry, target)
    install("claude", entry, target)  # idempotent
    document = json.loads(target.read_text())
    assert document["theme"] == "dark" and "other" in document["mcpServers"]
    entry = document["mcpServers"]["maskwire"]
    assert entry["command"] == sys.executable
    assert entry["args"][-4:] == ["--config", str((tmp_path / "maskwire.toml").resolve()), "--agent", "claude-desktop"]
    assert (tmp_path / "claude_desktop_config.json.bak").exists()


def test_vscode_uses_servers_with_a_type(tmp_path: Path) -> None:
    target = install("vscode", server_entry("vscode", tmp_path / "m.toml", "vscode"), tmp_path / ".vscode" / "mcp.json")
    assert json.loads(target.read_text())["servers"]["maskwire"]["type"] == "stdio"


def test_vscode_jsonc_is_read_and_its_comments_kept(tmp_path: Path) -> None:
    target = tmp_path / "mcp.json"
    target.write_text(VSCODE_WITH_COMMENTS)
    install("vscode", server_entry("vscode", tmp_path / "m.toml", "vscode"), target)
    text = target.read_text()
    for comment in ("// Workspace MCP servers", "/* the team's issue tracker */", "// keep me"):
        assert comment in text
    document = jsonc.loads(text)
    assert set(document["servers"]) == {"tracker", "maskwire"}
    assert document["servers"]["tracker"] == {"type": "stdio", "command": "tracker-mcp"}
    # a second install replaces the entry in place and still keeps everything else
    install("vscode", remote_entry("vscode", "https://mw.example.com/mcp"), target)
    again = jsonc.loads(target.read_text())
    assert again["servers"]["maskwire"]["type"] == "http"
    assert [i["id"] for i in again["inputs"]] == ["maskwire-token"] and again["inputs"][0]["password"] is True
    assert "// keep me" in target.read_text() and (tmp_path / "mcp.json.bak").read_text() == text


@pytest.mark.parametrize(
    "text",
    ["{not json", '{"servers": {"a": 1,,}}', '{"servers": /* open', "[1, 2]", '{"mcpServers": []}'],
)
def test_broken_client_file_is_not_overwritten(tmp_path: Path, text: str) -> None:
    target = tmp_path / "mcp.json"
    target.write_text(text)
    with pytest.raises(ValueError, match=r"mcp\.json"):
        install("cursor", server_entry("cursor", tmp_path / "m.toml", "cursor"), target)
    assert target.read_text() == text and not (tmp_path / "mcp.json.bak").exists()


def test_jsonc_strings_may_hold_comment_markers() -> None:
    text = '{"url": "http://x//y", "glob": "/* not a comment */", // real\n "n": [1, 2,],}'
    assert jsonc.loads(text) == {"url": "http://x//y", "glob": "/* not a comment */", "n": [1, 2]}
    assert jsonc.loads(jsonc.set_member(text, ["mcpServers", "maskwire"], {"a": 1}))["mcpServers"] == {
        "maskwire": {"a": 1}
    }


@pytest.mark.parametrize("client", CLIENTS)
def test_every_client_gets_a_remote_entry_without_the_token(client: str, tmp_path: Path) -> None:
    target = tmp_path / "client.json"
    entry = remote_entry(client, "https://mw.example.com/mcp", "TEAM_TOKEN")  # type: ignore[arg-type]
    install(client, entry, target)  # type: ignore[arg-type]
    written = target.read_text()
    assert "https://mw.example.com/mcp" in written
    assert "Bearer ${" in written  # a reference the client (or the bridge) expands, never a token
    assert ("TEAM_TOKEN" in written) == (client != "vscode")


def test_cli_install(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prepare_demo(tmp_path)
    target = tmp_path / "cursor.json"
    assert main(["install", "cursor", "--config", str(tmp_path / "maskwire.toml"), "--path", str(target)]) == 0
    assert "cursor" in json.loads(target.read_text())["mcpServers"]["maskwire"]["args"]
    assert main(["install", "claude", "--config", str(tmp_path / "maskwire.toml"), "--print"]) == 0
    assert '"mcpServers"' in capsys.readouterr().out
    windsurf = tmp_path / "windsurf.json"
    assert main(["install", "windsurf", "--http", "https://mw.example.com/mcp", "--path", str(windsurf)]) == 0
    assert json.loads(windsurf.read_text())["mcpServers"]["maskwire"]["serverUrl"] == "https://mw.example.com/mcp"
    assert main(["install", "claude-code", "--http", "http://x/mcp", "--agent", "a", "--print"]) == 2


def test_cli_install_with_a_dsn_serves_it_without_a_file(tmp_path: Path) -> None:
    target = tmp_path / ".mcp.json"
    db = tmp_path / "shop.sqlite"
    db.touch()
    assert main(["install", "claude-code", "--dsn", f"sqlite:///{db}", "--path", str(target)]) == 0
    entry = json.loads(target.read_text())["mcpServers"]["maskwire"]
    assert entry["type"] == "stdio" and entry["args"][3:5] == ["--dsn", f"shop=sqlite:///{db}"]
    assert "--config" not in entry["args"]
    with_password = "postgresql://reader:pw-in-url-77@127.0.0.1/crm"
    assert main(["install", "cursor", "--dsn", with_password, "--path", str(tmp_path / "c.json")]) == 2
    assert not (tmp_path / "c.json").exists()
