"""On PostgreSQL a query may not compute with numbers of more than MAX_DIGITS digits: one multiplication, division
or power of numbers of tens of thousands of digits runs without checking for a cancel, so a row of a thousand
of them ran for a minute past the timeout. Every way of building such a number is refused (powers, exp, casts of
built text, long literals, scales, products through CTEs, derived tables, subqueries and recursion); business
arithmetic passes, and the bound is checked against the real server."""

from __future__ import annotations

import time

import pytest
from crm_engines import Target

from mcp_server.sqlguard import check_query
from mcp_server.sqlguard.errors import SqlDenied
from mcp_server.sqlguard.magnitude import MAX_DIGITS
from mcp_server.tools.problems import ToolProblem

SCHEMA = {"t": ["id", "x", "amount", "qty", "price", "name", "years", "notes"], "u": ["id", "t_id", "v"]}
BIG = "((10::numeric ^ 60000) - 1)"
HUGE = "repeat('9', 65000)::numeric"
NEAR = "(10::numeric ^ 900)"  # 901 digits: allowed alone and in one product, not once squared and used again
SQUARES = ", ".join(f"s{i} AS (SELECT x * x AS x FROM {'s' + str(i - 1) if i else 'seed'})" for i in range(14))

REFUSED = {
    "the attack: a sum of products of huge powers": "SELECT " + " + ".join([f"{BIG} * {BIG}"] * 8),
    "a power with a large exponent": "SELECT 10::numeric ^ 60000",
    "power() with a large exponent": "SELECT power(7.5, 100000)",
    "a power with a computed exponent": "SELECT power(1.05, years) FROM t",
    "a power of a stored value": "SELECT x ^ (2 * years) FROM t",
    "exp of a literal": "SELECT exp(200000::numeric)",
    "exp of a stored value": "SELECT exp(x) FROM t",
    "a long literal": "SELECT 1e60000 * 2",
    "a long digit string": "SELECT '" + "9" * 5000 + "' * 2",
    "a cast of repeated text": "SELECT repeat('9', 60000)::numeric * 2",
    "a cast of padded text": "SELECT lpad('1', 5000, '9')::numeric * x FROM t",
    "a cast of aggregated text": "SELECT string_agg(x::text, '')::numeric % 7 FROM t",
    "a cast of text repeated a bounded number of times": "SELECT repeat('9', least(qty, 5000))::numeric * 2 FROM t",
    "a scale of thousands of places": "SELECT round(x, 5000) * x FROM t",
    "a scale computed from the data": "SELECT round(x, qty) / 3 FROM t",
    "squaring through CTEs": f"WITH seed AS (SELECT 99999999999::numeric AS x), {SQUARES} SELECT x * 2 FROM s13",
    "a product of a product of near-limit values": f"SELECT {NEAR} * {NEAR} * 2",
    "through a derived table": f"SELECT d.y * 2 FROM (SELECT {NEAR} * {NEAR} AS y) d",
    "through a star of a derived table": f"SELECT y * 2 FROM (SELECT * FROM (SELECT {NEAR} * {NEAR} AS y) a) d",
    "through a scalar subquery": f"SELECT (SELECT {NEAR} * {NEAR} FROM t LIMIT 1) * 2",
    "through a correlated reference": f"SELECT (SELECT t.x * d.y FROM t LIMIT 1) FROM (SELECT {NEAR} * {NEAR} AS y) d",
    "in WHERE": f"SELECT id FROM t WHERE {NEAR} * {NEAR} * x > 0",
    "in ORDER BY": f"SELECT id FROM t ORDER BY {NEAR} * {NEAR} * x",
    "through VALUES": "SELECT v.column1 * v.column1 FROM (VALUES (1e5000)) v",
    "through UNION": f"SELECT y * 2 FROM (SELECT 1 AS y UNION ALL SELECT {NEAR} * {NEAR}) d",
    "a recursive square": (
        "WITH RECURSIVE r AS (SELECT 2::numeric AS x, 1 AS n UNION ALL SELECT x * x, n + 1 FROM r WHERE n < 20)"
        " SELECT x * 3 FROM r"
    ),
    "a recursive doubling": (
        "WITH RECURSIVE r AS (SELECT 1::numeric AS x, 1 AS n UNION ALL SELECT x + x, n + 1 FROM r WHERE n < 400000)"
        " SELECT x * 3 FROM r"
    ),
    "a recursive product by a constant": (
        "WITH RECURSIVE r AS (SELECT 1::numeric AS x, 1 AS n UNION ALL SELECT x * 7, n + 1 FROM r WHERE n < 100000)"
        " SELECT x / 3 FROM r"
    ),
    "a variance of a huge value": f"SELECT stddev({NEAR} * {NEAR} * x) FROM t",
    "an average of a built value": "SELECT avg(repeat('9', 60000)::numeric) FROM t",
    "width_bucket of a huge value": f"SELECT width_bucket({NEAR} * {NEAR}, 0, 10, 5)",
    "in generate_series bounds": "SELECT g FROM generate_series(1::numeric, 10::numeric ^ 50000, 1) g",
    # found by a hostile-agent session: values passed through a table function or an aliased CTE
    "through unnest": f"SELECT cardinality(ARRAY[v*v, v*v]) FROM unnest(ARRAY[{HUGE}]) v",
    "through unnest with a column alias": f"SELECT x * x FROM unnest(ARRAY[{HUGE}]) AS u(x)",
    "through LATERAL unnest": f"SELECT v * v FROM t CROSS JOIN LATERAL unnest(ARRAY[{HUGE}]) v",
    "through generate_series": f"SELECT g * g FROM generate_series({HUGE}, {HUGE}) g",
    "through an unnamed generate_series": f"SELECT generate_series * 2 FROM generate_series({HUGE}, {HUGE})",
    "through jsonb_each": f"SELECT value::numeric * 2 FROM jsonb_each(jsonb_build_object('a', {HUGE}))",
    "through jsonb_array_elements": f"SELECT e::numeric * 2 FROM jsonb_array_elements(jsonb_build_array({HUGE})) e",
    "through string_to_table": "SELECT p::numeric * 2 FROM string_to_table(repeat('9', 65000), ',') p",
    "through regexp_split_to_table": "SELECT p::numeric % 7 FROM regexp_split_to_table(repeat('9', 65000), ',') p",
    "a recursive square under column aliases": (
        "WITH RECURSIVE r(n, v) AS (SELECT 1, amount::numeric FROM t WHERE id = 1"
        " UNION ALL SELECT n + 1, v * v FROM r WHERE n < 14) SELECT v * v FROM r WHERE n = 14"
    ),
    "through a derived table's column aliases": f"SELECT d.a * 2 FROM (SELECT {NEAR} * {NEAR}) AS d(a)",
}

ACCEPTED = {
    "business arithmetic": (
        "SELECT price * qty * (1 - 0.15) * 1.2, 100.0 * count(*) / sum(count(*)) OVER (), round(avg(amount), 2),"
        " stddev(amount), amount % 7, amount / nullif(qty, 0) FROM t GROUP BY price, qty, amount"
    ),
    "small powers": "SELECT 1.05 ^ 10, power(1.05, 30), sqrt(amount), ln(amount), log(10, amount), exp(2.5) FROM t",
    "a float power of a stored exponent": "SELECT power(1.05::float8, years), 2.0::float8 ^ x FROM t",
    "a value near the limit": f"SELECT {NEAR} * 2",
    "a cast to a bounded precision": "SELECT repeat('9', 60000)::numeric(20, 2) * 2",
    "a cast to float ends the bound": "SELECT repeat('9', 600)::float8 * repeat('9', 600)::float8 * 7",
    "text built but not computed with": "SELECT repeat('ab', 60000), string_agg(name, ', ') FROM t",
    "a recursive counter": (
        "WITH RECURSIVE r AS (SELECT 1 AS n, 'a' AS label UNION ALL SELECT n + 1, label FROM r WHERE n < 20)"
        " SELECT n * n, label FROM r"
    ),
    "CTEs and joins": (
        "WITH a AS (SELECT t.id, sum(amount * qty) AS s FROM t JOIN u ON u.t_id = t.id GROUP BY t.id)"
        " SELECT a.id, a.s / (SELECT sum(s) FROM a) * 100.0 FROM a ORDER BY 2 DESC LIMIT 10"
    ),
    "series of integers": "SELECT g * g, g / 3 FROM generate_series(1, 10) g",
    "compound interest": "SELECT amount * (1 + 0.05 / 12) ^ (12 * 10), (1 + 0.05 / 12) ^ 120, 0.5 ^ 10 FROM t",
    "values of a table function": (
        "SELECT v * 2, g * g FROM t, unnest(ARRAY[amount, price]) v, generate_series(1, qty) g"
    ),
}


def _check(sql: str, dialect: str = "postgres") -> None:
    check_query(sql, dialect=dialect, schema=SCHEMA)


@pytest.mark.parametrize("sql", REFUSED.values(), ids=REFUSED.keys())
def test_building_a_huge_number_is_refused(sql: str) -> None:
    with pytest.raises(SqlDenied) as denied:
        _check(sql)
    assert f"more than {MAX_DIGITS:,} digits" in denied.value.message
    assert "9999" not in denied.value.message and "60000" not in denied.value.message  # nothing of the SQL


@pytest.mark.parametrize("sql", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_business_arithmetic_is_accepted(sql: str) -> None:
    _check(sql)


def test_engines_with_bounded_numbers_are_not_bounded() -> None:
    """MariaDB's DECIMAL has 65 digits and SQLite's numbers are 64-bit: a power there is an error or a float."""
    for dialect in ("mysql", "sqlite"):
        _check("SELECT power(x, years) * power(x, years) FROM t", dialect)


def test_the_attack_is_refused_before_it_runs_and_the_bound_is_what_postgres_computes(target: Target) -> None:
    service = target.runtime.service
    started = time.monotonic()
    with pytest.raises(ToolProblem, match="digits"):
        service.query("crm", REFUSED["the attack: a sum of products of huge powers"])
    assert time.monotonic() - started < 5  # the attack ran 54 s; refused, it never reaches the server
    # What is accepted runs, and computes with numbers of at most MAX_DIGITS digits on the real server.
    shown = service.query("crm", f"SELECT length(({NEAR} * 2)::text) AS digits, length((1.05 ^ 10)::text) AS small")
    assert shown.rows == 1
    digits = int(shown.structured.rows[0][0])  # type: ignore[attr-defined]
    assert 900 <= digits <= MAX_DIGITS


def test_each_node_is_bounded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """An operation's operands are needed for its value and for its cost: asked for again at every level, a
    statement of nested products took time exponential in its depth (16 levels: 9 s)."""
    from mcp_server.sqlguard import magnitude

    calls = 0
    size = magnitude._Bounds._size

    def counted(self: magnitude._Bounds, node: object, scope: object) -> magnitude.Num:
        nonlocal calls
        calls += 1
        return size(self, node, scope)  # type: ignore[arg-type]

    monkeypatch.setattr(magnitude._Bounds, "_size", counted)
    nested = "x"
    for _ in range(12):
        nested = f"({nested} * 1)"
    _check(f"SELECT {nested} FROM t")
    assert calls < 200
