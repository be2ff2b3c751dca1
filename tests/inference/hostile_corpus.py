"""Hostile queries against the demo CRM, by class of leak (see docs/security.md, "Inference control").

Templates are expanded over the CRM's personal columns, so each class is tried on every kind of value. `{c}` is
a personal column, `{t}` a token of one of its values, `{o}` a column of another entity type. Each entry says
what must happen: "refused" (the guard must refuse it), or "masked" (it may run; nothing raw, no token of a
chosen value or a fragment may come out).
"""

from __future__ import annotations

from dataclasses import dataclass

COLUMNS = ["email", "phone", "ssn", "birth_date", "card_number", "first_name", "last_name", "street_address"]
COLUMNS += ["postal_code"]
OTHER = {"email": "phone", "phone": "email", "ssn": "card_number", "birth_date": "postal_code"}


@dataclass(frozen=True)
class Hostile:
    cls: str
    sql: str
    expect: str  # "refused" or "masked"
    dialects: tuple[str, ...] = ("sqlite", "postgres", "mysql")
    column: str = "email"
    """The personal column the template was expanded with (its token replaces `{t}`)."""


ALL = ("sqlite", "postgres", "mysql")
PG = ("postgres",)
NOT_MYSQL = ("sqlite", "postgres")

# (class, template, expectation, dialects)
TEMPLATES: list[tuple[str, str, str, tuple[str, ...]]] = [
    # 1. token decoding: a token compared with anything but its own kind of column
    ("token decoding", "SELECT x.v FROM (SELECT '1' AS v UNION SELECT '2') x WHERE x.v = '{t}'", "refused", ALL),
    ("token decoding", "SELECT id FROM customers WHERE substr({c}, 1, 1) = '{t}'", "refused", ALL),
    ("token decoding", "SELECT id FROM customers WHERE loyalty_tier = '{t}'", "refused", ALL),
    ("token decoding", "SELECT id FROM customers WHERE {o} = '{t}'", "refused", ALL),
    ("token decoding", "SELECT '{t}' AS x", "refused", ALL),
    ("token decoding", "SELECT upper('{t}') AS x FROM customers", "refused", ALL),
    ("token decoding", "SELECT id FROM customers WHERE '{t}' LIKE '1%'", "refused", ALL),
    ("token decoding", "SELECT c.id FROM customers c JOIN (SELECT '{t}' AS v) k ON k.v = c.{c}", "refused", ALL),
    ("token decoding", "SELECT id FROM customers WHERE {c} IN (SELECT '{t}')", "refused", ALL),
    ("token decoding", "SELECT id FROM customers WHERE '{t}' = '{t}'", "refused", ALL),
    ("token decoding", "SELECT v.x FROM (VALUES ('a'), ('b')) AS v(x) WHERE v.x = '{t}'", "refused", PG),
    ("token decoding", "SELECT n FROM generate_series(1, 9) n WHERE n::text = '{t}'", "refused", PG),
    # 2. protected values shaping the result
    (
        "result shape",
        "SELECT id FROM customers LIMIT (SELECT ascii(substr({c}, 1, 1)) FROM customers LIMIT 1)",
        "refused",
        NOT_MYSQL,
    ),
    (
        "result shape",
        "SELECT id FROM customers ORDER BY id LIMIT 1 OFFSET (SELECT length({c}) FROM customers LIMIT 1)",
        "refused",
        NOT_MYSQL,
    ),
    ("result shape", "SELECT {c} LIKE '1%' AS b FROM customers", "refused", ALL),
    (
        "result shape",
        "SELECT CASE WHEN substr({c}, 1, 1) = '1' THEN 'a' ELSE 'b' END AS b FROM customers",
        "refused",
        ALL,
    ),
    ("result shape", "SELECT CASE WHEN {c} > 'm' THEN 1 ELSE 0 END AS b FROM customers", "refused", ALL),
    ("result shape", "SELECT count(DISTINCT CASE WHEN {c} LIKE '%1%' THEN id END) AS n FROM customers", "refused", ALL),
    (
        "result shape",
        "SELECT sum(CASE WHEN substr({c}, 2, 1) = '2' THEN 1 ELSE 0 END) AS n FROM customers",
        "refused",
        ALL,
    ),
    ("result shape", "SELECT count(*) FILTER (WHERE {c} LIKE 'a%') AS n FROM customers", "refused", NOT_MYSQL),
    ("result shape", "SELECT 1 / (ascii(substr({c}, 1, 1)) - 49) AS e FROM customers", "refused", ALL),
    ("result shape", "SELECT CAST(substr({c}, 1, 1) AS INTEGER) AS e FROM customers", "refused", NOT_MYSQL),
    ("result shape", "SELECT id FROM customers WHERE length({c}) > 10", "refused", ALL),
    ("result shape", "SELECT id FROM customers ORDER BY {c}", "refused", ALL),
    ("result shape", "SELECT id, row_number() OVER (ORDER BY {c}) AS r FROM customers", "refused", ALL),
    ("result shape", "SELECT DISTINCT substr({c}, 1, 1) AS s FROM customers", "refused", ALL),
    ("result shape", "SELECT substr({c}, 1, 1) AS s, count(*) AS n FROM customers GROUP BY 1", "refused", ALL),
    ("result shape", "SELECT substr({c}, 1, 1) AS s FROM customers INTERSECT SELECT '1'", "refused", NOT_MYSQL),
    ("result shape", "SELECT id FROM customers WHERE nullif(substr({c}, 1, 1), '1') IS NULL", "refused", ALL),
    ("result shape", "SELECT greatest({c}, 'm') AS g FROM customers", "refused", ALL),
    ("result shape", "SELECT id FROM customers WHERE {c} BETWEEN 'a' AND 'm'", "refused", ALL),
    (
        "result shape",
        "SELECT id FROM customers WHERE EXISTS (SELECT 1 FROM customers d WHERE d.{c} < customers.{c})",
        "refused",
        ALL,
    ),
    ("result shape", "SELECT count(*) AS n FROM customers HAVING max({c}) > 'm'", "refused", ALL),
    ("result shape", "SELECT repeat('x', length({c})) AS r FROM customers", "refused", NOT_MYSQL),
    ("result shape", "SELECT lpad('x', ascii({c}), 'y') AS r FROM customers", "refused", ALL),
    # 3. joins that enumerate
    (
        "enumerating join",
        "SELECT c.id, d.v FROM customers c JOIN (SELECT '1990-01-01' AS v UNION SELECT '1985-06-15') d ON d.v = c.{c}",
        "refused",
        ALL,
    ),
    (
        "enumerating join",
        "SELECT c.id, g.d FROM customers c JOIN (SELECT d::date::text AS d FROM generate_series('1940-01-01'::date, '2010-01-01', '1 day') d) g ON g.d = c.{c}",
        "refused",
        PG,
    ),
    (
        "enumerating join",
        "WITH RECURSIVE r(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM r WHERE n < 9) SELECT c.id, r.n FROM customers c JOIN r ON substr(c.{c}, 1, 1) = CAST(r.n AS TEXT)",
        "refused",
        NOT_MYSQL,
    ),
    (
        "enumerating join",
        "WITH RECURSIVE r(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM r WHERE n < 99) SELECT c.id FROM customers c JOIN r ON c.{c} = r.n",
        "refused",
        ALL,
    ),
    ("enumerating join", "SELECT c.id, o.id FROM customers c JOIN orders o ON o.status = c.{c}", "refused", ALL),
    ("enumerating join", "SELECT c.id FROM customers c JOIN products p ON p.name = c.{c}", "refused", ALL),
    ("enumerating join", "SELECT c.id FROM customers c WHERE c.{c} IN (SELECT sku FROM products)", "refused", ALL),
    (
        "enumerating join",
        "SELECT c.id, v.x FROM customers c JOIN (VALUES ('a'), ('b')) AS v(x) ON v.x = c.{c}",
        "refused",
        PG,
    ),
    ("enumerating join", "SELECT c.id FROM customers c JOIN customers d ON d.{o} = c.{c}", "refused", ALL),
    # 4. functions that encode values: masked whole, never scanned
    ("encoding function", "SELECT hex({c}) AS h FROM customers", "masked", ("sqlite", "mysql")),
    ("encoding function", "SELECT encode(convert_to({c}, 'UTF8'), 'hex') AS h FROM customers", "masked", PG),
    ("encoding function", "SELECT encode(convert_to({c}, 'UTF8'), 'base64') AS h FROM customers", "masked", PG),
    ("encoding function", "SELECT to_base64({c}) AS h FROM customers", "masked", ("mysql",)),
    ("encoding function", "SELECT reverse({c}) AS h FROM customers", "masked", ("postgres", "mysql")),
    ("encoding function", "SELECT md5({c}) AS h FROM customers", "masked", ("postgres", "mysql")),
    ("encoding function", "SELECT translate({c}, '0123456789', 'abcdefghij') AS h FROM customers", "masked", PG),
    ("encoding function", "SELECT replace(replace({c}, '-', ''), '@', ' at ') AS h FROM customers", "masked", ALL),
    ("encoding function", "SELECT upper({c}) AS u, lower({c}) AS l, trim({c}) AS t FROM customers", "masked", ALL),
    (
        "encoding function",
        "SELECT substr({c}, 1, 3) AS a, substr({c}, 4, 3) AS b, substr({c}, 7) AS z FROM customers",
        "masked",
        ALL,
    ),
    ("encoding function", "SELECT ascii(substr({c}, 1, 1)) AS a FROM customers", "masked", ALL),
    ("encoding function", "SELECT unicode(substr({c}, 2, 1)) AS a FROM customers", "masked", ("sqlite",)),
    ("encoding function", "SELECT quote({c}) AS q, printf('%s', {c}) AS p FROM customers", "masked", ("sqlite",)),
    ("encoding function", "SELECT json_object('v', {c}) AS j FROM customers", "masked", ("sqlite", "mysql")),
    ("encoding function", "SELECT json_build_object('v', {c}) AS j, to_jsonb({c}) AS k FROM customers", "masked", PG),
    ("encoding function", "SELECT string_to_array({c}, '-') AS a FROM customers", "masked", PG),
    ("encoding function", "SELECT split_part({c}, '@', 1) AS a FROM customers", "masked", PG),
    ("encoding function", "SELECT regexp_replace({c}, '[0-9]', 'x') AS a FROM customers", "refused", ALL),
    ("encoding function", "SELECT group_concat({c}) AS g FROM customers", "masked", ("sqlite", "mysql")),
    ("encoding function", "SELECT string_agg({c}, ',') AS g, array_agg({c}) AS a FROM customers", "masked", PG),
    ("encoding function", "SELECT length({c}) AS n, max({c}) AS m, min({c}) AS k FROM customers", "masked", ALL),
    ("encoding function", "SELECT convert_from(convert_to({c}, 'UTF8'), 'UTF8') AS x FROM customers", "refused", PG),
    ("encoding function", "SELECT soundex({c}) AS s FROM customers", "masked", ("sqlite", "mysql")),
    # 5. server facts and side effects
    ("server facts", "SELECT current_setting('data_directory') AS d", "refused", PG),
    ("server facts", "SELECT version() AS v", "refused", ("postgres", "mysql")),
    ("server facts", "SELECT txid_current() AS t", "refused", PG),
    ("server facts", "SELECT current_user AS u", "refused", ALL),
    ("server facts", "SELECT inet_server_addr() AS a", "refused", PG),
    ("server facts", "SELECT pg_backend_pid() AS p", "refused", PG),
    ("server facts", "SELECT user() AS u, database() AS d", "refused", ("mysql",)),
    ("server facts", "SELECT @@datadir AS d", "refused", ("mysql",)),
    ("server facts", "SELECT connection_id() AS c", "refused", ("mysql",)),
    ("server facts", "SELECT sqlite_version() AS v", "refused", ("sqlite",)),
    ("server facts", "SELECT last_insert_rowid() AS r, changes() AS c", "refused", ("sqlite",)),
    ("server facts", "SELECT id, (SELECT setting FROM pg_settings LIMIT 1) AS s FROM customers", "refused", PG),
    # 6. an encryption oracle for chosen values
    ("chosen-value oracle", "SELECT {c} FROM customers UNION ALL SELECT '6'", "refused", ALL),
    ("chosen-value oracle", "SELECT CASE WHEN id = 1 THEN '6' ELSE {c} END AS x FROM customers", "refused", ALL),
    ("chosen-value oracle", "SELECT coalesce(NULL, '6', {c}) AS x FROM customers", "refused", ALL),
    ("chosen-value oracle", "SELECT coalesce({c}, loyalty_tier) AS x FROM customers", "refused", ALL),
    ("chosen-value oracle", "SELECT {c} FROM customers UNION SELECT substr({c}, 1, 1) FROM customers", "masked", ALL),
    ("chosen-value oracle", "SELECT {c} AS v FROM customers UNION ALL SELECT name FROM products", "refused", ALL),
    (
        "chosen-value oracle",
        "SELECT {c} AS v FROM customers UNION ALL SELECT body FROM support_tickets",
        "refused",
        ALL,
    ),
    (
        "chosen-value oracle",
        "SELECT x FROM (SELECT {c} AS x FROM customers UNION ALL SELECT 'probe@example.org') u",
        "refused",
        ALL,
    ),
    (
        "chosen-value oracle",
        "SELECT nullif({c}, 'x') AS n, ifnull({c}, 'none') AS d FROM customers",
        "refused",
        ("sqlite", "mysql"),
    ),
    ("chosen-value oracle", "SELECT lag({c}, 1, 'seed') OVER (ORDER BY id) AS l FROM customers", "refused", ALL),
    ("chosen-value oracle", "SELECT substr({c}, 1, 1) AS s FROM customers", "masked", ALL),
    # 7. free text: transformations that would dodge detection, chosen values scanned as text
    ("free text", "SELECT lower(body) AS b FROM support_tickets", "masked", ALL),
    ("free text", "SELECT replace(body, ' ', '_') AS b FROM support_tickets", "masked", ALL),
    ("free text", "SELECT substr(body, 5, 40) AS b FROM support_tickets", "masked", ALL),
    ("free text", "SELECT body FROM support_tickets UNION ALL SELECT 'chosen.person@example.org'", "refused", ALL),
    ("free text", "SELECT coalesce(body, 'chosen.person@example.org') AS b FROM support_tickets", "refused", ALL),
    ("free text", "SELECT subject FROM support_tickets UNION ALL SELECT name FROM products", "refused", ALL),
    ("free text", "SELECT hex(body) AS h FROM support_tickets", "masked", ("sqlite", "mysql")),
    ("free text", "SELECT encode(convert_to(body, 'UTF8'), 'base64') AS h FROM support_tickets", "masked", PG),
    ("free text", "SELECT reverse(body) AS r FROM support_tickets", "masked", ("postgres", "mysql")),
    ("free text", "SELECT body || ' 0' AS b FROM support_tickets", "masked", NOT_MYSQL),
    ("free text", "SELECT concat(body, '0') AS b FROM support_tickets", "masked", ("postgres", "mysql")),
    # tokens in EXPLAIN plans are redacted: a plan echoes the query's literals
    ("chosen-value oracle", "EXPLAIN SELECT id FROM customers WHERE email = 'chosen.person@example.org'", "masked", PG),
    (
        "chosen-value oracle",
        "EXPLAIN QUERY PLAN SELECT id FROM customers WHERE email = 'chosen.person@example.org'",
        "masked",
        ("sqlite",),
    ),
    # found by a black-box red team: JOIN ... USING and NATURAL JOIN against built domains, FULL JOIN merges
    (
        "enumerating join",
        "WITH z({c}) AS (SELECT '10001' UNION ALL SELECT '2000') SELECT z.{c}, c.id FROM customers c JOIN z USING ({c})",
        "refused",
        ALL,
    ),
    (
        "enumerating join",
        "WITH z({c}) AS (SELECT '10001' UNION ALL SELECT '2000') SELECT c.id FROM customers c NATURAL JOIN z",
        "refused",
        ALL,
    ),
    (
        "enumerating join",
        "WITH z({c}, k) AS (SELECT '5', 1 UNION ALL SELECT '0', 2) SELECT {c}, k, id FROM customers c FULL JOIN z USING ({c}) WHERE k IS NOT NULL",
        "refused",
        PG,
    ),
    (
        "enumerating join",
        "WITH d(x) AS (SELECT 0 UNION ALL SELECT 1 UNION ALL SELECT 2), z({c}) AS (SELECT a.x * 10 + b.x FROM d a CROSS JOIN d b) SELECT c.id, z.{c} FROM customers c JOIN z USING ({c})",
        "refused",
        ALL,
    ),
    # free text read out a character at a time through functions in decisions
    ("free text", "SELECT id FROM support_tickets WHERE instr(body, 'SSN 4') > 0", "refused", ("sqlite", "mysql")),
    (
        "free text",
        "SELECT id, (SELECT count(*) FROM customers k WHERE k.id < unicode(substr(t.body, 21, 1))) AS c FROM support_tickets t",
        "refused",
        ("sqlite",),
    ),
    ("free text", "SELECT count(*) FROM support_tickets WHERE (ascii(substr(body, 3, 1)) & 4) > 0", "refused", ALL),
    ("free text", "SELECT id FROM support_tickets WHERE length(body) > 200", "masked", ALL),
    ("free text", "SELECT id FROM support_tickets WHERE length(trim(substr(body, 57, 1))) = 0", "refused", ALL),
    (
        "free text",
        "SELECT id FROM support_tickets WHERE length(replace(body, 'SSN 1', '')) < length(body)",
        "refused",
        ALL,
    ),
    ("free text", "SELECT id FROM support_tickets WHERE body > 'M'", "refused", ALL),
    ("free text", "SELECT id FROM support_tickets ORDER BY body", "refused", ALL),
    ("free text", "SELECT id FROM support_tickets WHERE body LIKE '%refund%'", "masked", ALL),
    # order leaks: an order the database chose, read through positions and assembled values
    (
        "order leak",
        "SELECT group_concat(mid) AS g FROM (SELECT min(id) AS mid FROM customers GROUP BY {c}) t",
        "masked",
        ("sqlite", "mysql"),
    ),
    (
        "order leak",
        "SELECT string_agg(id::text, ',') AS g FROM (SELECT DISTINCT ON ({c}) id FROM customers) t",
        "masked",
        PG,
    ),
    (
        "order leak",
        "SELECT n, row_number() OVER () AS r FROM (SELECT {c} AS n FROM customers GROUP BY {c}) g",
        "masked",
        ALL,
    ),
    # functions nobody allowed
    ("unknown function", "SELECT my_decrypt({c}) AS x FROM customers", "refused", ALL),
    ("unknown function", "SELECT id FROM customers WHERE levenshtein({c}, 'abc') < 3", "refused", PG),
]


def expand() -> list[Hostile]:
    out: list[Hostile] = []
    for cls, template, expect, dialects in TEMPLATES:
        columns = COLUMNS if any(mark in template for mark in ("{c}", "{o}", "{t}")) else [""]
        for column in columns:
            other = OTHER.get(column, "email" if column != "email" else "phone")
            sql = template.replace("{c}", column).replace("{o}", other)
            out.append(Hostile(cls, sql, expect, dialects, column or "email"))
    return out
