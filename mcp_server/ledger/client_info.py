"""What the ledger keeps of a client's description of itself: its name and version are the client's own words,
sent in the handshake, and can hold anything (`Quentin Vandermolen 555-31-4592`). They are stored as written when
they read like software, and as keyed tokens otherwise (the same text, the same token: still groupable)."""

from __future__ import annotations

import re
from collections.abc import Callable

from mcp_server.masking.english_words import NAME_PARTS, readable_parts
from mcp_server.masking.stop_words import STOP_WORDS

_VERSION = re.compile(r"[vV]?(?:\d{1,6}(?:\.\d{1,6}){1,3}(?:[-+._~][0-9A-Za-z]{1,24}){0,4}|\d{1,3})")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/@+:-]{0,63}")
_LONG_NUMBER = re.compile(r"\d{4}")
CLIENT_WORDS = frozenset(
    {
        *("claude", "cursor", "vscode", "langchain", "langgraph", "llamaindex", "mcp", "inspector", "windsurf"),
        *("zed", "cline", "copilot", "openai", "chatgpt", "gemini", "ollama", "goose", "codex", "jetbrains"),
        *("anthropic", "github", "fastmcp", "pydantic", "typescript", "python", "dbhub", "maskwire", "smolagents"),
        *("autogen", "crewai", "sdk", "cli", "api", "ai", "ide", "vs", "desktop", "adapters", "agents", "config"),
    }
)
"""Words of the names MCP clients and agent frameworks give themselves, beside English words."""
_KNOWN_WORDS = CLIENT_WORDS | STOP_WORDS


def readable_version(version: str) -> bool:
    return bool(_VERSION.fullmatch(version))


def readable_name(name: str, english: frozenset[str]) -> bool:
    """A name made of English words, words of known clients, and short parts (`claude-ai`, `Visual Studio Code`,
    `langchain-mcp-adapters`), with no run of four digits."""
    if not _NAME.fullmatch(name) or _LONG_NUMBER.search(name):
        return False
    return readable_parts(NAME_PARTS.findall(name), english, _KNOWN_WORDS)


def stored_client(name: str, version: str, english: frozenset[str], mask: Callable[[str], str]) -> tuple[str, str]:
    """The client's name and version as the ledger stores them."""
    kept_name = name if not name or readable_name(name, english) else mask(name)
    kept_version = version if not version or readable_version(version) else mask(version)
    return kept_name[:200], kept_version[:100]
