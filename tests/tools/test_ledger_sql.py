"""The SQL the ledger keeps: literals compared with clear columns are shown, everything else is a keyed token."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client

from mcp_server.config import load_config, parse_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.runtime import Runtime
from mcp_server.server import build_server


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("ledger-sql")
    prepare_demo(root)
    runtime = Runtime.start(load_config(root / "maskwire.toml"), agent="reviewer")
    yield runtime
    runtime.close()


def _stored(runtime: Runtime, sql: str) -> str:
    return runtime.pipeline.masked_sql(sql, "crm")


@pytest.mark.parametrize(
    ("sql", "shown"),
    [
        ("SELECT id FROM orders WHERE status = 'shipped'", ["'shipped'"]),
        ("SELECT id FROM orders WHERE amount > 100 AND quantity BETWEEN 2 AND 5", ["100", "2", "5"]),
        ("SELECT id FROM orders WHERE status IN ('shipped', 'pending') LIMIT 10", ["'shipped'", "'pending'", "10"]),
        ("SELECT o.id FROM orders AS o WHERE 'refunded' <> o.status", ["'refunded'"]),
        ("SELECT id FROM customers WHERE loyalty_tier = 'gold'", ["'gold'"]),
        ("SELECT id FROM orders WHERE amount > -5", ["-5"]),
        ("SELECT id FROM orders WHERE ordered_at >= '2026-01-01' AND status = 'late delivery'", ["'2026-01-01'"]),
        ("SELECT orders.id FROM orders, customers WHERE id = 123456", ["123456"]),  # clear in both tables
    ],
)
def test_literals_compared_with_clear_columns_are_shown(runtime: Runtime, sql: str, shown: list[str]) -> None:
    stored = _stored(runtime, sql)
    assert "<LITERAL:" not in stored, stored
    for literal in shown:
        assert literal in stored


@pytest.mark.parametrize(
    ("sql", "hidden"),
    [
        # compared with a personal column
        ("SELECT id FROM customers WHERE email = 'ann@example.com'", "ann@example.com"),
        ("SELECT id FROM customers WHERE last_name IN ('Quattlebaum')", "Quattlebaum"),
        # a personal value typed against a clear column: the detector finds it
        ("SELECT id FROM orders WHERE status = 'ann@example.com'", "ann@example.com"),
        ("SELECT id FROM orders WHERE status = 'Zebulon Quattlebaum'", "Zebulon Quattlebaum"),
        ("SELECT id FROM orders WHERE status = '4111 1111 1111 1111'", "4111 1111 1111 1111"),
        # not a direct comparison
        ("SELECT id FROM orders WHERE upper(status) = 'SHIPPED'", "SHIPPED"),
        ("SELECT 'shipped' AS s FROM orders", "shipped"),
        ("SELECT id FROM orders WHERE status LIKE 'ship%'", "ship%"),
        # a column name that could stand for something else
        ("WITH orders AS (SELECT email AS status FROM customers) SELECT * FROM orders WHERE status = 'x1'", "x1"),
        ("SELECT * FROM (SELECT email AS status FROM customers) AS t WHERE status = 'x2'", "x2"),
        ("SELECT email AS status FROM customers, orders WHERE status = 'x3'", "x3"),
        # an unknown column, a column of no table read
        ("SELECT id FROM orders WHERE nothing = 'x4'", "x4"),
        ("SELECT id FROM orders WHERE status = '" + "s" * 65 + "'", "s" * 65),
        # keys of a JSON path are literals the agent wrote (SQLite's json_extract, PostgreSQL's -> and ->>)
        ("SELECT json_extract(status, '$.Hunter2Secret') FROM orders", "Hunter2Secret"),
        ("SELECT json_extract(status, '$.a[0].\"zq@example.com\"') FROM orders", "zq@example.com"),
        ("SELECT status -> 'Zebulon Quattlebaum' FROM orders", "Quattlebaum"),
        ("SELECT json_extract_path_text('{}', '555-31-4592') FROM orders", "4592"),
        # the arguments of a function Maskwire does not know, whose name is a token
        ("SELECT jsonb_build_object('Ysolde Brackenridge', 1) FROM orders", "Brackenridge"),
        ("SELECT wquack81(upper('Zebulon Quattlebaum')) FROM orders", "Quattlebaum"),
    ],
)
def test_other_literals_stay_tokens(runtime: Runtime, sql: str, hidden: str) -> None:
    stored = _stored(runtime, sql)
    assert hidden not in stored and hidden.lower() not in stored.lower(), stored


async def test_the_ledger_row_shows_the_clear_comparison(runtime: Runtime) -> None:
    sql = (
        "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.status = 'shipped' AND c.email = 'zq@example.com'"
    )
    async with Client(build_server(runtime)) as client:
        await client.call_tool("query", {"source": "crm", "sql": sql})
    [*_, entry] = list(runtime.ledger.entries())
    stored = entry.arguments["sql"]
    assert "'shipped'" in stored
    assert "zq@example.com" not in stored and "<LITERAL:" in stored


@pytest.mark.parametrize(
    ("sql", "hidden", "kept"),
    [
        ('SELECT id AS "wquack81", id AS "Quackenbush" FROM orders', ["wquack81", "Quackenbush"], ["orders"]),
        ("SELECT wquack81 FROM customers AS wquack81", ["wquack81"], ["customers"]),
        ("WITH Zebulon AS (SELECT id FROM orders) SELECT id FROM Zebulon", ["Zebulon"], ["orders"]),
    ],
)
def test_identifiers_the_agent_chose_are_tokens(runtime: Runtime, sql: str, hidden: list[str], kept: list[str]) -> None:
    stored = _stored(runtime, sql)
    for name in hidden:
        assert name not in stored, stored
    for name in kept:
        assert name in stored


def test_schema_names_and_plain_english_aliases_stay(runtime: Runtime) -> None:
    sql = "SELECT o.status, COUNT(*) AS n, SUM(o.amount) AS total_revenue FROM orders AS o GROUP BY o.status"
    assert _stored(runtime, sql) == sql


@pytest.mark.parametrize(
    "value", ["Quackenbush", "HIV positive", "Crispin", "wquack81", "1234567", "ann@example", "555 0142", "a.b"]
)
def test_a_clear_comparison_with_a_name_or_code_stays_a_token(runtime: Runtime, value: str) -> None:
    stored = _stored(runtime, f"SELECT id FROM orders WHERE status = '{value}'")
    assert value not in stored and value.lower() not in stored.lower(), stored


def test_error_messages_keep_words_and_schema_names_and_tokenise_the_agents_names(runtime: Runtime) -> None:
    masked = runtime.pipeline.masked_message
    stored = masked('source "crm": the database rejected the query (no such collation sequence: Quackenbush)', "crm")
    assert "Quackenbush" not in stored and "rejected the query" in stored and "<LITERAL:" in stored
    stored = masked("function WQUACK81() is not allowed: it is not on Maskwire's list", "crm")
    assert "Maskwire" in stored
    assert "WQUACK81" not in stored and "is not allowed" in stored
    message = "customers.first_name cannot be passed to ||: a protected column comes back only as it is"
    assert masked(message, "crm") == message
    assert (
        masked("token <EMAIL_ADDRESS:0123456789ab> is unknown", "crm")
        == "token <EMAIL_ADDRESS:0123456789ab> is unknown"
    )


def test_collation_and_unknown_function_names_are_tokens(runtime: Runtime) -> None:
    stored = _stored(runtime, "SELECT wquack81(id) FROM orders WHERE status = 'x' COLLATE Quackenbush")
    assert "wquack81" not in stored and "Quackenbush" not in stored, stored
    kept = _stored(runtime, "SELECT id FROM orders WHERE ordered_at > DATE('now', '-7 days') ORDER BY id")
    assert "ORDER BY id" in kept


def test_the_stored_sql_follows_a_schema_change(tmp_path: Path) -> None:
    """The stored form of a statement is remembered per schema snapshot: a name that becomes a column of the
    schema reads as one after the source is read again, and a repeated statement is stored the same way."""
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT)")
        conn.execute("INSERT INTO items VALUES (1, 'lamp')")
    config = parse_config(
        f'[server]\nstate_dir = "{tmp_path / "state"}"\n[[sources]]\nname = "shop"\nkind = "sql"\nurl = "sqlite:///{path}"\n'
    )
    runtime = Runtime.start(config, agent="reviewer")
    try:
        sql = "SELECT id AS zqxwvk FROM items"
        first = runtime.pipeline.masked_sql(sql, "shop")
        assert "zqxwvk" not in first and runtime.pipeline.masked_sql(sql, "shop") == first
        with sqlite3.connect(path) as conn:
            conn.execute("ALTER TABLE items ADD COLUMN zqxwvk TEXT")
        runtime.pipeline.sources.catalogs["shop"].tables(refresh=True)
        assert "zqxwvk" in runtime.pipeline.masked_sql(sql, "shop")
    finally:
        runtime.close()
