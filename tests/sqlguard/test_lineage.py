"""Lineage: which base columns flow into each output column, and of which kind."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from mcp_server.sqlguard import CheckedQuery, ColumnPolicy, SourceColumn, SqlDenied, check_query

Check = Callable[..., CheckedQuery]
C_ALL = {f"customers.{c}" for c in ("id", "first_name", "last_name", "email", "phone", "ssn", "birth_date", "notes")}
CUSTOMERS = ["id", "first_name", "last_name", "email", "phone", "ssn", "birth_date", "notes"]
ORDERS = ["id", "customer_id", "amount", "ordered_at"]

# (dialect, sql, [(name or None, kind, {"table.column", ...}), ...]); name None: not checked.
Expected = list[tuple[str | None, str, set[str]]]
CASES: list[tuple[str, str, Expected]] = [
    ("postgres", "SELECT email FROM customers", [("email", "value", {"customers.email"})]),
    ("postgres", "SELECT email AS remark FROM customers", [("remark", "value", {"customers.email"})]),
    ("postgres", 'SELECT c.email AS "Remark" FROM customers c', [("Remark", "value", {"customers.email"})]),
    ("postgres", "SELECT EMAIL FROM Customers", [("email", "value", {"customers.email"})]),
    ("mysql", "SELECT EMAIL FROM customers", [("EMAIL", "value", {"customers.email"})]),
    ("postgres", "SELECT upper(email) FROM customers", [(None, "value", {"customers.email"})]),
    ("postgres", "SELECT lower(trim(email)) AS e FROM customers", [("e", "value", {"customers.email"})]),
    (
        "postgres",
        "SELECT first_name || ' ' || last_name AS full_name FROM customers",
        [("full_name", "value", {"customers.first_name", "customers.last_name"})],
    ),
    (
        "mysql",
        "SELECT CONCAT(first_name, ' ', last_name) AS n FROM customers",
        [("n", "value", {"customers.first_name", "customers.last_name"})],
    ),
    (
        "mysql",
        "SELECT CONCAT_WS('-', phone, email) AS n FROM customers",
        [("n", "value", {"customers.phone", "customers.email"})],
    ),
    ("sqlite", "SELECT substr(ssn, 1, 3) AS p FROM customers", [("p", "value", {"customers.ssn"})]),
    ("postgres", "SELECT substring(ssn FROM 8) FROM customers", [(None, "value", {"customers.ssn"})]),
    ("postgres", "SELECT CAST(birth_date AS text) AS b FROM customers", [("b", "value", {"customers.birth_date"})]),
    ("postgres", "SELECT birth_date::text AS b FROM customers", [("b", "value", {"customers.birth_date"})]),
    (
        "postgres",
        "SELECT coalesce(phone, email) AS contact FROM customers",
        [("contact", "value", {"customers.phone", "customers.email"})],
    ),
    (
        "sqlite",
        "SELECT nullif(phone, email) AS x, ifnull(phone, 'n/a') AS y FROM customers",
        [("x", "value", {"customers.phone"}), ("y", "value", {"customers.phone"})],
    ),
    ("mysql", "SELECT replace(email, '@', ' at ') AS e FROM customers", [("e", "value", {"customers.email"})]),
    ("sqlite", "SELECT json_object('e', email) AS j FROM customers", [("j", "value", {"customers.email"})]),
    (
        "mysql",
        "SELECT JSON_OBJECT('e', email, 'p', phone) AS j FROM customers",
        [("j", "value", {"customers.email", "customers.phone"})],
    ),
    ("postgres", "SELECT json_build_object('e', c.email) AS j FROM customers c", [("j", "value", {"customers.email"})]),
    ("postgres", "SELECT row_to_json(c) AS j FROM customers c", [("j", "value", C_ALL)]),
    ("postgres", "SELECT to_jsonb(c.*) AS j FROM customers c", [("j", "value", C_ALL)]),
    ("postgres", "SELECT c FROM customers c", [("c", "value", C_ALL)]),
    (
        "postgres",
        "SELECT ROW(email, phone) AS r FROM customers",
        [("r", "value", {"customers.email", "customers.phone"})],
    ),
    (
        "postgres",
        "SELECT CASE WHEN amount > 100 THEN 'big' ELSE notes END AS label FROM orders o JOIN customers c"
        " ON c.id = o.customer_id",
        [("label", "value", {"customers.notes"})],
    ),
    (
        "postgres",
        "SELECT CASE WHEN ssn LIKE '1%' THEN 'a' ELSE 'b' END AS bucket FROM customers",
        [("bucket", "value", set())],
    ),
    ("mysql", "SELECT IF(amount > 5, 'x', 'y') AS s FROM orders", [("s", "value", set())]),
    ("postgres", "SELECT amount * 2 + 1 AS a FROM orders", [("a", "value", {"orders.amount"})]),
    # constants
    (
        "postgres",
        "SELECT 1 AS one, 'abc' AS s, NULL AS n",
        [("one", "value", set()), ("s", "value", set()), ("n", "value", set())],
    ),
    # aggregates
    ("postgres", "SELECT count(email) AS n FROM customers", [("n", "count", {"customers.email"})]),
    ("postgres", "SELECT count(DISTINCT email) AS n FROM customers", [("n", "count", {"customers.email"})]),
    ("postgres", "SELECT count(*) AS n FROM customers", [("n", "count", set())]),
    ("postgres", "SELECT count(1) AS n FROM customers", [("n", "count", set())]),
    (
        "postgres",
        "SELECT max(email) AS m, min(ssn) AS s FROM customers",
        [("m", "value", {"customers.email"}), ("s", "value", {"customers.ssn"})],
    ),
    (
        "postgres",
        "SELECT sum(amount) AS s, avg(amount) AS a FROM orders",
        [("s", "value", {"orders.amount"}), ("a", "value", {"orders.amount"})],
    ),
    ("mysql", "SELECT GROUP_CONCAT(email) AS g FROM customers", [("g", "value", {"customers.email"})]),
    ("sqlite", "SELECT group_concat(email, ';') AS g FROM customers", [("g", "value", {"customers.email"})]),
    ("postgres", "SELECT string_agg(email, ',') AS g FROM customers", [("g", "value", {"customers.email"})]),
    ("postgres", "SELECT array_agg(phone) AS g FROM customers", [("g", "value", {"customers.phone"})]),
    ("postgres", "SELECT json_agg(email) AS g FROM customers", [("g", "value", {"customers.email"})]),
    ("postgres", "SELECT count(*) FILTER (WHERE amount > 5) AS n FROM orders", [("n", "count", set())]),
    (
        "postgres",
        "SELECT count(CASE WHEN ssn LIKE '1%' THEN 1 END) AS n FROM customers",
        [("n", "count", set())],
    ),
    ("postgres", "SELECT email IS NULL AS missing FROM customers", [("missing", "count", {"customers.email"})]),
    (
        "postgres",
        "SELECT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id) AS has FROM customers c",
        [("has", "count", set())],
    ),
    (
        "postgres",
        "SELECT last_name, count(*) AS n FROM customers GROUP BY last_name",
        [("last_name", "value", {"customers.last_name"}), ("n", "count", set())],
    ),
    # scalar subqueries, derived tables, CTEs
    (
        "postgres",
        "SELECT c.id, (SELECT max(o.amount) FROM orders o WHERE o.customer_id = c.id) AS top FROM customers c",
        [("id", "value", {"customers.id"}), ("top", "value", {"orders.amount"})],
    ),
    (
        "postgres",
        "SELECT (SELECT email FROM customers LIMIT 1) AS e",
        [("e", "value", {"customers.email"})],
    ),
    (
        "postgres",
        "SELECT x.a FROM (SELECT email AS a FROM customers) x",
        [("a", "value", {"customers.email"})],
    ),
    (
        "postgres",
        "SELECT x.a FROM (SELECT y.b AS a FROM (SELECT ssn AS b FROM customers) y) x",
        [("a", "value", {"customers.ssn"})],
    ),
    (
        "postgres",
        "WITH x AS (SELECT email AS contact, id FROM customers) SELECT contact AS c2 FROM x",
        [("c2", "value", {"customers.email"})],
    ),
    (
        "sqlite",
        "WITH x(a, b) AS (SELECT ssn, id FROM customers) SELECT a, b FROM x",
        [("a", "value", {"customers.ssn"}), ("b", "value", {"customers.id"})],
    ),
    (
        "postgres",
        "WITH a AS (SELECT email FROM customers), b AS (SELECT email AS e FROM a) SELECT e FROM b",
        [("e", "value", {"customers.email"})],
    ),
    (
        "postgres",
        "SELECT v.x, v.y FROM (VALUES (1, 'a'), (2, 'b')) AS v(x, y)",
        [("x", "value", set()), ("y", "value", set())],
    ),
    # set operations
    (
        "postgres",
        "SELECT first_name FROM customers UNION SELECT email FROM customers",
        [("first_name", "value", {"customers.first_name", "customers.email"})],
    ),
    (
        "mysql",
        "SELECT id, last_name FROM customers UNION ALL SELECT id, body FROM tickets",
        [
            ("id", "value", {"customers.id", "tickets.id"}),
            ("last_name", "value", {"customers.last_name", "tickets.body"}),
        ],
    ),
    (
        "postgres",
        "SELECT id FROM customers INTERSECT SELECT customer_id FROM orders EXCEPT SELECT customer_id FROM tickets",
        [("id", "value", {"customers.id", "orders.customer_id", "tickets.customer_id"})],
    ),
    (
        "postgres",
        "SELECT u.x FROM (SELECT notes AS x FROM customers UNION SELECT body FROM tickets) u",
        [("x", "value", {"customers.notes", "tickets.body"})],
    ),
    # window functions
    (
        "postgres",
        "SELECT row_number() OVER (PARTITION BY last_name ORDER BY id) AS rn FROM customers",
        [("rn", "value", set())],
    ),
    (
        "postgres",
        "SELECT lag(email) OVER (ORDER BY id) AS prev, sum(amount) OVER () AS total FROM customers, orders",
        [("prev", "value", {"customers.email"}), ("total", "value", {"orders.amount"})],
    ),
    # joins and ambiguity
    (
        "postgres",
        "SELECT amount, email FROM orders o JOIN customers c ON c.id = o.customer_id",
        [("amount", "value", {"orders.amount"}), ("email", "value", {"customers.email"})],
    ),
    (
        "postgres",
        "SELECT id FROM customers c, orders o",
        [("id", "value", {"customers.id", "orders.id"})],
    ),
    (
        "postgres",
        "SELECT public.customers.email FROM public.customers",
        [("email", "value", {"customers.email"})],
    ),
    ("mysql", "SELECT t.email FROM test.customers t", [("email", "value", {"customers.email"})]),
    # unknown lineage
    (
        "postgres",
        "SELECT j.value FROM customers c, json_array_elements(c.notes::json) AS j",
        [("value", "value", {"customers.notes"})],
    ),
    ("postgres", "SELECT g.n FROM generate_series(1, 3) AS g(n)", [("n", "value", set())]),
    # statistics of two variables, JSON shapes and time bins (refused as unknown functions until 2026-12-04)
    (
        "postgres",
        "SELECT corr(amount, id) AS c, regr_slope(amount, id) AS s, covar_samp(amount, id) AS v,"
        " every(amount > 0) AS e FROM orders",
        [
            ("c", "value", {"orders.amount", "orders.id"}),
            ("s", "value", {"orders.amount", "orders.id"}),
            ("v", "value", {"orders.amount", "orders.id"}),
            ("e", "count", {"orders.amount"}),
        ],
    ),
    (
        "postgres",
        "SELECT jsonb_array_length(notes::jsonb) AS n, jsonb_typeof(notes::jsonb) AS t FROM customers",
        [("n", "value", {"customers.notes"}), ("t", "value", {"customers.notes"})],
    ),
    (
        "postgres",
        "SELECT date_bin('15 minutes', ordered_at, TIMESTAMP '2024-01-01') AS bin FROM orders",
        [("bin", "value", {"orders.ordered_at"})],
    ),
]


@pytest.mark.parametrize(("dialect", "sql", "expected"), CASES)
def test_lineage(check: Check, dialect: str, sql: str, expected: Expected) -> None:
    columns = check(sql, dialect, column_policy=lambda _c: ColumnPolicy()).columns
    assert len(columns) == len(expected)
    for column, (name, kind, sources) in zip(columns, expected, strict=True):
        if name is not None:
            assert column.name == name
        assert column.kind == kind, column
        assert {f"{s.table}.{s.column}" for s in column.sources} == sources, column


def test_select_star_expands_in_table_order(check: Check) -> None:
    query = check("SELECT * FROM customers")
    assert [c.name for c in query.columns] == CUSTOMERS
    assert [next(iter(c.sources)) for c in query.columns] == [SourceColumn("customers", n) for n in CUSTOMERS]
    assert query.render("named") == "SELECT " + ", ".join(f'customers."{c}"' for c in CUSTOMERS) + " FROM customers"


@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "mysql"])
def test_star_over_a_join_follows_from_then_joins(check: Check, dialect: str) -> None:
    query = check("SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id", dialect)
    assert [c.name for c in query.columns] == ORDERS + CUSTOMERS
    tables = [next(iter(c.sources)).table for c in query.columns]
    assert tables == ["orders"] * 4 + ["customers"] * 8


def test_qualified_star_in_a_join(check: Check) -> None:
    query = check("SELECT c.*, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id")
    assert [c.name for c in query.columns] == [*CUSTOMERS, "amount"]
    assert query.columns[5].sources == frozenset({SourceColumn("customers", "ssn")})
    assert query.render("named").startswith('SELECT c."id", c."first_name"')


def test_star_over_cte_and_derived_tables(check: Check) -> None:
    query = check("WITH x AS (SELECT email, id FROM customers) SELECT * FROM x, (SELECT amount FROM orders) y")
    assert [(c.name, c.kind) for c in query.columns] == [("email", "value"), ("id", "value"), ("amount", "value")]
    assert query.render("named").startswith("WITH x AS (SELECT email, id FROM customers) SELECT x.*, y.*")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT my_udf(id) AS u FROM customers", [("u", "unknown", {"customers.id"})]),
        ("SELECT my_udf() AS u", [("u", "unknown", set())]),
        ("SELECT t.x FROM customers c, LATERAL my_udf(c.id) AS t(x)", [("x", "unknown", {"customers.id"})]),
    ],
)
def test_functions_an_operator_allowed_are_opaque(check: Check, sql: str, expected: Expected) -> None:
    with pytest.raises(SqlDenied) as denied:
        check(sql, "postgres")
    assert denied.value.reason == "function_not_allowed" and "MY_UDF" in str(denied.value)
    columns = check(sql, "postgres", allow_functions=frozenset({"my_udf"})).columns
    assert [(c.name, c.kind, {f"{s.table}.{s.column}" for s in c.sources}) for c in columns] == expected


def test_functions_an_operator_allowed_never_see_protected_columns(check: Check) -> None:
    for sql in ("SELECT my_udf(email) FROM customers", "SELECT my_udf(notes) FROM customers"):
        with pytest.raises(SqlDenied) as denied:
            check(sql, "postgres", allow_functions=frozenset({"my_udf"}))
        assert denied.value.reason == "function_not_allowed"


def test_recursive_cte_collects_all_branches(check: Check) -> None:
    query = check(
        "WITH RECURSIVE r(n, e) AS (SELECT 1, email FROM customers UNION ALL"
        " SELECT n + 1, phone FROM r JOIN customers ON customers.id = r.n WHERE n < 3) SELECT n, e FROM r"
    )
    assert [c.name for c in query.columns] == ["n", "e"]
    assert query.columns[1].sources == {SourceColumn("customers", "email"), SourceColumn("customers", "phone")}
    assert not query.columns[1].direct  # two entity types: no stable token
    assert query.columns[0].sources == frozenset()  # 1, then n + 1: constants only


def test_values_statement(check: Check) -> None:
    query = check("VALUES (1, 'a'), (2, 'b')", "sqlite")
    assert [(c.name, c.kind, c.sources) for c in query.columns] == [
        ("column1", "value", frozenset()),
        ("column2", "value", frozenset()),
    ]


def test_set_operation_order_by_output_name(check: Check) -> None:
    query = check("SELECT id, email FROM customers UNION SELECT id, email FROM customers WHERE id > 3 ORDER BY 1")
    assert len(query.columns) == 2
    with pytest.raises(SqlDenied) as denied:
        check("SELECT id, email FROM customers UNION SELECT id, email FROM customers WHERE id > 3 ORDER BY email")
    assert denied.value.reason == "predicate_policy"


def test_unnamed_root_expressions_get_aliases(check: Check) -> None:
    query = check("SELECT upper(first_name), email, 1 FROM customers", "mysql")
    names = [c.name for c in query.columns]
    assert names == ["UPPER(first_name)", "email", "1"]
    assert query.render("pyformat") == "SELECT UPPER(first_name) AS `UPPER(first_name)`, email, 1 AS `1` FROM customers"


def test_schema_drift_cannot_shift_columns(check: Check) -> None:
    """SELECT * is expanded from the schema snapshot: a column added later is simply not selected."""
    rendered = check("SELECT * FROM orders").render("named")
    assert "*" not in rendered


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM generate_series(1, 3)",
        "SELECT * FROM customers, (SELECT 1)",
        "SELECT (c).* FROM customers c",
        "SELECT c.* AS x FROM customers c",
        "SELECT id FROM customers UNION SELECT id, amount FROM orders",
        "SELECT x.a FROM (SELECT 1 AS a) AS x(a, b)",
    ],
)
def test_uncertain_column_count_is_refused(check: Check, sql: str) -> None:
    with pytest.raises(SqlDenied) as denied:
        check(sql, "postgres")
    assert denied.value.reason == "unknown_lineage"


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT nope FROM customers", "unknown_column"),
        ("SELECT c.nope FROM customers c", "unknown_column"),
        ("SELECT x.email FROM customers c", "unknown_column"),
        ("SELECT email FROM orders", "unknown_column"),
        ("WITH x AS (SELECT id FROM customers) SELECT email FROM x", "unknown_column"),
        ("SELECT * FROM customer", "unknown_table"),
    ],
)
def test_unknown_names(check: Check, sql: str, reason: str) -> None:
    with pytest.raises(SqlDenied) as denied:
        check(sql)
    assert denied.value.reason == reason


def test_canonical_names_come_from_the_schema() -> None:
    schema = {"Customers": ["ID", "Email"]}
    query = check_query("SELECT c.email, ID FROM customers c", dialect="sqlite", schema=schema)
    assert [c.sources for c in query.columns] == [
        frozenset({SourceColumn("Customers", "Email")}),
        frozenset({SourceColumn("Customers", "ID")}),
    ]
    assert query.tables == frozenset({"Customers"})
    assert check_query("SELECT * FROM customers", dialect="sqlite", schema=schema).render("named") == (
        'SELECT customers."ID", customers."Email" FROM customers'
    )


def test_tables_read_include_subqueries(check: Check) -> None:
    query = check(
        "SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders)"
        " AND EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = customers.id)"
    )
    assert query.tables == frozenset({"customers", "orders", "tickets"})


SQLITE_QUERIES = [
    "SELECT * FROM customers",
    "SELECT c.*, o.* FROM customers c JOIN orders o ON o.customer_id = c.id",
    "SELECT * FROM customers JOIN orders USING (id)",
    "SELECT * FROM customers NATURAL JOIN orders",
    "SELECT * FROM (SELECT * FROM customers) x",
    "WITH a AS (SELECT * FROM orders) SELECT * FROM a, customers",
    "SELECT upper(email), email AS e, 1, 'x', count(*) FROM customers",
    "SELECT id FROM customers UNION SELECT id FROM orders ORDER BY 1",
    "VALUES (1, 2)",
    "SELECT * FROM (VALUES (1, 2)) v",
    "SELECT * FROM json_each((SELECT notes FROM customers))",
    "SELECT j.* FROM customers c, json_each(c.notes) j",
    "SELECT * FROM customers c LEFT JOIN (SELECT customer_id, sum(amount) s FROM orders GROUP BY customer_id) t"
    " ON t.customer_id = c.id",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
    "SELECT email = 'e@x', email IS NULL, (SELECT max(amount) FROM orders) FROM customers",
    "EXPLAIN QUERY PLAN SELECT * FROM customers",
    "EXPLAIN SELECT * FROM customers",
]


@pytest.mark.parametrize("sql", SQLITE_QUERIES)
def test_columns_match_a_real_sqlite_result(check: Check, sql: str) -> None:
    """Names and positions as SQLite reports them, even after a column was added behind the schema's back."""
    conn = sqlite3.connect(":memory:")
    for table, columns in {"customers": CUSTOMERS, "orders": ORDERS, "tickets": ["id", "customer_id", "body"]}.items():
        conn.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
    conn.execute("INSERT INTO customers VALUES (1, 'a', 'b', 'e@x', '1', '123', '2000-01-01', '{\"k\": 1}')")
    conn.execute("INSERT INTO orders VALUES (1, 1, 10, '2024-01-01')")
    conn.execute("ALTER TABLE customers ADD COLUMN added_later")
    query = check(sql, "sqlite", column_policy=lambda _c: ColumnPolicy())
    cursor = conn.execute(query.render("named"), query.params)
    assert [d[0] for d in cursor.description] == [c.name for c in query.columns]


def test_a_function_is_named_as_it_is_written() -> None:
    """sqlglot spells some classes letter by letter (J_S_O_N_B_OBJECT_AGG); messages name them as SQL does."""
    from sqlglot import exp

    from mcp_server.sqlguard.functions import shown_name

    assert shown_name(exp.JSONBObjectAgg(this=exp.column("a"), expression=exp.column("b"))) == "JSONB_OBJECT_AGG"
    assert shown_name(exp.StrPosition(this=exp.column("a"), substr=exp.column("b"))) == "STR_POSITION"
