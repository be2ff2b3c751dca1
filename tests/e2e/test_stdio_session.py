"""End to end: `maskwire serve` in a subprocess, driven over stdio by the official MCP client.

One scripted session (module fixture) exercises every tool with ordinary and adversarial calls. The tests
then assert that no seeded personal value appears in anything the client received or in the ledger, and
that every ledger row matches the call it records.
"""

from __future__ import annotations

import json
import sqlite3
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
from mcp_server.server import TOOL_NAMES
from mcp_server.tokens import TokenCounter

pytestmark = pytest.mark.e2e

AGENT = "e2e-agent"

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_sources", {}),
    ("describe", {"source": "crm"}),
    ("describe", {"source": "crm", "table": "customers"}),
    ("query", {"source": "crm", "sql": "SELECT * FROM customers"}),
    ("query", {"source": "crm", "sql": "SELECT email AS remark, phone AS note, ssn AS x FROM customers"}),
    (
        "query",
        {"source": "crm", "sql": "SELECT first_name || ' ' || last_name AS n, upper(email) FROM customers"},
    ),
    (
        "query",
        {
            "source": "crm",
            "sql": "SELECT substr(card_number, 1, 16), lower(street_address), CAST(birth_date AS TEXT) FROM customers",
        },
    ),
    ("query", {"source": "crm", "sql": "SELECT id, subject, body FROM support_tickets"}),
    (
        "query",
        {"source": "crm", "sql": "WITH c AS (SELECT email AS e, ssn FROM customers) SELECT e, ssn FROM c"},
    ),
    ("query", {"source": "crm", "sql": "SELECT email FROM customers UNION SELECT body FROM support_tickets"}),
    ("query", {"source": "crm", "sql": "SELECT MAX(email), MIN(ssn), COUNT(DISTINCT email) FROM customers"}),
    (
        "query",
        {
            "source": "crm",
            "sql": "SELECT c.email, COUNT(*) AS n FROM customers c JOIN orders o "
            "ON o.customer_id = c.id GROUP BY c.email",
        },
    ),
    ("query", {"source": "crm", "sql": "SELECT (SELECT email FROM customers LIMIT 1) AS sneaky"}),
    ("query", {"source": "crm", "sql": "SELECT id, amount, status, ordered_at FROM orders", "max_rows": 5}),
    # bad input: every one is an error result, recorded, and leaks nothing
    ("query", {"source": "crm", "sql": "DELETE FROM customers"}),
    ("query", {"source": "crm", "sql": "SELECT 1; DROP TABLE customers"}),
    ("query", {"source": "crm", "sql": "SELEC email FROM customers"}),
    ("query", {"source": "crm", "sql": "SELECT id FROM customers WHERE ssn LIKE '1%'"}),
    ("query", {"source": "crm", "sql": "SELECT id FROM customers WHERE length(ssn) = 11"}),
    ("query", {"source": "crm", "sql": "SELECT * FROM no_such_table"}),
    ("query", {"source": "nope", "sql": "SELECT 1"}),
    ("query", {"source": "crm", "sql": ""}),
    ("query", {"source": "crm", "sql": "SELECT 1 -- " + "x" * 200_000}),
    ("query", {"source": "crm", "sql": "SELECT email FROM customers", "cursor": "garbage"}),
    ("describe", {"source": "crm", "table": "no_such_table"}),
    ("query", {"source": "crm"}),  # missing required argument: rejected before the tool
    ("no_such_tool", {}),
    ("query", {"source": "crm", "sql": "SELECT id FROM customers WHERE email IN ('a@example.com', 'b@example.com')"}),
]


@dataclass
class Call:
    tool: str
    arguments: dict[str, Any]
    result: CallToolResult

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.result.content if isinstance(b, TextContent))

    def everything(self) -> str:
        return self.text + json.dumps(self.result.structured_content or {}, ensure_ascii=False)


@dataclass
class Session:
    calls: list[Call]
    ledger: list[LedgerEntry]
    seeded: tuple[str, ...]
    token_query: Call | None
    chain: tuple[int, list[str]]
    database: Path
    config: Path


async def _drive(config: Path) -> tuple[list[Call], Call | None]:
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_server.cli", "serve", "--config", str(config), "--agent", AGENT],
    )
    calls: list[Call] = []
    async with Client(server, client_info=Implementation(name="e2e-client", version="9.9")) as client:
        tools = await client.list_tools()
        assert {t.name for t in tools.tools} >= {"list_sources", "describe", "query"}
        for tool, arguments in CALLS:
            calls.append(Call(tool, arguments, await client.call_tool(tool, arguments)))
        # a token the agent was given works as a literal in a later query
        first = next(c for c in calls if c.tool == "query" and not c.result.is_error)
        email_token = next(
            row[first.result.structured_content["columns"].index(col)]  # type: ignore[index]
            for row in first.result.structured_content["rows"]  # type: ignore[index]
            for col in first.result.structured_content["columns"]  # type: ignore[index]
            if col["name"] == "email"
        )
        args = {"source": "crm", "sql": f"SELECT id, email FROM customers WHERE email = '{email_token}'"}
        token_query = Call("query", args, await client.call_tool("query", args))
        calls.append(token_query)
        # page through a result that does not fit in one call's token budget
        cursor = calls[3].result.structured_content["cursor"]  # type: ignore[index]
        while cursor:
            args = {"source": "crm", "sql": "SELECT * FROM customers", "cursor": cursor}
            page = Call("query", args, await client.call_tool("query", args))
            calls.append(page)
            cursor = page.result.structured_content["cursor"]  # type: ignore[index]
    return calls, token_query


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    root = tmp_path_factory.mktemp("workspace")
    workspace = prepare_demo(root)
    calls, token_query = anyio.run(_drive, root / "maskwire.toml")
    ledger = Ledger(load_config(root / "maskwire.toml").ledger_url)
    entries = list(ledger.entries())
    chain = ledger.verify()
    ledger.dispose()
    return Session(
        calls, entries, workspace.seeded.must_not_leak(), token_query, chain, workspace.database, root / "maskwire.toml"
    )


def _leaks(text: str, seeded: tuple[str, ...]) -> list[str]:
    folded = text.casefold()
    return [value for value in seeded if value.casefold() in folded]


def test_no_seeded_value_reaches_the_client(session: Session) -> None:
    for call in session.calls:
        leaked = _leaks(call.everything(), session.seeded)
        assert not leaked, f"{call.tool}({call.arguments.get('sql', call.arguments)!s:.80}) leaked {leaked[:5]}"


def test_no_seeded_value_reaches_the_ledger(session: Session) -> None:
    dump = json.dumps([e.record() for e in session.ledger], ensure_ascii=False)
    assert not _leaks(dump, session.seeded)


def test_results_are_masked_not_empty(session: Session) -> None:
    star = session.calls[3]
    assert not star.result.is_error
    data = star.result.structured_content
    assert data is not None and 0 < data["row_count"] <= 60
    columns = [c["name"] for c in data["columns"]]
    email = columns.index("email")
    assert all(row[email].startswith("<EMAIL_ADDRESS:") for row in data["rows"])
    assert data["entities_masked"]["EMAIL_ADDRESS"] == data["row_count"]
    tier = columns.index("loyalty_tier")
    assert {row[tier] for row in data["rows"]} <= {"bronze", "silver", "gold"}


def test_pages_cover_every_row_once(session: Session) -> None:
    pages = [c for c in session.calls if c.arguments.get("sql") == "SELECT * FROM customers"]
    assert len(pages) >= 2, "60 customers do not fit in one 8000-token page"
    counter = TokenCounter("o200k_base")
    ids = []
    for page in pages:
        data = page.result.structured_content
        assert data is not None and not page.result.is_error
        assert counter.count(page.text) <= 8000
        ids += [row[0] for row in data["rows"]]
        assert data["more"] == (page is not pages[-1])
    assert sorted(ids) == list(range(1, 61))


def test_aliases_and_expressions_stay_masked(session: Session) -> None:
    for index in (5, 6, 10):  # computing on a protected value is refused, naming the column
        call = session.calls[index]
        assert call.result.is_error and "cannot be passed to" in call.text, call.text
    for index in (4, 8, 12):
        call = session.calls[index]
        assert not call.result.is_error, call.text
        data = call.result.structured_content
        assert data is not None
        for row in data["rows"]:
            for value, column in zip(row, data["columns"], strict=True):
                if column["masking"] == "pii" and value is not None:
                    assert str(value).startswith("<"), (call.arguments["sql"], column)


def test_free_text_is_scanned(session: Session) -> None:
    tickets = session.calls[7]
    assert not tickets.result.is_error
    assert "<PERSON:" in tickets.text or "<EMAIL_ADDRESS:" in tickets.text


def test_token_used_as_literal_finds_the_row(session: Session) -> None:
    call = session.token_query
    assert call is not None and not call.result.is_error, call.text if call else ""
    assert call.result.structured_content["row_count"] == 1  # type: ignore[index]


def test_bad_input_is_a_tool_error_with_a_message(session: Session) -> None:
    for call in session.calls[14:27]:
        assert call.result.is_error, call.arguments
        assert call.text and "Traceback" not in call.text


def test_every_call_has_a_matching_ledger_row(session: Session) -> None:
    counter = TokenCounter("o200k_base")
    assert len(session.ledger) == len(session.calls)
    for call, entry in zip(session.calls, session.ledger, strict=True):
        assert entry.agent == AGENT
        assert entry.client_name == "e2e-client" and entry.client_version == "9.9"
        # an unknown tool name is agent input: the ledger keeps a keyed token of it
        assert entry.tool == call.tool if call.tool in TOOL_NAMES else entry.tool.startswith("<LITERAL:")
        assert entry.tokens_out == counter.count(call.text), call.tool
        assert entry.status == ("ok" if not call.result.is_error else entry.status)
        if call.result.is_error:
            assert entry.status in ("denied", "error")
        data = call.result.structured_content or {}
        if call.tool == "query" and not call.result.is_error:
            assert entry.entities == data["entities_masked"]
            assert entry.rows == data["row_count"]


def test_membership_tests_are_counted_in_the_ledger(session: Session) -> None:
    """Comparisons of protected columns with literals (the oracle that remains by design) are recorded."""
    index = next(i for i, c in enumerate(session.calls) if "email IN ('a@example.com'" in c.arguments.get("sql", ""))
    assert session.ledger[index].arguments["membership_tests"] == 2
    assert all("membership_tests" not in e.arguments for e in session.ledger[:3])


def test_write_is_denied_and_database_unchanged(session: Session) -> None:
    assert session.calls[14].result.is_error and session.ledger[14].status == "denied"
    assert session.calls[15].result.is_error and session.ledger[15].status == "denied"
    with sqlite3.connect(session.database) as conn:
        assert conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 60


def test_ledger_chain_is_intact(session: Session) -> None:
    assert session.chain == (len(session.calls), [])


async def test_tokens_work_in_a_later_session(session: Session) -> None:
    """A new server process (a new client session) resolves a token issued by the previous one."""
    first = session.calls[3].result.structured_content
    assert first is not None
    email = [c["name"] for c in first["columns"]].index("email")
    token, row_id = first["rows"][0][email], first["rows"][0][0]
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server.cli", "serve", "--config", str(session.config)]
    )
    async with Client(server) as client:
        result = await client.call_tool(
            "query", {"source": "crm", "sql": f"SELECT id FROM customers WHERE email = '{token}'"}
        )
    assert not result.is_error, result.content
    assert result.structured_content["rows"] == [[row_id]]  # type: ignore[index]
