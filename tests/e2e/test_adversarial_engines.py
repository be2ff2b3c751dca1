"""Adversarial queries against the demo CRM on SQLite, PostgreSQL and MariaDB: no raw value comes out.

The demo data is copied into a fresh database on each server. Every query goes through the real tool
service (guard, lineage, classification, masking, budget); outputs and error messages are searched for
every seeded value. Denials are fine; a raw value is not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from crm_engines import Target, crm_target
from sql_corpus import BYPASSES, DANGEROUS, POSITIONS

from mcp_server.tools.problems import ToolProblem

pytestmark = pytest.mark.e2e

COMMON = [
    "SELECT * FROM customers",
    "SELECT email AS remark FROM customers",
    "SELECT phone AS note, ssn AS code, card_number AS ref FROM customers",
    "SELECT upper(email), lower(first_name), upper(last_name) FROM customers",
    "SELECT substr(ssn, 1, 3), substr(ssn, 5) FROM customers",
    "SELECT replace(email, '@', ' at ') FROM customers",
    "SELECT trim(street_address), city, state, postal_code FROM customers",
    "SELECT coalesce(phone, email) FROM customers",
    "SELECT nullif(email, '') FROM customers",
    "SELECT CASE WHEN id > 0 THEN email END FROM customers",
    "SELECT CASE WHEN id % 2 = 0 THEN ssn ELSE phone END AS x FROM customers",
    "SELECT email FROM customers UNION SELECT subject FROM support_tickets",
    "SELECT email FROM customers UNION ALL SELECT body FROM support_tickets",
    "WITH x AS (SELECT email AS e FROM customers) SELECT e FROM x",
    "WITH x AS (SELECT * FROM customers) SELECT * FROM x",
    "WITH a AS (SELECT id, ssn FROM customers), b AS (SELECT ssn AS s FROM a) SELECT s FROM b",
    "SELECT e FROM (SELECT email AS e FROM customers) sub",
    "SELECT (SELECT email FROM customers c2 WHERE c2.id = c.id) AS e FROM customers c",
    "SELECT MAX(email), MIN(phone), MAX(birth_date) FROM customers",
    "SELECT c.*, o.* FROM customers c JOIN orders o ON o.customer_id = c.id",
    "SELECT o.id, c.email, c.phone FROM orders o LEFT JOIN customers c ON c.id = o.customer_id",
    "SELECT email, count(*) AS n FROM customers GROUP BY email",
    "SELECT DISTINCT last_name FROM customers",
    "SELECT id, subject, body FROM support_tickets",
    "SELECT id, birth_date, card_number FROM customers",
    "SELECT * FROM customers ORDER BY id LIMIT 5 OFFSET 3",
    "SELECT email FROM customers WHERE id IN (SELECT customer_id FROM orders)",
    "SELECT email FROM customers WHERE EXISTS (SELECT 1 FROM orders WHERE orders.customer_id = customers.id)",
    "SELECT count(DISTINCT email) AS people FROM customers",
    "SELECT length(email) AS n FROM customers",
    "SELECT email, row_number() OVER (ORDER BY id) AS r FROM customers",
    "SELECT first_value(email) OVER (ORDER BY id) AS f FROM customers",
    "SELECT lag(phone) OVER (ORDER BY id) AS p FROM customers",
    "SELECT * FROM (SELECT * FROM customers) AS t",
    "SELECT t.* FROM customers AS t",
    "SELECT email FROM customers INTERSECT SELECT email FROM customers",
    "SELECT email FROM customers EXCEPT SELECT 'nobody@example.invalid'",
    "SELECT body FROM support_tickets WHERE body LIKE '%key%'",
    "SELECT c.first_name, c.last_name, t.body FROM customers c JOIN support_tickets t ON t.customer_id = c.id",
    "SELECT ssn FROM customers WHERE ssn = '123-45-6789'",
    "SELECT id FROM customers WHERE email LIKE '%example.com'",
    "SELECT id FROM customers WHERE ssn > '5'",
    "SELECT id FROM customers ORDER BY ssn",
    "SELECT email FROM customers; DELETE FROM customers",
    "DELETE FROM customers",
    "SELECT * FROM customers WHERE 1 = 1 -- a comment with a name: Maria",
    "SELECT id, loyalty_tier, created_at FROM customers",
    "SELECT o.id, o.amount, p.name FROM orders o JOIN products p ON p.id = o.product_id",
]

DIALECT = {
    "sqlite": [
        "SELECT first_name || ' ' || last_name AS n FROM customers",
        "SELECT group_concat(email) FROM customers",
        "SELECT json_object('e', email, 'p', phone) FROM customers",
        "SELECT hex(email), quote(ssn), printf('%s', card_number) FROM customers",
        "SELECT CAST(card_number AS TEXT) FROM customers",
        "SELECT 'prefix-' || email FROM customers",
    ],
    "postgres": [
        "SELECT first_name || ' ' || last_name AS n FROM customers",
        "SELECT string_agg(email, ',') FROM customers",
        "SELECT json_build_object('e', email, 'p', phone) FROM customers",
        "SELECT row_to_json(c) FROM customers c",
        "SELECT to_jsonb(c) FROM customers c",
        "SELECT encode(convert_to(email, 'UTF8'), 'hex'), format('%s', ssn) FROM customers",
        "SELECT CAST(card_number AS TEXT), card_number::varchar FROM customers",
        "SELECT array_agg(phone) FROM customers",
        "SELECT substring(email from 1 for 5) FROM customers",
        "SELECT reverse(email) FROM customers",
    ],
    "mysql": [
        "SELECT CONCAT(first_name, ' ', last_name) AS n FROM customers",
        "SELECT CONCAT_WS('/', email, phone) FROM customers",
        "SELECT GROUP_CONCAT(email SEPARATOR ';') FROM customers",
        "SELECT JSON_OBJECT('e', email, 'p', phone) FROM customers",
        "SELECT HEX(email), REVERSE(ssn) FROM customers",
        "SELECT CAST(card_number AS CHAR) FROM customers",
        "SELECT JSON_ARRAYAGG(phone) FROM customers",
    ],
}


@pytest.fixture(scope="module", params=["sqlite", "postgres", "mysql"])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    yield from crm_target(request, tmp_path_factory)


def _leaks(text: str, seeded: tuple[str, ...]) -> list[str]:
    folded = text.casefold()
    return [value for value in seeded if value.casefold() in folded]


def _answered_without_leaks(target: Target, sql: str, seeded: tuple[str, ...]) -> bool:
    """Run `sql`; assert no seeded value is in the answer or the refusal; whether it was answered."""
    try:
        out = target.runtime.service.query("crm", sql)
        text, answered = out.text + out.structured.model_dump_json(), True
    except ToolProblem as problem:
        text, answered = str(problem), False
    leaked = _leaks(text, seeded)
    assert not leaked, f"[{target.engine}] {sql} leaked {leaked[:3]}"
    return answered


def test_fifty_adversarial_queries_leak_nothing(target: Target) -> None:
    queries = COMMON + DIALECT[target.engine]
    assert len(queries) >= 50
    seeded = target.workspace.seeded.must_not_leak()
    answered = 0
    for sql in queries:
        answered += _answered_without_leaks(target, sql, seeded)
    # computing on a protected value is refused (about a third of the suite); everything else must run
    assert answered >= 30, f"[{target.engine}] only {answered} of {len(queries)} queries were answered"


def test_writes_leave_the_database_unchanged(target: Target) -> None:
    for sql in ["DELETE FROM customers", "SELECT 1; DELETE FROM customers", "DROP TABLE customers"]:
        with pytest.raises(ToolProblem):
            target.runtime.service.query("crm", sql)
    engine = sa.create_engine(target.url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM customers").scalar_one() == 60
    engine.dispose()


ENGINE_ONLY = [  # bypasses that need a real server to mean anything
    "/*!50000 DELETE FROM customers */",
    "SELECT 1 /*!50000 INTO OUTFILE '/tmp/mw_out' */",
    "SELECT * FROM customers INTO/**/OUTFILE '/tmp/mw_out2'",
    "SELECT * INTO mw_copy FROM customers",
    "EXPLAIN ANALYZE DELETE FROM customers",
    "WITH d AS (DELETE FROM customers RETURNING *) SELECT * FROM d",
    "WITH a AS (SELECT 1) DELETE FROM customers",
    "CREATE TABLE mw_new (id INT)",
    "RENAME TABLE customers TO mw_gone",
    "TRUNCATE customers",
    "LOCK TABLES customers WRITE",
    "SELECT * FROM customers FOR UPDATE",
    "COPY customers TO '/tmp/mw_copy.csv'",
    "CALL mw_proc()",
    "DO $$ BEGIN DELETE FROM customers; END $$",
    "PRAGMA writable_schema = 1",
    "ATTACH DATABASE '/tmp/mw.db' AS x",
    "VACUUM INTO '/tmp/mw_vacuum.db'",
    "REPLACE INTO customers (id) VALUES (1)",
    "INSERT INTO customers (id) SELECT id + 1000 FROM customers",
    "LOAD DATA INFILE '/etc/passwd' INTO TABLE customers",
    "HANDLER customers OPEN",
    "PREPARE s FROM 'DELETE FROM customers'",
]
# Lexer disagreements: MySQL reads these as one string literal (a harmless SELECT), PostgreSQL and SQLite as a
# string followed by a write (refused). Either way the data must not change.
AMBIGUOUS = ["SELECT 'a\\'; DELETE FROM customers; --'", "SELECT 'a\\' AS x; DROP TABLE customers; --'"]


def _fingerprint(url: str) -> list[tuple[str, int, str]]:
    """Row count and a digest of every table: the database must be identical after the corpus."""
    import hashlib

    engine = sa.create_engine(url)
    out = []
    with engine.connect() as conn:
        for table in sorted(sa.inspect(engine).get_table_names()):
            rows = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).fetchall()
            out.append((table, len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()))
    engine.dispose()
    return out


def test_bypass_corpus_is_denied_and_changes_nothing(target: Target) -> None:
    dialect = target.engine
    statements = [sql for dialects, sql in BYPASSES if dialect in dialects]
    statements += [template.format(f=call) for d, call in DANGEROUS if d == dialect for template in POSITIONS[:2]]
    statements += ENGINE_ONLY
    before = _fingerprint(target.url)
    for sql in statements:
        with pytest.raises(ToolProblem):
            target.runtime.service.query("crm", sql)
    for sql in AMBIGUOUS:
        with contextlib.suppress(ToolProblem):
            target.runtime.service.query("crm", sql)
    assert _fingerprint(target.url) == before
    assert len(statements) >= 40


def test_tokens_join_across_engines_consistently(target: Target) -> None:
    out = target.runtime.service.query("crm", "SELECT email FROM customers WHERE id = 1")
    token = out.structured.rows[0][0]  # type: ignore[attr-defined]
    again = target.runtime.service.query("crm", f"SELECT id FROM customers WHERE email = '{token}'")
    assert again.structured.rows == [[1]]  # type: ignore[attr-defined]


def test_a_plan_shows_no_value_read_while_planning(target: Target) -> None:
    """MySQL and MariaDB read a row found by its primary key before planning, and write its values into the plan
    as constants (`q.password = 'Tr0ub4dor&3xq'`): a self-join on any column of such a row must not show them."""
    seeded = target.workspace.seeded.must_not_leak()
    columns = [c for c in target.runtime.sources.catalogs["crm"].tables()["customers"].column_names() if c != "id"]
    answered = 0
    for column in columns:
        for row in (1, 2, 3):
            sql = f"EXPLAIN SELECT q.id FROM customers p JOIN customers q ON q.{column} = p.{column} WHERE p.id = {row}"
            answered += _answered_without_leaks(target, sql, seeded)
    assert answered, "no plan was answered"


def test_a_json_plan_stays_a_plan(target: Target) -> None:
    """A plan's keys and node names are no personal data: masking leaves them, so a JSON plan still parses."""
    import json

    sql = {
        "postgres": "EXPLAIN (FORMAT JSON) SELECT id, email FROM customers WHERE id = 1",
        "mysql": "EXPLAIN SELECT id, email FROM customers WHERE id = 1",
        "sqlite": "EXPLAIN QUERY PLAN SELECT id, email FROM customers WHERE id = 1",
    }[target.engine]
    out = target.runtime.service.query("crm", sql)
    cells = [row[0] if target.engine != "sqlite" else row[-1] for row in out.structured.rows]
    assert cells and not any("<PERSON" in str(c) or "<LOCATION" in str(c) for c in cells), cells
    if target.engine != "sqlite":
        json.loads("".join(str(c) for c in cells))
