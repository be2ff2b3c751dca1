"""`maskwire install claude|vscode|cursor`: register the server in an MCP client's config file.

The entry runs this interpreter (`python -m mcp_server.cli serve ...`), so it works from a virtualenv without
PATH changes. Other servers in the file are kept; the previous file is saved next to it as `.bak`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Literal

Client = Literal["claude", "vscode", "cursor"]
SERVER_NAME = "maskwire"


def default_path(client: Client) -> Path:
    home = Path.home()
    if client == "claude":
        if sys.platform == "darwin":
            return home / "Library" / "Application Support" / "Claude" / "claude_desktop_config.json"
        if sys.platform == "win32":
            return Path(os.environ.get("APPDATA", home)) / "Claude" / "claude_desktop_config.json"
        return home / ".config" / "Claude" / "claude_desktop_config.json"
    if client == "cursor":
        return home / ".cursor" / "mcp.json"
    return Path.cwd() / ".vscode" / "mcp.json"


def server_entry(client: Client, config: Path, agent: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "command": sys.executable,
        "args": ["-m", "mcp_server.cli", "serve", "--config", str(config.resolve()), "--agent", agent],
    }
    if client == "vscode":
        entry = {"type": "stdio", **entry}
    return entry


def install(client: Client, config: Path, agent: str, path: Path | None = None) -> Path:
    """Add or replace Maskwire's entry in the client's config file; returns the file written."""
    target = path or default_path(client)
    key = "servers" if client == "vscode" else "mcpServers"
    document: dict[str, Any] = {}
    if target.exists():
        try:
            document = json.loads(target.read_text(encoding="utf-8") or "{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"{target} is not valid JSON (line {exc.lineno}); fix or move it first") from None
        if not isinstance(document, dict):
            raise ValueError(f"{target} does not hold a JSON object")
        shutil.copy2(target, target.with_name(target.name + ".bak"))
    servers = document.setdefault(key, {})
    if not isinstance(servers, dict):
        raise ValueError(f'{target}: "{key}" is not a JSON object')
    servers[SERVER_NAME] = server_entry(client, config, agent)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return target
