"""Literals: pseudonym tokens, rendering with bound parameters, round-trips, and the ledger mask."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
import sqlglot
from sqlglot import exp

from mcp_server.sqlguard import CheckedQuery, SqlDenied, check_query, mask_literals

Check = Callable[..., CheckedQuery]
ALL = ("sqlite", "postgres", "mysql")
EMAIL_TOKEN = "<EMAIL:0123abcd4567>"
PHONE_TOKEN = "<PHONE:89ab01234567>"

# ------------------------------------------------------------------ tokens


@pytest.mark.parametrize("dialect", ALL)
def test_token_becomes_a_bound_parameter(check: Check, dialect: str) -> None:
    query = check(
        f"SELECT id FROM customers WHERE email = '{EMAIL_TOKEN}' OR phone IN ('{PHONE_TOKEN}', 'x')"
        f" OR email <> '{EMAIL_TOKEN}'",
        dialect,
    )
    assert query.params == {"mw0": "ann@example.com", "mw1": "+1 555 0100"}
    named = query.render("named")
    assert named.endswith("WHERE email = :mw0 OR phone IN (:mw1, 'x') OR email <> :mw0")
    assert "ann@example.com" not in named and EMAIL_TOKEN not in named
    assert query.render("pyformat").endswith("WHERE email = %(mw0)s OR phone IN (%(mw1)s, 'x') OR email <> %(mw0)s")


def test_pyformat_doubles_every_other_percent(check: Check) -> None:
    query = check(f"SELECT id, '100%' AS p FROM customers WHERE email = '{EMAIL_TOKEN}' AND notes LIKE '%x%'")
    assert query.render("pyformat") == (
        "SELECT id, '100%%' AS p FROM customers WHERE email = %(mw0)s AND notes LIKE '%%x%%'"
    )
    assert query.render("named") == "SELECT id, '100%' AS p FROM customers WHERE email = :mw0 AND notes LIKE '%x%'"


def test_pyformat_escapes_even_without_params(check: Check) -> None:
    # the connectors always pass a parameter mapping, so the driver always reads '%' as a format character
    query = check("SELECT id FROM customers WHERE notes LIKE '%x%'")
    assert query.params == {}
    assert query.render("pyformat") == "SELECT id FROM customers WHERE notes LIKE '%%x%%'"
    assert query.render("named") == "SELECT id FROM customers WHERE notes LIKE '%x%'"


def test_placeholder_lookalikes_in_literals_stay_literals(check: Check) -> None:
    query = check(f"SELECT id FROM customers WHERE notes = ':mw0 %(mw0)s mwph' AND email = '{EMAIL_TOKEN}'")
    assert query.render("named") == "SELECT id FROM customers WHERE notes = ':mw0 %(mw0)s mwph' AND email = :mw0"
    assert query.render("pyformat") == (
        "SELECT id FROM customers WHERE notes = ':mw0 %%(mw0)s mwph' AND email = %(mw0)s"
    )


def test_rendered_sql_runs_on_sqlite(check: Check) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE customers (id, first_name, last_name, email, phone, ssn, birth_date, notes)")
    conn.execute("INSERT INTO customers (id, email, notes) VALUES (1, 'ann@example.com', '50%'), (2, 'b', 'x')")
    query = check(f"SELECT * FROM customers WHERE email = '{EMAIL_TOKEN}' AND notes LIKE '%\\%%' ESCAPE '\\'", "sqlite")
    cursor = conn.execute(query.render("named"), query.params)
    assert [d[0] for d in cursor.description] == [c.name for c in query.columns]
    assert cursor.fetchall() == [(1, None, None, "ann@example.com", None, None, None, "50%")]


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT id FROM customers WHERE email = '<EMAIL:ffffffffffff>'", "unknown_token"),
        (f"SELECT '{EMAIL_TOKEN}'", "token_use"),
        (f"SELECT upper('{EMAIL_TOKEN}') FROM customers", "token_use"),
        (f"SELECT id FROM customers WHERE substr('{EMAIL_TOKEN}', 1, 1) = 'a'", "token_use"),
        (f"SELECT id FROM customers WHERE notes LIKE '{EMAIL_TOKEN}'", "token_use"),
        (f"SELECT id FROM customers WHERE '{EMAIL_TOKEN}' = 'x'", "token_use"),
        (f"SELECT id FROM customers WHERE email = '{EMAIL_TOKEN}' || ''", "token_use"),
        (f"SELECT id FROM customers WHERE email > '{EMAIL_TOKEN}'", "predicate_policy"),
        (f"VALUES ('{EMAIL_TOKEN}')", "token_use"),
    ],
)
def test_token_misuse(check: Check, sql: str, reason: str) -> None:
    with pytest.raises(SqlDenied) as denied:
        check(sql)
    assert denied.value.reason == reason
    if reason == "unknown_token":
        assert str(denied.value) == "unknown or expired pseudonym token <EMAIL:ffffffffffff>"


def test_tokens_without_resolver_are_unknown(check: Check) -> None:
    with pytest.raises(SqlDenied) as denied:
        check(f"SELECT id FROM customers WHERE email = '{EMAIL_TOKEN}'", resolve_token=None)
    assert denied.value.reason == "unknown_token"


@pytest.mark.parametrize(
    "text",
    ["<email:0123abcd4567>", "<EMAIL:0123ABCD4567>", "<EMAIL:0123abc>", "<EMAIL:0123abcd4567> ", "x<EMAIL:0123abcd>"],
)
def test_non_tokens_stay_plain_literals(check: Check, text: str) -> None:
    query = check(f"SELECT id FROM customers WHERE notes = '{text}'")
    assert query.params == {}


def test_token_in_simple_case_and_join_condition(check: Check) -> None:
    query = check(
        f"SELECT CASE email WHEN '{EMAIL_TOKEN}' THEN 'match' END AS m FROM customers c"
        f" JOIN tickets t ON t.customer_id = c.id AND c.email = '{EMAIL_TOKEN}'"
    )
    assert list(query.params) == ["mw0"]
    assert query.render("named").count(":mw0") == 2


def test_mysql_column_names_never_carry_bound_values(check: Check) -> None:
    """PyMySQL inlines parameters; an unaliased expression would be named after their text."""
    query = check(f"SELECT email = '{EMAIL_TOKEN}' FROM customers", "mysql")
    rendered = query.render("pyformat")
    assert rendered == f"SELECT email = %(mw0)s AS `email = '{EMAIL_TOKEN}'` FROM customers"
    assert query.columns[0].name == f"email = '{EMAIL_TOKEN}'"


# ------------------------------------------------------------------ round-trips

ROUND_TRIPS = {
    "mysql": [
        "SELECT 'a\\'b' AS x",
        "SELECT 'a\\\\' AS x",
        "SELECT 'a\\\\\\'b' AS x",
        "SELECT 'x\\n\\t\\0y' AS x",
        'SELECT "dq\'" AS x',
        "SELECT 'it''s' AS x",
        "SELECT id AS `e``x` FROM customers",
        "SELECT notes FROM customers WHERE notes = 'a\\'; DROP TABLE customers; -- '",
        "SELECT notes FROM customers -- x\n WHERE id = 1 # y\n",
        "SELECT 1 --1\n AS x",  # MySQL: `--` without a space is minus minus
    ],
    "postgres": [
        "SELECT 'a\\' AS x",
        "SELECT E'a\\'b' AS x",
        "SELECT $$a'b$$ AS x",
        "SELECT $t$a$$b$t$ AS x",
        "SELECT U&'\\0041' AS x",
        'SELECT id AS "e""x" FROM customers',
        "SELECT notes FROM customers WHERE notes = 'x'';DROP TABLE customers;--'",
        "SELECT 'a'\n'b' AS x",
    ],
    "sqlite": [
        "SELECT 'a\\' AS x",
        "SELECT 'it''s' AS x",
        "SELECT [id] FROM customers",
        "SELECT x'41' AS x",
        "SELECT id FROM customers /* c */ WHERE /* d */ id = 1",
    ],
}

_STRINGS = (exp.Literal, exp.RawString, exp.ByteString, exp.National, exp.HexString, exp.UnicodeString)


def _literal_values(sql: str, dialect: str) -> list[str]:
    tree = sqlglot.parse_one(sql, read=dialect)
    return [n.name for n in tree.walk() if isinstance(n, _STRINGS)]


@pytest.mark.parametrize(("dialect", "sql"), [(d, s) for d, items in ROUND_TRIPS.items() for s in items])
def test_render_round_trips(check: Check, dialect: str, sql: str) -> None:
    rendered = check(sql, dialect).render("pyformat")
    assert not any(token.comments for token in sqlglot.tokenize(rendered, read=dialect))
    again = check(rendered, dialect)
    assert again.render("pyformat") == rendered
    assert _literal_values(rendered, dialect) == _literal_values(sql, dialect)
    assert len(sqlglot.parse(rendered, read=dialect)) == 1


# ------------------------------------------------------------------ mask_literals


def _mask(value: str) -> str:
    return f"<{len(value)}>"


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"),
    [
        (
            "postgres",
            "SELECT id FROM customers WHERE email = 'ann@x.com' AND id > 42",
            "SELECT id FROM customers WHERE email = '<9>' AND id > <2>",
        ),
        ("mysql", 'SELECT "ann" /* secret comment */, 3.5', "SELECT '<3>', <3>"),
        ("sqlite", "SELECT 'it''s'; DELETE FROM t WHERE x = 'y'", "SELECT '<4>';\nDELETE FROM t WHERE x = '<1>'"),
        ("postgres", "SELECT $$dollar$$, E'esc', x'41'", "SELECT '<6>', '<3>', '<2>'"),
        ("postgres", "SELECT CAST(x AS VARCHAR(255)) FROM t", "SELECT CAST(x AS VARCHAR(255)) FROM t"),
        (
            "postgres",
            "EXPLAIN SELECT * FROM customers WHERE email = 'ann@x.com'",
            "EXPLAIN SELECT * FROM customers WHERE email = '<9>'",
        ),
        ("mysql", "CALL p('ann@x.com', 7)", "CALL p ( '<9>' , <1> )"),
        ("postgres", f"SELECT 1 FROM t WHERE a = '{EMAIL_TOKEN}'", "SELECT <1> FROM t WHERE a = '<20>'"),
    ],
)
def test_mask_literals(dialect: str, sql: str, expected: str) -> None:
    assert mask_literals(sql, dialect=dialect, mask=_mask) == expected


@pytest.mark.parametrize("sql", ["SELECT 'unterminated", "SELECT * FROM", "x" * 2_000_000])
def test_mask_literals_never_returns_raw_text(sql: str) -> None:
    assert mask_literals(sql, dialect="postgres", mask=_mask) == f"<unparsed SQL: {len(sql)} chars>"


def test_mask_literals_drops_comments_and_keeps_identifiers() -> None:
    masked = mask_literals(
        "SELECT email -- ann@x.com\nFROM customers /* 555-0100 */ WHERE phone = '555-0100'",
        dialect="sqlite",
        mask=lambda _v: "***",
    )
    assert masked == "SELECT email FROM customers WHERE phone = '***'"


def test_mask_literals_escapes_masked_strings() -> None:
    assert mask_literals("SELECT 'x'", dialect="postgres", mask=lambda _v: "it's") == "SELECT 'it''s'"


def test_check_query_and_mask_literals_accept_the_same_dialects() -> None:
    with pytest.raises(ValueError):
        check_query("SELECT 1", dialect="tsql", schema={})
    assert mask_literals("SELECT 1", dialect="tsql", mask=_mask).startswith("<unparsed SQL")


def test_postgres_backslash_strings_render_as_escape_strings(check: Check) -> None:
    """Safe even on a server with standard_conforming_strings=off."""
    query = check("SELECT id FROM customers WHERE notes = 'a\\' OR notes = 'plain'")
    assert query.render("named") == "SELECT id FROM customers WHERE notes = e'a\\\\' OR notes = 'plain'"


def test_mask_literals_masks_odd_quoted_identifiers() -> None:
    masked = mask_literals(
        'SELECT "first_name" FROM customers WHERE email = "ann@x.com"', dialect="sqlite", mask=lambda _v: "***"
    )
    assert masked == 'SELECT "first_name" FROM customers WHERE email = "***"'


@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "mysql"])
def test_small_limit_and_offset_amounts_stay_readable_for_reviewers(dialect: str) -> None:
    masked = mask_literals(
        "SELECT id FROM customers WHERE email = 'ann@example.com' AND id > 7 LIMIT 10 OFFSET 20",
        dialect=dialect,
        mask=lambda value: "<LITERAL:0123abcd4567>",
    )
    assert "LIMIT 10" in masked.replace("LIMIT 20, 10", "LIMIT 10 OFFSET 20") and "ann@example.com" not in masked
    assert "> 7" not in masked
    assert "123456789" not in mask_literals("SELECT 1 LIMIT 123456789", dialect=dialect, mask=lambda v: "<L:x>")
