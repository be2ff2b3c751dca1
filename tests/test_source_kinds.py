"""A new document source kind is one module and one registration: a small in-memory kind, registered here and
nowhere else, is served through the real MCP `search`, `read`, `list_sources` and `describe` tools, masked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from mcp import Client

from connectors.base import DocumentNotFound, DocumentStats, InvalidRequest
from connectors.documents import Document, DocumentHit
from mcp_server.config import Config, ConfigError, load_config
from mcp_server.runtime import Runtime
from mcp_server.server import build_server
from mcp_server.sources import SourceKind, SourceSettings, register, unregister

SEEDED = ("Maria Gonzalez", "maria.gonzalez@example.org", "+1 415 555 0172")
NOTES = {
    "n1": f"Refund approved for {SEEDED[0]} after the second complaint. Contact: {SEEDED[1]}.",
    "n2": f"Call back about the refund on {SEEDED[2]} before Friday; the customer prefers mornings.",
    "n3": "Warehouse inventory counts were reconciled; nothing personal in this note.",
}


class MemoryNotes(SourceSettings):
    kind: Literal["memory-notes"]
    notes: dict[str, str]


class MemoryNotesStore:
    """Every note containing a query word, best (most words) first."""

    def __init__(self, name: str, notes: dict[str, str]) -> None:
        self.name = name
        self.notes = notes

    def search(self, query: str, limit: int = 10) -> list[DocumentHit]:
        words = {w.casefold() for w in re.findall(r"\w+", query)}
        if not words:
            raise InvalidRequest(f'source "{self.name}": the search query is empty')
        scored = []
        for ref, text in self.notes.items():
            score = sum(1 for w in re.findall(r"\w+", text) if w.casefold() in words)
            if score:
                scored.append(DocumentHit(ref, f"note {ref}", text, 0, float(score)))
        return sorted(scored, key=lambda h: -h.score)[:limit]

    def read(self, ref: str) -> Document:
        if ref not in self.notes:
            raise DocumentNotFound(f'source "{self.name}": no such note')
        return Document(ref, f"note {ref}", self.notes[ref], "text/plain")

    def stats(self) -> DocumentStats:
        return DocumentStats(documents=len(self.notes), where="in memory")

    def close(self) -> None:
        pass


def _open(_config: Config, source: MemoryNotes) -> MemoryNotesStore:
    return MemoryNotesStore(source.name, source.notes)


@pytest.fixture
def memory_kind() -> Iterator[SourceKind]:
    kind = register(SourceKind("memory-notes", MemoryNotes, "document", _open, lambda _c, _s: "in memory"))
    yield kind
    unregister(kind.name)


def _config(tmp_path: Path) -> Config:
    notes = "\n".join(f'{ref} = "{text}"' for ref, text in NOTES.items())
    path = tmp_path / "maskwire.toml"
    path.write_text(
        f'[masking]\nkey = "{"ab" * 32}"\n\n'
        '[[sources]]\nname = "notes"\nkind = "memory-notes"\ndescription = "Support notes"\n'
        f"[sources.notes]\n{notes}\n"
    )
    return load_config(path)


def _leaks(text: str) -> list[str]:
    return [value for value in SEEDED if value.casefold() in text.casefold()]


async def test_a_registered_kind_is_served_masked_through_search_and_read(
    memory_kind: SourceKind, tmp_path: Path
) -> None:
    runtime = Runtime.start(_config(tmp_path))
    try:
        async with Client(build_server(runtime)) as client:
            listed = await client.call_tool("list_sources", {})
            described = await client.call_tool("describe", {"source": "notes"})
            found = await client.call_tool("search", {"query": "refund"})
            hits = found.structured_content["hits"]  # type: ignore[index]
            reads = [await client.call_tool("read", {"source": "notes", "ref": hit["ref"]}) for hit in hits]
        ledger_rows = list(runtime.ledger.entries())
    finally:
        runtime.close()

    assert "notes (memory-notes; 3 documents) - Support notes" in listed.content[0].text  # type: ignore[union-attr]
    assert "3 documents" in described.content[0].text  # type: ignore[union-attr]
    assert not found.is_error and len(hits) == 2
    assert all(hit["ref"].startswith("<DOC:") for hit in hits)
    assert all(not r.is_error for r in reads)
    texts = [r.structured_content["text"] for r in reads]  # type: ignore[index]
    assert any("<PERSON" in t for t in texts) and any("<EMAIL_ADDRESS" in t for t in texts)
    assert any("<PHONE_NUMBER" in t for t in texts)
    for result in (listed, described, found, *reads):
        assert not _leaks(result.content[0].text + str(result.structured_content))  # type: ignore[union-attr]
    assert not _leaks(" ".join(repr(row) for row in ledger_rows))
    assert [row.tool for row in ledger_rows][-4:] == ["describe", "search", "read", "read"]


def test_an_unregistered_kind_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r'sources\["notes"\]'):
        _config(tmp_path)
