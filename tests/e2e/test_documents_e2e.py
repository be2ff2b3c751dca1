"""End to end for documents: `maskwire serve` over stdio, search and read driven by the official MCP client.

The demo workspace is served from a copy of its config with a small output budget (so reads page) and a
small max_file_bytes; broken files are dropped into the documents folder before the server starts. One
scripted session (module fixture) searches, reads every hit to its end, tries bad refs, and then the tests
check everything the client received and every ledger row against the seeded values.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import CallToolResult, Implementation, TextContent

from mcp_server.config import load_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.ledger.store import Ledger, LedgerEntry
from mcp_server.masking.pseudonyms import Pseudonymizer
from mcp_server.tokens import TokenCounter

pytestmark = pytest.mark.e2e

AGENT = "e2e-docs-agent"
KEY = "e2e-documents-masking-key-0123456789"
MAX_OUTPUT_TOKENS = 400
MAX_FILE_BYTES = 50_000
QUERIES = ["refund", "password", "key", "welcome", "employee", "runbook", '"escalation"']
EXTRA_QUERIES = ["privacy", "report", "loyalty", "support"]
"""The brief's queries leave four demo documents unhit (the employee directory matches "employee" only in its
file name, which is never shown, so it is not a hit); these reach them, so every document is read."""
TOKEN_EMAIL = "carlos.rahman@trailhead.example.com"
"""A staff email that the demo documents hold (the employee directory); searched for by its token."""
UNINDEXED_WORD = "zanzibarquux"
"""Only in the oversized file: never indexed, so never found."""
BAD_REFS = [
    "../../../etc/passwd",
    "/etc/passwd",
    "it/runbook.md",
    "hr/../../maskwire.toml",
    "%2e%2e/%2e%2e/etc/passwd",
    "<DOC:../../etc/passwd>",
    "<DOC:0000000000000000>",
    "<DOC:zzzzzzzzzzzzzzzz>",
    "junk",
    "",
]


@dataclass
class Call:
    tool: str
    arguments: dict[str, Any]
    result: CallToolResult

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.result.content if isinstance(b, TextContent))

    @property
    def data(self) -> dict[str, Any]:
        return self.result.structured_content or {}

    def everything(self) -> str:
        return self.text + json.dumps(self.data, ensure_ascii=False)


@dataclass
class Session:
    calls: list[Call]
    ledger: list[LedgerEntry]
    seeded: tuple[str, ...]
    email_token: str
    root: Path


def _write_config(root: Path) -> Path:
    """A copy of the demo config: fixed key, a small output budget, a small max_file_bytes."""
    text = (root / "maskwire.toml").read_text(encoding="utf-8")
    text = text.replace("max_output_tokens = 8000", f"max_output_tokens = {MAX_OUTPUT_TOKENS}")
    text = text.replace('default_operator = "pseudonym"', f'default_operator = "pseudonym"\nkey = "{KEY}"')
    text += f"max_file_bytes = {MAX_FILE_BYTES}\n"  # the documents source is the last table of the file
    config = root / "e2e-documents.toml"
    config.write_text(text, encoding="utf-8")
    loaded = load_config(config)
    assert loaded.tokens.max_output_tokens == MAX_OUTPUT_TOKENS and loaded.masking.key == KEY
    assert loaded.source("docs").max_file_bytes == MAX_FILE_BYTES  # type: ignore[union-attr]
    return config


def _add_broken_files(documents: Path, seeded: tuple[str, ...]) -> None:
    broken = documents / "broken"
    broken.mkdir()
    pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pa"
    (broken / "truncated.pdf").write_bytes(pdf)
    (broken / "notes.txt").write_bytes(bytes((i * 37 + 11) % 256 for i in range(4096)) + b"\xff\xfe\x00" * 200)
    filler = " ".join(f"refund{i}" for i in range(MAX_FILE_BYTES // 8))
    (broken / "huge.md").write_text(f"# Huge\n{UNINDEXED_WORD} {' '.join(seeded[:20])}\n{filler}\n", encoding="utf-8")
    assert (broken / "huge.md").stat().st_size > MAX_FILE_BYTES


async def _call(client: Client, calls: list[Call], tool: str, arguments: dict[str, Any]) -> Call:
    call = Call(tool, arguments, await client.call_tool(tool, arguments))
    calls.append(call)
    return call


async def _read_all(client: Client, calls: list[Call], ref: str) -> None:
    cursor: str | None = None
    for _ in range(100):
        arguments: dict[str, Any] = {"source": "docs", "ref": ref}
        if cursor:
            arguments["cursor"] = cursor
        page = await _call(client, calls, "read", arguments)
        assert not page.result.is_error, page.text
        cursor = page.data.get("cursor")
        if not cursor:
            return
    raise AssertionError("read never reached the end of the document")


async def _drive(config: Path, email_token: str) -> list[Call]:
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_server.cli", "serve", "--config", str(config), "--agent", AGENT],
    )
    calls: list[Call] = []
    async with Client(server, client_info=Implementation(name="e2e-docs-client", version="1.0")) as client:
        await _call(client, calls, "list_sources", {})
        await _call(client, calls, "describe", {"source": "docs"})
        refs: dict[str, None] = {}
        for query in QUERIES + EXTRA_QUERIES:
            found = await _call(client, calls, "search", {"query": query, "limit": 50})
            refs.update(dict.fromkeys(hit["ref"] for hit in found.data.get("hits", [])))
        await _call(client, calls, "search", {"query": UNINDEXED_WORD})
        for ref in refs:
            await _read_all(client, calls, ref)
        # the token of a seeded email (issued by the reads above) finds the documents holding the email
        await _call(client, calls, "search", {"query": email_token, "limit": 50})
        await _call(client, calls, "search", {"query": "<EMAIL_ADDRESS:0123456789ab>"})  # never issued
        await _call(client, calls, "search", {"query": "   "})
        for ref in BAD_REFS:
            await _call(client, calls, "read", {"source": "docs", "ref": ref})
        some_ref = next(iter(refs))
        await _call(client, calls, "read", {"source": "crm", "ref": some_ref})
        await _call(client, calls, "read", {"source": "docs", "ref": some_ref, "cursor": "garbage"})
        await _call(client, calls, "read", {"source": "docs", "ref": "../" * 40 + "etc/passwd"})  # > max_length
        await _call(client, calls, "describe", {"source": "docs"})  # still answers after all of the above
    return calls


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    root = tmp_path_factory.mktemp("docs-workspace")
    workspace = prepare_demo(root)
    seeded = workspace.seeded.must_not_leak()
    assert TOKEN_EMAIL in seeded
    _add_broken_files(workspace.documents, seeded)
    config = _write_config(root)
    email_token = Pseudonymizer(KEY.encode()).token("EMAIL_ADDRESS", TOKEN_EMAIL)
    calls = anyio.run(_drive, config, email_token)
    ledger = Ledger(load_config(config).ledger_url)
    try:
        entries = list(ledger.entries())
    finally:
        ledger.dispose()
    return Session(calls, entries, seeded, email_token, root)


def _leaks(text: str, seeded: tuple[str, ...]) -> list[str]:
    folded = text.casefold()
    return [value for value in seeded if value.casefold() in folded]


def _searches(session: Session) -> list[Call]:
    return [c for c in session.calls if c.tool == "search"]


def _reads(session: Session) -> list[Call]:
    return [c for c in session.calls if c.tool == "read" and not c.result.is_error]


def test_no_seeded_value_reaches_the_client(session: Session) -> None:
    for call in session.calls:
        leaked = _leaks(call.everything(), session.seeded)
        assert not leaked, f"{call.tool}({str(call.arguments)[:80]}) leaked {leaked[:5]}"


def test_no_seeded_value_reaches_the_ledger(session: Session) -> None:
    dump = json.dumps([e.record() for e in session.ledger], ensure_ascii=False)
    assert not _leaks(dump, session.seeded)
    assert "etc/passwd" not in dump and "runbook.md" not in dump  # raw refs are stored as tokens


def test_searches_find_masked_hits_with_opaque_refs(session: Session) -> None:
    for call in _searches(session)[: len(QUERIES + EXTRA_QUERIES)]:
        assert not call.result.is_error, call.text
        hits = call.data["hits"]
        assert hits, call.arguments["query"]
        for hit in hits:
            assert hit["ref"].startswith("<DOC:") and "/" not in hit["ref"]
            assert not hit["title"].endswith((".md", ".txt", ".csv", ".json"))
    unindexed = _searches(session)[len(QUERIES + EXTRA_QUERIES)]
    assert not unindexed.result.is_error and unindexed.data["hits"] == []


def test_every_read_pages_within_the_budget_to_the_end(session: Session) -> None:
    counter = TokenCounter("o200k_base")
    reads = _reads(session)
    documents = {c.arguments["ref"] for c in reads}
    assert len(documents) == 12  # every demo document is hit by one of the queries
    assert len(reads) > len(documents)  # a 200-token budget makes most documents page
    last_page = {}
    for call in reads:
        assert counter.count(call.text) <= MAX_OUTPUT_TOKENS, call.arguments
        last_page[call.arguments["ref"]] = call
    assert all(not call.data["more"] and call.data["cursor"] is None for call in last_page.values())
    masked = " ".join(c.data["text"] for c in reads)
    assert "<EMAIL_ADDRESS:" in masked and "<PERSON:" in masked and "<US_SSN:" in masked


def test_token_of_a_seeded_email_finds_its_documents(session: Session) -> None:
    masked = " ".join(c.data["text"] for c in _reads(session))
    assert session.email_token in masked, "the reads issued the email's token"
    call = next(c for c in _searches(session) if c.arguments["query"] == session.email_token)
    assert not call.result.is_error, call.text
    assert call.data["hits"], "a token passed back as a query matches its value"
    unknown = next(c for c in _searches(session) if c.arguments["query"] == "<EMAIL_ADDRESS:0123456789ab>")
    assert unknown.result.is_error and "unknown or expired token" in unknown.text


def test_ledger_stores_search_queries_as_literal_tokens(session: Session) -> None:
    pseudonyms = Pseudonymizer(KEY.encode())
    rows = [e for e in session.ledger if e.tool == "search"]
    assert len(rows) == len(_searches(session))
    for call, entry in zip(_searches(session), rows, strict=True):
        stored = entry.arguments["query"]
        if pseudonyms.is_token(call.arguments["query"]):
            assert stored == call.arguments["query"]  # a token is already safe to store
        else:
            assert stored == pseudonyms.literal_token(call.arguments["query"])  # keyed apart from data tokens
            assert stored != pseudonyms.token("LITERAL", call.arguments["query"])
            assert stored.startswith("<LITERAL:")
        assert entry.agent == AGENT


def test_every_call_has_a_ledger_row(session: Session) -> None:
    assert [e.tool for e in session.ledger] == [c.tool for c in session.calls]
    for call, entry in zip(session.calls, session.ledger, strict=True):
        assert (entry.status == "ok") == (not call.result.is_error), (call.tool, call.arguments)
        if call.tool == "read" and not call.result.is_error:
            assert entry.arguments["ref"] == call.arguments["ref"]


def test_bad_refs_are_tool_errors(session: Session) -> None:
    bad = [c for c in session.calls if c.tool == "read" and c.result.is_error]
    assert len(bad) == len(BAD_REFS) + 3
    for call in bad:
        assert call.text and "Traceback" not in call.text
        assert str(session.root) not in call.text and "documents/" not in call.text  # no server paths
    assert any("cursor" in c.text for c in bad)


def test_broken_files_are_skipped_and_reported(session: Session) -> None:
    for describe in [c for c in session.calls if c.tool == "describe"]:
        assert not describe.result.is_error, describe.text
        stats = describe.data["documents"]
        assert stats["skipped"] == 3, stats
        assert stats["documents"] >= 12
        assert "3 files skipped" in describe.text
    listing = session.calls[0]
    docs = next(s for s in listing.data["sources"] if s["name"] == "docs")
    assert docs["status"] == "ok" and docs["documents"] == session.calls[1].data["documents"]["documents"]
