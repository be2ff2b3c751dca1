"""search_schema on a schema too large to describe at once: names and patterns, decisions, paging, policy."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest
from mcp import Client
from mcp_types import CallToolResult, TextContent

from mcp_server.config import parse_config
from mcp_server.runtime import Runtime
from mcp_server.server import build_server
from mcp_server.tools.schema_search import name_matcher

TABLES = 240
SEEDED = ("Philippa Quarrington", "philippa.quarrington@example.org", "Ulrike Brandtmeier")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("wide")
    conn = sqlite3.connect(root / "erp.sqlite")
    for n in range(TABLES):
        conn.execute(f"CREATE TABLE module{n:03d}_items (id INTEGER PRIMARY KEY, label TEXT, created_at TEXT)")
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, full_name TEXT, contact_email TEXT, notes TEXT)")
    conn.execute("CREATE TABLE customer_addresses (id INTEGER PRIMARY KEY, customer_id INTEGER, city TEXT)")
    conn.execute("CREATE TABLE payroll (id INTEGER PRIMARY KEY, employee_email TEXT, salary REAL)")
    conn.execute("CREATE TABLE vendors (id INTEGER PRIMARY KEY, person TEXT)")
    conn.execute("INSERT INTO customers VALUES (1, ?, ?, 'called twice')", SEEDED[:2])
    conn.executemany("INSERT INTO vendors (person) VALUES (?)", [(SEEDED[2],), (SEEDED[0],), ("Jonas Lindqvist",)])
    conn.commit()
    conn.close()
    config = parse_config(
        '[[sources]]\nname = "erp"\nkind = "sql"\nurl = "sqlite:///erp.sqlite"\n'
        '[[sources]]\nname = "other"\nkind = "sql"\nurl = "sqlite:///erp.sqlite"\n'
        '[roles.support]\nsources = ["erp"]\ndeny_tables = ["erp.payroll"]\n'
        '[[agents]]\nname = "support-bot"\nrole = "support"\n',
        root / "maskwire.toml",
    )
    runtime = Runtime.start(config, agent="support-bot")
    yield runtime
    runtime.close()


async def _call(runtime: Runtime, **arguments: object) -> CallToolResult:
    async with Client(build_server(runtime)) as client:
        return await client.call_tool("search_schema", arguments)


def _text(result: CallToolResult) -> str:
    return "".join(b.text for b in result.content if isinstance(b, TextContent))


def _everything(result: CallToolResult) -> str:
    return _text(result) + json.dumps(result.structured_content)


def test_patterns() -> None:
    table, name = name_matcher("email")
    assert table is None and name("contact_EMAIL") and not name("mail")
    table, name = name_matcher("cust*")
    assert name("customers") and not name("my_customers")
    table, name = name_matcher("*.created_at")
    assert table is not None and table("anything") and name("CREATED_AT") and name("created_at_utc")  # part of it
    _, name = name_matcher("a[b]?")  # only * and ? are wildcards
    assert name("a[b]c") and not name("ab")


async def test_columns_by_part_of_their_name_with_their_decision(runtime: Runtime) -> None:
    result = await _call(runtime, pattern="email")
    assert not result.is_error
    matches = result.structured_content["matches"]  # type: ignore[index]
    assert [(m["table"], m["column"]) for m in matches] == [("customers", "contact_email")]  # payroll is denied
    assert matches[0]["masking"] == "pii" and matches[0]["entity"] == "EMAIL_ADDRESS"
    assert "[masked EMAIL_ADDRESS]" in _everything(result)
    for value in SEEDED:
        assert value not in _everything(result)


async def test_tables_by_glob_and_columns_of_one_table(runtime: Runtime) -> None:
    found = (await _call(runtime, pattern="cust*")).structured_content
    assert [(m["table"], m["column"], m["columns"]) for m in found["matches"]] == [  # type: ignore[index]
        ("customer_addresses", None, 3),  # tables whose name matches, with their size
        ("customer_addresses", "customer_id", None),  # and columns whose name matches, with their decision
        ("customers", None, 4),
    ]
    columns = (await _call(runtime, pattern="vendors.*")).structured_content
    decided = {m["column"]: (m["masking"], m["entity"]) for m in columns["matches"]}  # type: ignore[index]
    assert decided == {"id": ("clear", None), "person": ("pii", "PERSON")}  # person: from its sampled values


async def test_paging_through_many_matches(runtime: Runtime) -> None:
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = (await _call(runtime, pattern="*.created_at", limit=100, offset=offset)).structured_content
        assert page["total"] == TABLES  # type: ignore[index]
        seen.extend(m["table"] for m in page["matches"])  # type: ignore[index]
        offset = page["next_offset"]  # type: ignore[index]
    assert len(seen) == len(set(seen)) == TABLES


async def test_a_page_fits_the_output_budget(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = runtime.config.tokens.model_copy(update={"max_output_tokens": 300})
    monkeypatch.setattr(runtime.pipeline, "config", runtime.config.model_copy(update={"tokens": tokens}))
    result = await _call(runtime, pattern="*.created_at", limit=200)
    page = result.structured_content
    shown = len(page["matches"])  # type: ignore[index]
    assert 1 <= shown < 200 and page["next_offset"] == shown and page["total"] == TABLES  # type: ignore[index]
    assert runtime.counter.count(_text(result)) <= 300


async def test_filter_by_masking(runtime: Runtime) -> None:
    result = (await _call(runtime, pattern="*", masking="pii", sources=["erp"])).structured_content
    found = {(m["table"], m["column"]) for m in result["matches"]}  # type: ignore[index]
    assert {("customers", "contact_email"), ("customers", "full_name"), ("vendors", "person")} <= found
    assert all(m["masking"] == "pii" for m in result["matches"])  # type: ignore[index]
    assert not any(table == "payroll" for table, _ in found)


async def test_refusals_are_clear_and_recorded_without_the_pattern(runtime: Runtime) -> None:
    denied = await _call(runtime, pattern="id", sources=["other"])
    assert denied.is_error and 'may not use source "other"' in _everything(denied)
    unknown = await _call(runtime, pattern="id", sources=["nope"])
    assert unknown.is_error and "unknown source" in _everything(unknown)
    empty = await _call(runtime, pattern="  ")
    assert empty.is_error and "`pattern` is empty" in _everything(empty)
    await _call(runtime, pattern=SEEDED[1])
    dump = str([e.record() for e in runtime.ledger.entries()])
    assert SEEDED[1] not in dump and "search_schema" in dump
