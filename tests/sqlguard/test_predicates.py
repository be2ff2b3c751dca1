"""Inference control: predicate policies on protected columns.

Policy used (conftest): customers.ssn "none"; customers.email / phone / birth_date "equality"; others "any".
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mcp_server.sqlguard import CheckedQuery, ColumnPolicy, SourceColumn, SqlDenied
from tests.sqlguard.conftest import policy

Check = Callable[..., CheckedQuery]
ALL = ("sqlite", "postgres", "mysql")

ALLOWED = [
    "SELECT id FROM customers WHERE email = 'ann@example.com'",
    "SELECT id FROM customers WHERE 'ann@example.com' = email",
    "SELECT id FROM customers WHERE email <> 'x'",
    "SELECT id FROM customers WHERE email != 'x'",
    "SELECT id FROM customers WHERE email IN ('a', 'b')",
    "SELECT id FROM customers WHERE email NOT IN ('a', 'b')",
    "SELECT id FROM customers WHERE email IS NULL",
    "SELECT id FROM customers WHERE email IS NOT NULL",
    "SELECT id FROM customers WHERE NOT (email = 'a') AND (phone = 'b' OR phone IS NULL)",
    "SELECT id FROM customers WHERE (email) = ('a')",
    "SELECT a.id FROM customers a JOIN customers b ON a.email = b.email AND a.id <> b.id",
    "SELECT email, count(*) FROM customers GROUP BY email",
    "SELECT count(*) FROM customers GROUP BY email HAVING count(DISTINCT phone) > 1",
    "SELECT count(DISTINCT email) FROM customers",
    "SELECT last_name FROM customers GROUP BY last_name HAVING count(email) = 2",
    "SELECT count(DISTINCT email) AS n FROM customers HAVING count(DISTINCT email) = 5",
    "SELECT id FROM customers WHERE CASE WHEN email = 'a' THEN 1 ELSE 0 END = 1",
    "SELECT id FROM customers WHERE CASE email WHEN 'a' THEN true ELSE false END",
    "SELECT id FROM customers WHERE email = 'a' AND notes LIKE '%x%' AND id > 5",
    "SELECT id FROM customers ORDER BY last_name, id",
    "SELECT id, count(*) OVER (PARTITION BY email) FROM customers",
    # computing on clear columns, and on free text whose policy allows any use
    "SELECT upper(first_name), length(notes) FROM customers",
    "SELECT ssn FROM customers WHERE id = 1",
    "SELECT ssn FROM customers ORDER BY id",
    "WITH x AS (SELECT email AS e FROM customers) SELECT e FROM x WHERE e = 'a'",
    "SELECT id FROM (SELECT id, email AS contact FROM customers) s WHERE contact IN ('a', 'b')",
    "SELECT id FROM customers WHERE email = '<EMAIL:0123abcd4567>'",
    "SELECT id FROM customers WHERE email IN ('<EMAIL:0123abcd4567>', 'b')",
]

DENIED = [
    # none: any use
    ("SELECT id FROM customers WHERE ssn = '123-45-6789'", "customers.ssn"),
    ("SELECT id FROM customers WHERE ssn IS NULL", "customers.ssn"),
    ("SELECT id FROM customers ORDER BY ssn", "customers.ssn"),
    ("SELECT count(*) FROM customers GROUP BY ssn", "customers.ssn"),
    ("SELECT a.id FROM customers a JOIN customers b ON a.ssn = b.ssn", "customers.ssn"),
    ("SELECT a.id FROM customers a JOIN customers b USING (ssn)", "customers.ssn"),
    ("SELECT count(ssn) FROM customers HAVING count(ssn) > 1", "customers.ssn"),
    ("SELECT id FROM customers WHERE EXISTS (SELECT 1 FROM customers x WHERE x.ssn = '1')", "customers.ssn"),
    ("SELECT (SELECT count(*) FROM customers WHERE ssn LIKE '1%')", "customers.ssn"),
    # equality: pattern matching
    ("SELECT id FROM customers WHERE email LIKE 'a%'", "LIKE"),
    ("SELECT id FROM customers WHERE email NOT LIKE 'a%'", "LIKE"),
    ("SELECT id FROM customers WHERE phone GLOB '1*'", "GLOB"),
    ("SELECT id FROM customers WHERE email REGEXP '^a'", "regular expression"),
    ("SELECT id FROM customers WHERE 'abc' LIKE email", "LIKE"),
    # equality: ranges
    ("SELECT id FROM customers WHERE email > 'm'", "range"),
    ("SELECT id FROM customers WHERE email <= 'm'", "range"),
    ("SELECT id FROM customers WHERE birth_date BETWEEN '1990-01-01' AND '1991-01-01'", "BETWEEN"),
    ("SELECT id FROM customers WHERE 'm' < email", "range"),
    # equality: functions, casts, arithmetic on the column
    ("SELECT id FROM customers WHERE length(phone) = 9", "LENGTH"),
    ("SELECT id FROM customers WHERE substr(email, 1, 1) = 'a'", "SUBSTRING"),
    ("SELECT id FROM customers WHERE CAST(phone AS int) > 5", "CAST"),
    ("SELECT id FROM customers WHERE CAST(phone AS int) = 5", "CAST"),
    ("SELECT id FROM customers WHERE phone + 0 > 5", "phone"),
    ("SELECT id FROM customers WHERE lower(email) = 'a'", "LOWER"),
    ("SELECT id FROM customers WHERE coalesce(email, '') = 'a'", "COALESCE"),
    ("SELECT id FROM customers WHERE coalesce(email, phone) = 'a'", "COALESCE"),
    # conditions inside values decide too
    ("SELECT CASE WHEN email LIKE '%@example.com' THEN 'x' END FROM customers", "LIKE"),
    ("SELECT email LIKE 'a%' FROM customers", "LIKE"),
    ("SELECT phone IS NULL, id FROM customers WHERE substr(email, 1, 1) = 'a'", "SUBSTRING"),
    ("SELECT id FROM customers WHERE email", "email"),
    ("SELECT id FROM customers WHERE CASE WHEN email LIKE 'a%' THEN 1 ELSE 0 END = 1", "LIKE"),
    ("SELECT id FROM customers WHERE CASE WHEN id = 1 THEN email END = 'a'", "email"),
    ("SELECT id FROM customers WHERE email = upper(notes)", "expression"),
    ("SELECT id FROM customers WHERE email = (SELECT max(email) FROM customers)", "email"),
    ("SELECT id FROM customers WHERE email = ANY(SELECT upper(email) FROM customers)", "email"),
    # equality: ordering reveals rank
    ("SELECT id FROM customers ORDER BY email", "ORDER BY"),
    ("SELECT email AS e FROM customers ORDER BY e", "ORDER BY"),
    ("SELECT id, email FROM customers ORDER BY 2", "ORDER BY"),
    ("SELECT id, row_number() OVER (ORDER BY email) FROM customers", "ORDER BY"),
    ("SELECT string_agg(notes, ',' ORDER BY phone) FROM customers", "ORDER BY"),
    ("SELECT max(email) FROM customers GROUP BY last_name ORDER BY max(email)", "MAX()"),
    # any computation on a protected value: its result is masked, but whether it fails, how long it runs and how
    # much memory it takes can depend on the value (a guess that makes the output exceed a size limit)
    ("SELECT substr(ssn, 1, 3) FROM customers", "SUBSTRING()"),
    ("SELECT upper(email) FROM customers", "UPPER()"),
    ("SELECT length(phone) FROM customers", "LENGTH()"),
    ("SELECT replace(replace(ssn, '123-4', repeat('Z', 1001)), 'Z', repeat('x', 1000000)) FROM customers", "ssn"),
    ("SELECT ssn || repeat('x', 999999990) FROM customers", "ssn"),
    ("SELECT concat(email, 'x') FROM customers", "email"),
    ("SELECT CAST(email AS TEXT) FROM customers", "CAST"),
    ("SELECT max(email) FROM customers", "MAX()"),
    ("SELECT string_agg(email, ',') FROM customers", "email"),
    ("SELECT count(*) FROM customers GROUP BY last_name HAVING count(upper(email)) > 0", "UPPER()"),
    # equality: grouping on a transformed value
    ("SELECT count(*) FROM customers GROUP BY substr(email, 1, 1)", "SUBSTRING"),
    ("SELECT substr(email, 1, 1) AS s, count(*) FROM customers GROUP BY 1", "email"),
    ("SELECT count(*) FROM customers HAVING max(email) > 'a'", "email"),
    ("SELECT count(*) FILTER (WHERE phone LIKE '1%') FROM customers", "LIKE"),
    # through CTEs, subqueries and aliases
    ("WITH x AS (SELECT email AS e FROM customers) SELECT 1 FROM x WHERE e LIKE 'a%'", "customers.email"),
    ("WITH x AS (SELECT substr(email, 1, 1) AS s FROM customers) SELECT 1 FROM x WHERE s = 'a'", "customers.email"),
    ("SELECT id FROM (SELECT id, ssn AS s FROM customers) t WHERE s = '1'", "customers.ssn"),
    (
        "SELECT id FROM (SELECT id, email FROM customers UNION SELECT id, body FROM tickets) u WHERE email > 'a'",
        "customers.email",
    ),
    ("SELECT c.id FROM customers c JOIN tickets t ON t.body LIKE c.email", "LIKE"),
    ("SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM tickets t WHERE t.body > c.email)", "range"),
]


@pytest.mark.parametrize("dialect", ALL)
@pytest.mark.parametrize("sql", ALLOWED)
def test_allowed(check: Check, dialect: str, sql: str) -> None:
    if dialect == "mysql" and "true" in sql:
        sql = sql.replace("true", "1").replace("false", "0")
    assert check(sql, dialect).columns


@pytest.mark.parametrize("dialect", ALL)
@pytest.mark.parametrize(("sql", "mentions"), DENIED)
def test_denied(check: Check, dialect: str, sql: str, mentions: str) -> None:
    with pytest.raises(SqlDenied) as denied:
        check(sql, dialect)
    assert denied.value.reason in ("predicate_policy", "merge_policy"), denied.value
    assert mentions in str(denied.value)


def test_messages_name_column_and_policy(check: Check) -> None:
    with pytest.raises(SqlDenied) as denied:
        check("SELECT id FROM customers WHERE email LIKE 'a%'")
    assert str(denied.value) == (
        "predicate on customers.email in WHERE uses LIKE; the policy for this column allows equality only"
        " (=, <>, IN, IS NULL, joins on equal columns)"
    )
    with pytest.raises(SqlDenied) as denied:
        check("SELECT id FROM customers WHERE ssn = 'x'")
    assert str(denied.value).startswith("customers.ssn cannot be used in WHERE")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM customers WHERE email = 123",
        "SELECT id FROM customers WHERE email IN (1, 2)",
        "SELECT id FROM customers WHERE phone = 5551234 OR phone = '1'",
        "SELECT id FROM customers WHERE email = true",
        "SELECT id FROM customers WHERE email = -1",
        "SELECT id FROM customers WHERE email = (SELECT 123)",
        "SELECT c.id FROM customers c, (SELECT 123 AS n) k WHERE c.email = k.n",
        "SELECT c.id FROM customers c JOIN orders o ON c.phone = o.id",
        "SELECT id FROM customers WHERE email IN (SELECT customer_id FROM orders)",
    ],
)
def test_mysql_numeric_comparison_is_a_prefix_oracle(check: Check, sql: str) -> None:
    with pytest.raises(SqlDenied) as denied:
        check(sql, "mysql")
    assert "string literal" in str(denied.value) or "can only be compared with literal values" in str(denied.value)
    assert check(sql, "postgres", column_policy=lambda _c: ColumnPolicy()).columns


@pytest.mark.parametrize("dialect", ALL)
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT c.id FROM customers c JOIN tickets t ON t.body = c.email",
        "SELECT c.id FROM customers c WHERE c.email IN (SELECT body FROM tickets)",
        "SELECT c.id FROM customers c JOIN orders o ON o.id = c.phone",
        "SELECT c.id FROM customers c JOIN customers d ON c.email = d.phone",
        "SELECT c.id FROM customers c JOIN (VALUES ('a'), ('b')) v(x) ON v.x = c.email",
        "SELECT c.id FROM customers c WHERE c.email IN (SELECT 'a' UNION SELECT 'b')",
    ],
)
def test_join_with_a_column_of_another_kind_is_refused(check: Check, dialect: str, sql: str) -> None:
    """Only another column masked as the same entity type: anything else enumerates the protected values."""
    with pytest.raises(SqlDenied) as denied:
        check(sql, dialect)
    assert denied.value.reason == "predicate_policy"
    assert check("SELECT a.id FROM customers a JOIN customers b ON a.email = b.email", dialect).columns


def test_any_policy_allows_everything(check: Check) -> None:
    query = check(
        "SELECT id FROM customers WHERE ssn LIKE '1%' AND email > 'a' ORDER BY phone, length(ssn)",
        column_policy=lambda _c: ColumnPolicy(),
    )
    assert query.columns


def test_unknown_policy_value_is_treated_as_none(check: Check) -> None:
    with pytest.raises(SqlDenied):
        check(
            "SELECT id FROM customers WHERE notes = 'x'",
            column_policy=lambda _c: ColumnPolicy("text", None, "sometimes"),  # type: ignore[arg-type]
        )


def test_policy_sees_canonical_columns(check: Check) -> None:
    seen: list[SourceColumn] = []

    def record(column: SourceColumn) -> ColumnPolicy:
        seen.append(column)
        return ColumnPolicy()

    check("WITH x AS (SELECT EMAIL AS e FROM CUSTOMERS) SELECT e FROM x WHERE e = 'a'", column_policy=record)
    assert [(c.table, c.column) for c in seen] == [("customers", "email")]


@pytest.mark.parametrize("dialect", ALL)
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT replace(notes, 'sk_live', repeat('x', 1000000)) FROM customers",
        "SELECT upper(notes) FROM customers",
        "SELECT substr(notes, 1, 40) FROM customers",
        "SELECT string_agg(notes, ',') FROM customers",
    ],
)
def test_free_text_under_equality_is_not_computed_on(check: Check, dialect: str, sql: str) -> None:
    """Free text keeps its default policy (equality) in the product: computing on it is refused like on personal
    values, while a search and the text itself stay available."""

    def text_equality(column: SourceColumn) -> ColumnPolicy:
        found = policy(column)
        return ColumnPolicy("text", None, "equality") if found.protection == "text" else found

    if dialect == "mysql" and "string_agg" in sql:
        sql = sql.replace("string_agg(notes, ',')", "group_concat(notes)")
    with pytest.raises(SqlDenied, match=r"customers\.notes cannot be passed"):
        check(sql, dialect, column_policy=text_equality)
    assert check("SELECT notes FROM customers WHERE notes LIKE '%refund%'", dialect, column_policy=text_equality)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM customers WHERE birth_date = ANY('{1990-07-29,1990-07-30,1990-07-31}'::date[])",
        "SELECT id FROM customers WHERE birth_date = ANY(CAST('{1990-07-30}' AS DATE[]))",
        "SELECT id FROM customers WHERE email = ANY(string_to_array('a@x.org,b@x.org', ','))",
        "SELECT id FROM customers WHERE email = ANY(ARRAY[upper('a')])",
        "SELECT id FROM customers WHERE email = 'a' || 'b'",
        "SELECT id FROM customers WHERE email IN (concat('a', 'b'))",
    ],
)
def test_partners_are_literal_values_one_test_each(check: Check, sql: str) -> None:
    """A protected column is compared with literal values only, each counted as one membership test: a literal
    of an array type or a function building a list would be thousands of tests counted as one."""
    with pytest.raises(SqlDenied) as denied:
        check(sql, "postgres")
    assert denied.value.reason == "predicate_policy" and "literal values" in str(denied.value)


def test_array_of_literals_counts_every_element(check: Check) -> None:
    dates = ", ".join(f"'1990-01-{d:02d}'" for d in range(1, 29))
    assert check(f"SELECT id FROM customers WHERE birth_date = ANY(ARRAY[{dates}])", "postgres").membership_tests == 28
    many = ", ".join(f"'a{i}@x.org'" for i in range(101))
    with pytest.raises(SqlDenied, match="more than 100 values"):
        check(f"SELECT id FROM customers WHERE email = ANY(ARRAY[{many}])", "postgres")


def test_escape_strings_are_tokens_too(check: Check) -> None:
    """PostgreSQL's E'...' holds a token like any string literal: not as a clear value in the select list."""
    with pytest.raises(SqlDenied) as denied:
        check("SELECT id, E'<EMAIL:0123abcd4567>' AS email FROM customers", "postgres")
    assert denied.value.reason == "token_use"
    assert check("SELECT id FROM customers WHERE email = E'<EMAIL:0123abcd4567>'", "postgres").membership_tests == 1


@pytest.mark.parametrize("pattern", ["%4eC39%", "%123-45%", "%@plinth%", "%ab%", "%HqL9%", "%a.b%"])
def test_free_text_searches_look_for_words_only(check: Check, pattern: str) -> None:
    """Digits, symbols or pieces shorter than three letters would let a search grow a guess at a masked number,
    address or key one character at a time (a Stripe key was rebuilt from a notes column that way)."""

    def text_equality(column: SourceColumn) -> ColumnPolicy:
        found = policy(column)
        return ColumnPolicy("text", None, "equality") if found.protection == "text" else found

    with pytest.raises(SqlDenied, match="words of three or more letters"):
        check(f"SELECT id FROM customers WHERE notes LIKE '{pattern}'", "postgres", column_policy=text_equality)
    for words in ("%refund%", "%late delivery%", "%Müller-Lüdenscheidt%", "refund%"):
        check(f"SELECT id FROM customers WHERE notes ILIKE '{words}'", "postgres", column_policy=text_equality)


def test_a_literal_cast_to_a_sized_scalar_type_is_one_value(check: Check) -> None:
    query = check("SELECT id FROM customers WHERE email = CAST('a@x.org' AS VARCHAR(100))", "postgres")
    assert query.membership_tests == 1


GUESSABLE = {
    "customers.notes": ColumnPolicy("pii", "SENSITIVE", "equality"),  # a diagnosis
    "customers.phone": ColumnPolicy("pii", "SECRET", "equality"),  # a password
    "customers.email": ColumnPolicy("pii", "EMAIL", "equality"),
}


def _guessable(column: SourceColumn) -> ColumnPolicy:
    return GUESSABLE.get(f"{column.table}.{column.column}", ColumnPolicy())


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM customers WHERE notes = 'HIV positive'",
        "SELECT id, notes = 'HIV positive' AS d FROM customers",
        "SELECT id FROM customers WHERE notes IN ('flu', 'asthma')",
        "SELECT id FROM customers WHERE phone = 'Hunter2Secret!'",
        "SELECT id FROM customers WHERE notes = ANY(ARRAY['flu', 'asthma'])",
        "SELECT id, CASE WHEN phone <> 'hunter2' THEN 1 END FROM customers",
    ],
)
def test_guessable_columns_take_no_literal_guesses(check: Check, sql: str) -> None:
    """Diagnoses and passwords come from short lists: 100 guesses a query would read every row's value."""
    with pytest.raises(SqlDenied, match="guessable"):
        check(sql, column_policy=_guessable)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT notes, count(*) FROM customers GROUP BY notes",
        "SELECT a.id FROM customers a JOIN customers b ON a.notes = b.notes",
        "SELECT id FROM customers WHERE notes IS NULL",
        "SELECT id FROM customers WHERE email = 'ann@example.com'",  # an e-mail is not guessed from a list
    ],
)
def test_guessable_columns_still_group_join_and_compare_with_columns(check: Check, sql: str) -> None:
    check(sql, column_policy=_guessable)
