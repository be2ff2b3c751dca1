"""What the ledger keeps of a client's description of itself: its name and version are the client's own words,
sent in the handshake, and can hold anything (`Quentin Vandermolen 555-31-4592`, version `536.22.8841`). They are
stored as written when they read like software (words of known clients and English words that are no word of the
data's personal values; a version number of at most six digits), and as keyed tokens otherwise (the same text,
the same token: still groupable). Over stdio the client's name is also the agent a call is recorded under, unless
`serve --agent` names it or it is an agent of the config or the agents table: it is labelled by the same rule."""

from __future__ import annotations

import re
from collections.abc import Callable

from mcp_server.masking.english_words import NAME_PARTS, readable_parts
from mcp_server.masking.stop_words import STOP_WORDS

_VERSION = re.compile(r"[vV]?(?:\d{1,6}(?:\.\d{1,6}){1,3}(?:[-+._~][0-9A-Za-z]{1,24}){0,4}|\d{1,3})")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/@+:-]{0,63}")
_LONG_NUMBER = re.compile(r"\d{4}")
MAX_DIGITS = 6
"""Digits a stored name or version may hold: fewer than any identifying number (an SSN has nine)."""
CLIENT_WORDS = frozenset(
    {
        *("claude", "cursor", "vscode", "langchain", "langgraph", "llamaindex", "mcp", "inspector", "windsurf"),
        *("zed", "cline", "copilot", "openai", "chatgpt", "gemini", "ollama", "goose", "codex", "jetbrains"),
        *("anthropic", "github", "fastmcp", "pydantic", "typescript", "python", "dbhub", "maskwire", "smolagents"),
        *("autogen", "crewai", "sdk", "cli", "api", "ai", "ide", "vs", "desktop", "adapters", "agents", "config"),
        *("client", "server", "app", "bot", "agent", "assistant", "test", "tests", "bench", "demo", "e2e"),
    }
)
"""Words of the names MCP clients and agent frameworks give themselves, beside English words."""
_KNOWN_WORDS = CLIENT_WORDS | STOP_WORDS


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def readable_version(version: str) -> bool:
    return bool(_VERSION.fullmatch(version)) and _digits(version) <= MAX_DIGITS


def readable_name(name: str, english: frozenset[str]) -> bool:
    """A name made of English words, words of known clients, and short parts (`claude-ai`, `Visual Studio Code`,
    `langchain-mcp-adapters`), with no run of four digits and at most six digits."""
    if not _NAME.fullmatch(name) or _LONG_NUMBER.search(name) or _digits(name) > MAX_DIGITS:
        return False
    return readable_parts(NAME_PARTS.findall(name), english, _KNOWN_WORDS)


class ClientLabels:
    """The client's name and version, and a self-reported agent name, as the ledger stores them. `english` gives
    the English words, `may_show` says whether text holds no word of the data's personal values, once they are
    loaded (`Masker.known_words_absent`, which waits for them: a name's label must not depend on when it was
    first seen), `mask` gives a keyed token."""

    def __init__(
        self,
        english: Callable[[], frozenset[str]],
        mask: Callable[[str], str],
        may_show: Callable[[str], bool] = lambda _text: True,
    ) -> None:
        self.english = english
        self.mask = mask
        self.may_show = may_show

    def name(self, name: str) -> str:
        """A client's (or a self-reported agent's) name: as sent when it reads like software, else a token."""
        if not name:
            return name
        if not readable_name(name, self.english()):
            return self.mask(name)
        # Words of known clients (`Claude`, `Cursor`) and short parts need no look at the data's names.
        others = [p for p in NAME_PARTS.findall(name) if len(p) > 2 and p.lower() not in CLIENT_WORDS]
        return name[:200] if not others or self.may_show(" ".join(others)) else self.mask(name)

    def version(self, version: str) -> str:
        return version[:100] if not version or readable_version(version) else self.mask(version)

    def client(self, name: str, version: str) -> tuple[str, str]:
        return self.name(name), self.version(version)
