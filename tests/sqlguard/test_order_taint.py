"""Values assembled in an order the database chose follow the restricted columns the query reads.

`string_agg(city)` grouped by a protected column concatenates in the order the grouping sort left the rows: the
order of clear values then depends on protected ones. Such output is masked as derived from those columns (no
stable token), and may decide nothing; an ORDER BY inside the function removes the dependence.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mcp_server.sqlguard import CheckedQuery, SourceColumn, SqlDenied

Check = Callable[..., CheckedQuery]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT email, string_agg(last_name, ',') AS names FROM customers GROUP BY email",
        "SELECT c.email, array_agg(o.amount) AS amounts FROM customers c JOIN orders o ON o.customer_id = c.id"
        " GROUP BY c.email",
        "SELECT first_value(last_name) OVER (PARTITION BY email) AS f FROM customers",
        "WITH g AS (SELECT email, string_agg(first_name, ',') AS s FROM customers GROUP BY email) SELECT s FROM g",
        # a sort breaks ties by the rows' layout: the table's restricted columns count even when not named
        "SELECT last_name, string_agg(first_name, ',') AS s FROM customers GROUP BY last_name",
        "SELECT row_number() OVER (PARTITION BY last_name) AS r FROM customers",
        "SELECT first_value(last_name) OVER w AS f FROM customers WINDOW w AS (PARTITION BY email)",
        "SELECT first_value(last_name) OVER w2 AS f FROM customers WINDOW w1 AS (PARTITION BY email), w2 AS (w1)",
    ],
)
def test_unordered_assembly_is_masked_as_the_restricted_columns(check: Check, sql: str) -> None:
    column = check(sql).columns[-1]
    assert SourceColumn("customers", "email") in column.sources
    assert not column.direct


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT customer_id, string_agg(CAST(amount AS TEXT), ',') AS s FROM orders GROUP BY customer_id",
        "SELECT email, string_agg(last_name, ',' ORDER BY last_name, id) AS s FROM customers GROUP BY email",
        "SELECT first_value(last_name) OVER (PARTITION BY email ORDER BY id) AS f FROM customers",
        # a named window's ORDER BY orders it (checked where it is defined, like any window's)
        "SELECT first_value(last_name) OVER w AS f FROM customers WINDOW w AS (PARTITION BY email ORDER BY id)",
        "SELECT first_value(last_name) OVER w2 AS f FROM customers WINDOW w1 AS (PARTITION BY email),"
        " w2 AS (w1 ORDER BY id)",
        "SELECT first_value(last_name) OVER (w ORDER BY id) AS f FROM customers WINDOW w AS (PARTITION BY email)",
    ],
)
def test_ordered_or_unrestricted_assembly_stays_clear(check: Check, sql: str) -> None:
    column = check(sql).columns[-1]
    assert SourceColumn("customers", "email") not in column.sources


def test_a_named_window_ordered_by_a_protected_column_is_refused(check: Check) -> None:
    with pytest.raises(SqlDenied, match="window ORDER BY"):
        check("SELECT first_value(id) OVER w AS f FROM customers WINDOW w AS (ORDER BY email)")


def test_unordered_assembly_decides_nothing(check: Check) -> None:
    with pytest.raises(SqlDenied) as denied:
        check("SELECT email FROM customers GROUP BY email HAVING string_agg(last_name, ',') = 'a,b'")
    assert "ORDER BY inside" in str(denied.value)


def test_a_plan_keeps_its_lines_in_order(check: Check) -> None:
    """EXPLAIN rows are the plan's lines: neither sorted by Maskwire nor stripped of the explained LIMIT."""
    plan = check("EXPLAIN SELECT email, count(*) FROM customers GROUP BY email LIMIT 3")
    assert plan.ordered and not plan.value_ordered
    assert plan.render("pyformat").endswith("LIMIT 3")
    grouped = check("SELECT email, count(*) FROM customers GROUP BY email LIMIT 3")
    assert grouped.value_ordered and grouped.row_window == (0, 3)
    assert not grouped.render("pyformat").endswith("LIMIT 3")
