"""Read-only statement shape: the bypass corpus, dangerous functions, input limits, EXPLAIN."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

import pytest

from mcp_server.sqlguard import CheckedQuery, SqlDenied, check_query

Check = Callable[..., CheckedQuery]
ALL = ("sqlite", "postgres", "mysql")

# (dialects, sql): every one must be refused in each listed dialect.
BYPASSES: list[tuple[tuple[str, ...], str]] = [
    # stacked statements
    (ALL, "SELECT 1; DROP TABLE customers"),
    (ALL, "SELECT 1; DELETE FROM customers"),
    (ALL, "COMMIT; DELETE FROM customers"),
    (ALL, "ROLLBACK; DELETE FROM customers"),
    (("postgres", "sqlite"), "END; DELETE FROM customers"),
    (ALL, "SELECT 1;\nUPDATE customers SET email = NULL"),
    (ALL, "SELECT 1; SELECT 2"),
    # transaction / session control
    (("postgres",), "BEGIN READ WRITE"),
    (ALL, "BEGIN"),
    (ALL, "COMMIT"),
    (("mysql",), "START TRANSACTION READ WRITE"),
    (("postgres",), "SET default_transaction_read_only=off"),
    (("postgres",), "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"),
    (("mysql",), "SET SESSION TRANSACTION READ WRITE"),
    (("mysql",), "SET GLOBAL read_only = 0"),
    (("mysql",), "SET @x = 1"),
    (("postgres",), "RESET ALL"),
    (("postgres",), "DISCARD ALL"),
    # comments before a write
    (ALL, "/* hi */ DELETE FROM customers"),
    (ALL, "-- x\nDELETE FROM customers"),
    (("mysql",), "# x\nDELETE FROM customers"),
    (ALL, "/* SELECT */ UPDATE customers SET email = 'x'"),
    # writable CTEs
    (ALL, "WITH a AS (SELECT 1) DELETE FROM customers"),
    (("postgres",), "WITH d AS (DELETE FROM customers RETURNING *) SELECT * FROM d"),
    (("postgres",), "WITH u AS (UPDATE customers SET email = 'x' RETURNING id) SELECT id FROM u"),
    (("postgres",), "WITH i AS (INSERT INTO orders (id) VALUES (1) RETURNING id) SELECT id FROM i"),
    (("postgres", "sqlite"), "WITH a AS (SELECT 1) INSERT INTO orders (id) SELECT 1 FROM a"),
    # MySQL executable comments and hints
    (("mysql",), "/*!50000 DELETE FROM customers */"),
    (ALL, "SELECT 1 /*!50000 INTO OUTFILE '/x' */"),
    (ALL, "SELECT 1 /*!UNION SELECT ssn FROM customers */"),
    (("mysql",), "SELECT /*M!100000 ssn, */ id FROM customers"),
    (("mysql",), "SELECT /*+ SET_VAR(sql_mode='') */ id FROM customers"),
    (("mysql",), "SELECT /*+ MAX_EXECUTION_TIME(100000) */ 1"),
    # INTO (tables, files, variables), comment-split keywords
    (("mysql",), "SELECT * FROM customers INTO/**/OUTFILE '/tmp/x'"),
    (("mysql",), "SELECT * FROM customers INTO OUTFILE '/tmp/x'"),
    (("mysql",), "SELECT * FROM customers INTO DUMPFILE '/tmp/x'"),
    (("mysql",), "SELECT * INTO OUTFILE '/tmp/x' FROM customers"),
    (("mysql",), "SELECT id INTO @v FROM customers LIMIT 1"),
    (("postgres", "mysql"), "SELECT * INTO newtable FROM customers"),
    (("postgres",), "SELECT * INTO TEMP newtable FROM customers"),
    (("postgres",), "CREATE TABLE x AS SELECT * FROM customers"),
    # EXPLAIN ANALYZE executes
    (("postgres", "mysql"), "EXPLAIN ANALYZE DELETE FROM customers"),
    (("postgres", "mysql"), "EXPLAIN ANALYZE SELECT * FROM customers"),
    (("postgres",), "EXPLAIN (ANALYZE) SELECT 1"),
    (("postgres",), "EXPLAIN (ANALYZE false) SELECT 1"),
    (("postgres",), "EXPLAIN (FORMAT JSON, ANALYZE) SELECT 1"),
    (("postgres",), "EXPLAIN (TIMING) SELECT 1"),
    (("postgres",), "EXPLAIN VERBOSE ANALYZE SELECT 1"),
    (("postgres",), "EXPLAIN DELETE FROM customers"),
    (("postgres",), "EXPLAIN SELECT 1; DELETE FROM customers"),
    (("sqlite",), "EXPLAIN DELETE FROM customers"),
    (("sqlite",), "EXPLAIN QUERY PLAN UPDATE customers SET email = 'x'"),
    (("mysql",), "EXPLAIN DELETE FROM customers"),
    (("mysql",), "EXPLAIN customers"),
    (("mysql",), "EXPLAIN FOR CONNECTION 1"),
    (("mysql",), "DESCRIBE customers"),
    (ALL, "EXPLAIN"),
    # backslash quote tricks
    (("postgres", "sqlite"), "SELECT 'a\\'; DROP TABLE customers; --'"),
    (("mysql",), "SELECT 'a\\\\'; DROP TABLE customers; --'"),
    # DML / DDL
    (ALL, "INSERT INTO orders (id) SELECT id FROM customers"),
    (ALL, "INSERT INTO orders VALUES (1, 1, 1, NULL)"),
    (("mysql", "sqlite"), "REPLACE INTO orders VALUES (1, 1, 1, NULL)"),
    (ALL, "UPDATE customers SET email = NULL"),
    (ALL, "DELETE FROM customers"),
    (("postgres",), "MERGE INTO orders o USING customers c ON o.id = c.id WHEN MATCHED THEN DELETE"),
    (ALL, "CREATE TABLE t (a int)"),
    (ALL, "CREATE VIEW v AS SELECT 1"),
    (ALL, "DROP TABLE customers"),
    (ALL, "ALTER TABLE customers ADD COLUMN x int"),
    (("mysql",), "RENAME TABLE customers TO c2"),
    (("postgres", "mysql"), "TRUNCATE customers"),
    (("mysql",), "TRUNCATE TABLE customers"),
    (("postgres", "mysql"), "GRANT SELECT ON customers TO public"),
    (("postgres", "sqlite"), "CREATE INDEX i ON customers (email)"),
    # locking
    (("mysql",), "LOCK TABLES customers WRITE"),
    (("mysql",), "UNLOCK TABLES"),
    (("postgres",), "LOCK TABLE customers"),
    (("postgres", "mysql"), "SELECT * FROM customers FOR UPDATE"),
    (("postgres", "mysql"), "SELECT * FROM customers FOR SHARE"),
    (("postgres",), "SELECT * FROM customers FOR NO KEY UPDATE NOWAIT"),
    (("mysql",), "SELECT * FROM customers LOCK IN SHARE MODE"),
    (("postgres",), "SELECT id FROM customers UNION SELECT id FROM orders FOR UPDATE"),
    # server-side programs and files
    (("postgres",), "COPY customers TO '/tmp/x'"),
    (("postgres",), "COPY (SELECT * FROM customers) TO PROGRAM 'curl x'"),
    (("postgres", "mysql"), "CALL p()"),
    (("postgres",), "DO $$ BEGIN PERFORM 1; END $$"),
    (("postgres",), "PREPARE s AS SELECT 1"),
    (("postgres", "mysql"), "EXECUTE s"),
    (("mysql",), "PREPARE s FROM 'DELETE FROM customers'"),
    (("postgres",), "LISTEN x"),
    (("postgres",), "NOTIFY x"),
    (("postgres",), "VACUUM customers"),
    (("postgres", "sqlite"), "ANALYZE customers"),
    (("sqlite",), "PRAGMA writable_schema=1"),
    (("sqlite",), "PRAGMA query_only=0"),
    (("sqlite",), "ATTACH DATABASE '/tmp/x.db' AS y"),
    (("sqlite",), "DETACH DATABASE y"),
    (("sqlite",), "VACUUM INTO '/tmp/x'"),
    (("mysql",), "LOAD DATA INFILE '/etc/passwd' INTO TABLE customers"),
    (("mysql",), "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE customers"),
    (("mysql",), "HANDLER customers OPEN"),
    (("mysql",), "HANDLER customers READ FIRST"),
    (("mysql",), "SHOW TABLES"),
    (("mysql",), "USE mysql"),
    (("mysql",), "DO SLEEP(10)"),
    (("mysql",), "KILL 1"),
    (("mysql",), "FLUSH PRIVILEGES"),
    # variables, parameters, hints
    (("mysql",), "SELECT @x := ssn FROM customers"),
    (("mysql",), "SELECT @x"),
    (("mysql",), "SELECT @@secure_file_priv"),
    (("sqlite",), "SELECT ?"),
    (("sqlite",), "SELECT :mw0"),
    (("postgres",), "SELECT $1"),
    # system catalogs are not in the schema
    (("sqlite",), "SELECT * FROM sqlite_master"),
    (("sqlite",), "SELECT sql FROM sqlite_schema"),
    (("postgres", "mysql"), "SELECT * FROM information_schema.tables"),
    (("postgres",), "SELECT * FROM pg_catalog.pg_user"),
    (("postgres",), "SELECT * FROM pg_shadow"),
    (("mysql",), "SELECT * FROM mysql.user"),
    (("mysql",), "SELECT * FROM performance_schema.threads"),
    (("postgres", "mysql"), "SELECT * FROM information_schema.customers"),
    (ALL, "SELECT * FROM unknown_table"),
    # composite expansion and table functions with unknown columns
    (("postgres",), "SELECT (c).* FROM customers c"),
    (("postgres",), "SELECT (json_each(notes::json)).* FROM customers"),
    (("postgres",), "SELECT * FROM generate_series(1, 3)"),
    (("postgres",), "SELECT * FROM my_function(1)"),
    (
        ("postgres",),
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SEARCH DEPTH FIRST BY n SET o SELECT * FROM t",
    ),
    (
        ("postgres",),
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) CYCLE n SET c USING p SELECT * FROM t",
    ),
    (("postgres",), "SELECT * FROM unnest(ARRAY[1]) WITH ORDINALITY AS u(x, n)"),
    (("postgres",), "SELECT * FROM customers TABLESAMPLE SYSTEM (10)"),
    (("sqlite",), "SELECT name FROM pragma_table_list"),
    (("sqlite",), "SELECT name FROM pragma_table_info('customers')"),
    (("mysql",), "SELECT 'x'.ssn FROM customers"),
    (ALL, "SELECT * FROM (SELECT * FROM customers FOR UPDATE) x"),
    (("postgres", "mysql"), "SELECT id FROM customers UNION SELECT id INTO t FROM orders"),
    (ALL, "SELECT * FROM customers UNION SELECT * FROM orders"),
    # empty and odd input
    (ALL, ""),
    (ALL, "   \n\t "),
    (ALL, ";"),
    (ALL, "-- only a comment"),
    (ALL, "/* only a comment */"),
    (ALL, "SELECT 1\x00"),
    (ALL, "SELECT\u00a0* FROM customers; DELETE FROM customers"),
    (ALL, "SELECT 1;\u2028DELETE FROM customers"),
    (ALL, "ＳＥＬＥＣＴ 1"),
    (ALL, "SELECT 'unterminated"),
    (ALL, "SELECT 1 FROM"),
]

DANGEROUS: list[tuple[str, str]] = [
    ("postgres", "pg_read_file('/etc/passwd')"),
    ("postgres", "pg_read_binary_file('/etc/passwd')"),
    ("postgres", "pg_ls_dir('.')"),
    ("postgres", "pg_stat_file('/etc/passwd')"),
    ("postgres", "lo_import('/etc/passwd')"),
    ("postgres", "lo_export(1, '/tmp/x')"),
    ("postgres", "lo_get(1)"),
    ("postgres", "lo_put(1, 0, 'x')"),
    ("postgres", "dblink('host=x', 'select 1')"),
    ("postgres", "dblink_exec('host=x', 'drop table t')"),
    ("postgres", "dblink_connect('host=x')"),
    ("postgres", "pg_sleep(10)"),
    ("postgres", "pg_sleep_for('1 hour')"),
    ("postgres", "pg_sleep_until('tomorrow')"),
    ("postgres", "set_config('default_transaction_read_only', 'off', false)"),
    ("postgres", "pg_terminate_backend(1)"),
    ("postgres", "pg_cancel_backend(1)"),
    ("postgres", "pg_reload_conf()"),
    ("postgres", "pg_rotate_logfile()"),
    ("postgres", "query_to_xml('select * from customers', true, true, '')"),
    ("postgres", "table_to_xml('customers', true, true, '')"),
    ("postgres", "ts_stat('select notes from customers')"),
    ("postgres", "pg_advisory_lock(1)"),
    ("postgres", "pg_get_viewdef('v')"),
    ("postgres", "nextval('s')"),
    ("postgres", "PG_CATALOG.PG_READ_FILE('/etc/passwd')"),
    ("postgres", "\"pg_read_file\"('/etc/passwd')"),
    ("mysql", "load_file('/etc/passwd')"),
    ("mysql", "LOAD_FILE('/etc/passwd')"),
    ("mysql", "sleep(10)"),
    ("mysql", "benchmark(10000000, md5('x'))"),
    ("mysql", "get_lock('x', 10)"),
    ("mysql", "release_lock('x')"),
    ("mysql", "sys_exec('id')"),
    ("mysql", "sys_eval('id')"),
    ("mysql", "my_exec_udf('id')"),
    ("mysql", "updatexml(1, 'x', 1)"),
    ("mysql", "extractvalue(1, 'x')"),
    ("sqlite", "load_extension('/tmp/evil.so')"),
    ("sqlite", "readfile('/etc/passwd')"),
    ("sqlite", "writefile('/tmp/x', 'y')"),
    ("sqlite", "edit('x')"),
    ("sqlite", "fts3_tokenizer('simple')"),
]
POSITIONS = [
    "SELECT {f}",
    "SELECT id FROM customers WHERE {f} IS NOT NULL",
    "SELECT id FROM customers WHERE id IN (SELECT id FROM orders WHERE {f} IS NOT NULL)",
    "SELECT (SELECT {f}) AS x",
    "WITH c AS (SELECT {f} AS x) SELECT x FROM c",
    "SELECT id FROM customers ORDER BY {f}",
]


def _cases() -> list[tuple[str, str]]:
    return [(d, sql) for dialects, sql in BYPASSES for d in dialects]


@pytest.mark.parametrize(("dialect", "sql"), _cases())
def test_bypass_corpus_is_refused(check: Check, dialect: str, sql: str) -> None:
    with pytest.raises(SqlDenied):
        check(sql, dialect)


@pytest.mark.parametrize(("dialect", "call"), DANGEROUS)
@pytest.mark.parametrize("template", POSITIONS)
def test_dangerous_functions_refused_everywhere(check: Check, dialect: str, call: str, template: str) -> None:
    with pytest.raises(SqlDenied) as denied:
        check(template.format(f=call), dialect)
    assert denied.value.reason == "dangerous_function"


@pytest.mark.parametrize(("dialect", "call"), DANGEROUS)
def test_dangerous_functions_refused_in_from(check: Check, dialect: str, call: str) -> None:
    with pytest.raises(SqlDenied) as denied:
        check(f"SELECT 1 FROM customers, {call} AS t", dialect)
    # MySQL has no table functions, so some of these do not even parse there
    assert denied.value.reason in (
        {"dangerous_function", "parse_error"} if dialect == "mysql" else {"dangerous_function"}
    )


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        ("postgres", "SELECT * FROM dblink('host=x', 'select ssn from customers')"),
        ("postgres", "SELECT * FROM pg_ls_dir('.') AS t(name)"),
        ("postgres", "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)"),
        ("postgres", "SELECT * FROM customers c, LATERAL pg_ls_dir('.') AS t(name)"),
        ("sqlite", "SELECT * FROM fsdir('/etc')"),
    ],
)
def test_dangerous_table_functions(check: Check, dialect: str, sql: str) -> None:
    with pytest.raises(SqlDenied) as denied:
        check(sql, dialect)
    assert denied.value.reason == "dangerous_function"


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT 1; DROP TABLE t", "multiple_statements"),
        ("DELETE FROM customers", "not_read_only"),
        ("WITH d AS (DELETE FROM customers RETURNING *) SELECT * FROM d", "not_read_only"),
        ("SELECT * INTO newtable FROM customers", "not_read_only"),
        ("SELECT * FROM customers FOR UPDATE", "not_read_only"),
        ("EXPLAIN ANALYZE SELECT 1", "not_read_only"),
        ("SELECT 1 FROM", "parse_error"),
        ("", "empty"),
        ("SELECT * FROM nope", "unknown_table"),
        ("SELECT nope FROM customers", "unknown_column"),
        ("SELECT $1", "unsupported"),
    ],
)
def test_reasons(check: Check, sql: str, reason: str) -> None:
    with pytest.raises(SqlDenied) as denied:
        check(sql)
    assert denied.value.reason == reason


@pytest.mark.parametrize("dialect", ALL)
def test_backslash_follows_the_dialect(check: Check, dialect: str) -> None:
    """MySQL reads \\' as an escaped quote, so this is one string there; elsewhere it is two statements."""
    sql = "SELECT id FROM customers WHERE notes = 'x\\' OR 1=1; DROP TABLE customers; -- '"
    if dialect != "mysql":
        with pytest.raises(SqlDenied) as denied:
            check(sql, dialect)
        assert denied.value.reason == "multiple_statements"
        return
    rendered = check(sql, dialect).render("pyformat")
    assert rendered == "SELECT id FROM customers WHERE notes = 'x'' OR 1=1; DROP TABLE customers; -- '"
    again = check(rendered, dialect)
    assert again.render("pyformat") == rendered


def test_length_limit(check: Check) -> None:
    big = "SELECT id FROM customers WHERE notes = '" + "x" * 200_000 + "'"
    with pytest.raises(SqlDenied) as denied:
        check(big)
    assert denied.value.reason == "too_long"
    assert check("SELECT 1", max_length=8).columns
    with pytest.raises(SqlDenied):
        check("SELECT 1 ", max_length=8)


def test_deep_nesting_is_refused_not_crashing(check: Check) -> None:
    with pytest.raises(SqlDenied):
        check("SELECT " + "(" * 5000 + "1" + ")" * 5000)


def test_unsupported_dialect_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        check_query("SELECT 1", dialect="oracle", schema={})


@pytest.mark.parametrize("dialect", ALL)
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "SELECT 1;",
        "  SELECT id FROM customers  ;  ",
        "/* leading comment */ SELECT id FROM customers",
        "SELECT id FROM customers -- trailing comment",
        "SELECT c.id, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id",
        "WITH big AS (SELECT customer_id, amount FROM orders WHERE amount > 10) SELECT * FROM big",
        "SELECT id FROM customers UNION SELECT customer_id FROM orders",
        "SELECT id FROM customers INTERSECT SELECT customer_id FROM orders",
        "SELECT id FROM customers EXCEPT SELECT customer_id FROM orders",
        "(SELECT id FROM customers)",
        "SELECT id, row_number() OVER (PARTITION BY last_name ORDER BY id) FROM customers",
        "SELECT customer_id, sum(amount) FROM orders GROUP BY customer_id HAVING sum(amount) > 5 ORDER BY 2 DESC",
        "SELECT id FROM customers WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = customers.id)",
        "SELECT id FROM customers ORDER BY id LIMIT 10 OFFSET 5",
        "SELECT DISTINCT last_name FROM customers",
        "SELECT CASE WHEN amount > 5 THEN 'big' ELSE 'small' END AS size FROM orders",
        "SELECT current_setting('server_version')",
    ],
)
def test_ordinary_queries_pass(check: Check, dialect: str, sql: str) -> None:
    if dialect != "postgres" and "current_setting" in sql:
        pytest.skip("PostgreSQL function")
    if dialect == "mysql" and ("INTERSECT" in sql or "EXCEPT" in sql):
        pytest.skip("not in older MySQL; sqlglot still parses it")
    assert check(sql, dialect).columns


@pytest.mark.parametrize(
    ("dialect", "sql", "prefix", "columns"),
    [
        ("postgres", "EXPLAIN SELECT * FROM customers", "EXPLAIN", ["QUERY PLAN"]),
        ("postgres", "explain verbose SELECT id FROM orders", "EXPLAIN VERBOSE", ["QUERY PLAN"]),
        (
            "postgres",
            "EXPLAIN (format json, costs off) SELECT id FROM orders",
            "EXPLAIN (FORMAT JSON, COSTS OFF)",
            ["QUERY PLAN"],
        ),
        (
            "sqlite",
            "EXPLAIN QUERY PLAN SELECT id FROM orders",
            "EXPLAIN QUERY PLAN",
            ["id", "parent", "notused", "detail"],
        ),
        (
            "sqlite",
            "EXPLAIN SELECT id FROM orders",
            "EXPLAIN",
            ["addr", "opcode", "p1", "p2", "p3", "p4", "p5", "comment"],
        ),
        ("mysql", "EXPLAIN SELECT id FROM orders", "EXPLAIN FORMAT=JSON", ["EXPLAIN"]),
        ("mysql", "EXPLAIN FORMAT=TREE SELECT id FROM orders", "EXPLAIN FORMAT=JSON", ["EXPLAIN"]),
    ],
)
def test_explain(check: Check, dialect: str, sql: str, prefix: str, columns: list[str]) -> None:
    query = check(sql, dialect)
    assert query.explain_prefix == prefix
    assert [c.name for c in query.columns] == columns
    assert all(c.kind == "unknown" for c in query.columns)
    assert query.render("named").startswith(prefix + " SELECT")
    assert query.tables == frozenset({"orders"}) or "customers" in sql


def test_explain_applies_the_same_checks(check: Check) -> None:
    with pytest.raises(SqlDenied) as denied:
        check("EXPLAIN SELECT id FROM customers WHERE ssn LIKE '1%'")
    assert denied.value.reason == "predicate_policy"
    with pytest.raises(SqlDenied):
        check("EXPLAIN SELECT pg_sleep(1)")
    with pytest.raises(SqlDenied) as denied:  # the plan would print the resolved value
        check("EXPLAIN SELECT id FROM customers WHERE email = '<EMAIL:0123abcd4567>'")
    assert denied.value.reason == "token_use"
    query = check("EXPLAIN SELECT id FROM customers WHERE email = 'x' AND notes LIKE '%a%'")
    assert query.render("pyformat") == "EXPLAIN SELECT id FROM customers WHERE email = 'x' AND notes LIKE '%%a%%'"


SECRET_STRING = "ann.secret@example.com"
SECRET_NUMBER = "987654321"


@pytest.mark.parametrize("dialect", ALL)
@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT '{SECRET_STRING}', {SECRET_NUMBER}; DELETE FROM customers",
        f"DELETE FROM customers WHERE email = '{SECRET_STRING}' AND id = {SECRET_NUMBER}",
        f"SELECT id FROM customers WHERE ssn = '{SECRET_STRING}' OR ssn = {SECRET_NUMBER}",
        f"SELECT id FROM customers WHERE email LIKE '{SECRET_STRING}' AND id > {SECRET_NUMBER}",
        f"SELECT id FROM nope WHERE x = '{SECRET_STRING}' AND id > {SECRET_NUMBER}",
        f"SELECT nope FROM customers WHERE email = '{SECRET_STRING}' AND id > {SECRET_NUMBER}",
        f"SELECT id FROM customers WHERE email = '{SECRET_STRING}' AND id > {SECRET_NUMBER} AND",
        f"SELECT id FROM customers WHERE email = '{SECRET_STRING}' {SECRET_NUMBER}",
        f"SELECT {SECRET_NUMBER} '{SECRET_STRING}' FROM",
        f"SELECT pg_sleep({SECRET_NUMBER}), '{SECRET_STRING}'",
        f"SELECT '{SECRET_STRING}' INTO OUTFILE '{SECRET_STRING}'",
        f"SELECT substr('<EMAIL:0123abcd4567>', 1, {SECRET_NUMBER})",
        f"EXPLAIN ('{SECRET_STRING}') SELECT {SECRET_NUMBER}",
        f"SELECT '{SECRET_STRING}",
        f'SELECT id FROM customers WHERE email = "{SECRET_STRING}" AND id = {SECRET_NUMBER} AND ssn = 1',
        f'SELECT id FROM "{SECRET_STRING}"',
        f'SELECT "{SECRET_STRING}".id FROM customers',
    ],
)
def test_messages_never_quote_literals(check: Check, dialect: str, sql: str) -> None:
    with pytest.raises(SqlDenied) as denied:
        check(sql, dialect)
    message = str(denied.value)
    assert SECRET_STRING not in message
    assert SECRET_NUMBER not in message
    assert "ann.secret" not in message


def test_sqlglot_never_logs_raw_sql(check: Check, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for sql in (
        f"CALL p('{SECRET_STRING}')",
        f"EXPLAIN SELECT '{SECRET_STRING}'",
        f"VACUUM INTO '{SECRET_STRING}'",
    ):
        for dialect in ALL:
            with contextlib.suppress(SqlDenied):
                check(sql, dialect).render("named")
    assert SECRET_STRING not in caplog.text
