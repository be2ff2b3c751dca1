"""`maskwire install CLIENT`: register the server in an MCP client's config file.

Clients: Claude Desktop (`claude`), Claude Code (`claude-code`, the project's `.mcp.json`), VS Code (`vscode`,
`.vscode/mcp.json`), Cursor and Windsurf. A local entry runs this interpreter (`python -m mcp_server serve
...`), so it works from a virtualenv without PATH changes; `--http URL` registers a remote `serve --transport
http` instead, with the bearer token taken from an environment variable (VS Code prompts for it), never written
into the file. The files may hold comments and trailing commas (JSONC): the entry is changed in the text, so
other servers, comments and layout are kept; the previous file is saved next to it as `.bak`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Literal, get_args

from mcp_server import jsonc

Client = Literal["claude", "claude-code", "vscode", "cursor", "windsurf"]
CLIENTS: tuple[str, ...] = get_args(Client)
SERVER_NAME = "maskwire"
DEFAULT_TOKEN_ENV = "MASKWIRE_TOKEN"
VSCODE_TOKEN_INPUT = "maskwire-token"
DEFAULT_AGENT = {
    "claude": "claude-desktop",
    "claude-code": "claude-code",
    "vscode": "vscode",
    "cursor": "cursor",
    "windsurf": "windsurf",
}


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
    if client == "windsurf":
        return home / ".codeium" / "windsurf" / "mcp_config.json"
    if client == "claude-code":
        return Path.cwd() / ".mcp.json"
    return Path.cwd() / ".vscode" / "mcp.json"


def servers_key(client: Client) -> str:
    return "servers" if client == "vscode" else "mcpServers"


def server_entry(
    client: Client, config: Path | None, agent: str, serve_args: list[str] | None = None
) -> dict[str, Any]:
    """A local (stdio) entry: this interpreter runs `serve` on `config` (or on `serve_args`, e.g. --dsn ...)."""
    source = serve_args if serve_args is not None else ["--config", str(config.resolve() if config else "")]
    entry: dict[str, Any] = {
        "command": sys.executable,
        "args": ["-m", "mcp_server", "serve", *source, "--agent", agent],
    }
    if client in ("vscode", "claude-code"):
        entry = {"type": "stdio", **entry}
    return entry


def remote_entry(client: Client, url: str, token_env: str = DEFAULT_TOKEN_ENV) -> dict[str, Any]:
    """An entry for a remote `serve --transport http`; the token comes from `token_env` when the client starts."""
    if client == "vscode":
        return {"type": "http", "url": url, "headers": {"Authorization": f"Bearer ${{input:{VSCODE_TOKEN_INPUT}}}"}}
    if client == "claude-code":
        return {"type": "http", "url": url, "headers": {"Authorization": f"Bearer ${{{token_env}}}"}}
    if client == "cursor":
        return {"url": url, "headers": {"Authorization": f"Bearer ${{env:{token_env}}}"}}
    if client == "windsurf":
        return {"serverUrl": url, "headers": {"Authorization": f"Bearer ${{env:{token_env}}}"}}
    # Claude Desktop's file holds local servers only: the mcp-remote bridge (npm) carries the header, and expands
    # ${VAR} from the environment Claude Desktop gives it.
    return {"command": "npx", "args": ["-y", "mcp-remote", url, "--header", f"Authorization:Bearer ${{{token_env}}}"]}


def token_hint(client: Client, token_env: str = DEFAULT_TOKEN_ENV) -> str:
    if client == "vscode":
        return "VS Code asks for the agent's token the first time it starts the server (stored in its secret storage)."
    if client == "claude":
        return (
            f"Set {token_env} to the agent's token in the environment Claude Desktop starts with, or add it to the "
            f'entry as "env": {{"{token_env}": "<token>"}}; the entry runs the mcp-remote bridge with npx.'
        )
    return f"Set {token_env} to the agent's token in the environment the client starts with."


def install(client: Client, entry: dict[str, Any], path: Path | None = None) -> Path:
    """Add or replace Maskwire's entry in the client's config file; returns the file written."""
    target = path or default_path(client)
    text = ""
    if target.exists():
        try:
            text = target.read_text(encoding="utf-8")
            jsonc.loads(text or "{}")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{target}: cannot read it ({type(exc).__name__})") from None
        except jsonc.JsoncError as exc:
            raise ValueError(f"{target} is not valid JSON (line {exc.line}); fix or move it first") from None
    try:
        updated = jsonc.set_member(text, [servers_key(client), SERVER_NAME], entry)
        if client == "vscode" and "${input:" in json.dumps(entry):
            updated = _with_token_input(updated)
    except jsonc.JsoncError as exc:
        raise ValueError(f"{target}: {exc}") from None
    if target.exists():
        shutil.copy2(target, target.with_name(target.name + ".bak"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(updated if updated.endswith("\n") else updated + "\n", encoding="utf-8")
    return target


def _with_token_input(text: str) -> str:
    """VS Code: declare the prompt for the token (a password input) unless the file already has one."""
    inputs = jsonc.loads(text).get("inputs", [])
    if not isinstance(inputs, list):
        raise jsonc.JsoncError('"inputs" is not a JSON array', text, 0)
    if any(isinstance(i, dict) and i.get("id") == VSCODE_TOKEN_INPUT for i in inputs):
        return text
    prompt = {"type": "promptString", "id": VSCODE_TOKEN_INPUT, "description": "Maskwire agent token", "password": True}
    return jsonc.set_member(text, ["inputs"], [*inputs, prompt])
