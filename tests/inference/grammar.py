"""Random SQL over the non-interference world, from a grammar that covers what the guard may accept.

Joins (on keys, on protected columns, on generated domains), CTEs (recursive ones too), subqueries in every
clause, set operations, aggregates with FILTER and CASE, windows, the allowed functions, LIMIT/OFFSET with
constants and with subqueries, literals and tokens of the data's values, in each engine's syntax. Many of the
queries are refused; the test counts them.

When a query orders its rows, the order ends with a unique key, so the comparison can be exact; without ORDER
BY, results are compared as multisets (Maskwire's own order for them is a function of what it shows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hypothesis import strategies as st

TEXT_P = ["name", "email", "ssn", "birth_date", "phone"]
CLEAR_P_TEXT = ["city", "status"]
NUM_P = ["id", "score"]
NUM_O = ["id", "person_id", "amount"]
PROTECTED_NAMES = {*TEXT_P, "contact_email"}
ORDER_COLUMNS = {None: ["contact_email", "placed", *NUM_O], True: NUM_O, False: ["contact_email"]}


@dataclass(frozen=True)
class Query:
    sql: str
    """With ⟦L:value⟧ (a compared literal) and ⟦T:token⟧ markers: see `World.render`."""
    ordered: bool
    """The rows' order is fully determined (ORDER BY ending in a unique key)."""


class Grammar:
    def __init__(self, dialect: str, literals: dict[str, list[str]], tokens: list[str]) -> None:
        self.dialect = dialect
        self.literals = literals
        self.tokens = tokens

    # ------------------------------------------------------------ leaves

    def concat(self, a: str, b: str) -> str:
        return f"CONCAT({a}, {b})" if self.dialect == "mysql" else f"({a} || {b})"

    def text_cast(self, a: str) -> str:
        return f"CAST({a} AS CHAR)" if self.dialect == "mysql" else f"CAST({a} AS TEXT)"

    def agg_concat(self, a: str) -> str:
        return f"string_agg({a}, ',')" if self.dialect == "postgres" else f"group_concat({a})"

    def string_literal(self, draw: st.DrawFn, compared: bool = True) -> str:
        """A string literal; `compared` ones (the other side of a comparison) are renamed in f(q), others (values
        the query outputs or builds tables from) stay what the agent wrote."""
        entity = draw(st.sampled_from(sorted(self.literals)))
        kind = draw(st.integers(0, 9))
        if kind < 6:
            value = draw(st.sampled_from(self.literals[entity]))
        elif kind < 8:
            value = draw(st.sampled_from(["a", "1", "-", "@", "Lyon", "active", "x@y.com", "1990-01-01"]))
        else:
            value = draw(st.sampled_from(self.literals[entity]))[: draw(st.integers(1, 4))]
        return f"⟦L:{value}⟧" if compared else "'" + value.replace("'", "''") + "'"

    def partner(self, draw: st.DrawFn, column: str) -> str:
        """A literal compared with `column`: renamed in f(q) only when the column is protected (the agent names a
        value of the data); against a clear column it is just text the agent wrote."""
        bare = re.fullmatch(r"\w+\.(\w+)", column)
        return self.string_literal(draw, compared=bare is not None and bare.group(1) in PROTECTED_NAMES)

    def token(self, draw: st.DrawFn) -> str:
        return f"⟦T:{draw(st.sampled_from(self.tokens))}⟧"

    def column(self, draw: st.DrawFn, alias: str = "p", numeric: bool | None = None) -> str:
        if alias.startswith("o"):  # orders
            return f"{alias}.{draw(st.sampled_from(ORDER_COLUMNS[numeric]))}"
        if numeric:
            return f"{alias}.{draw(st.sampled_from(NUM_P))}"
        pool = TEXT_P + CLEAR_P_TEXT + ([] if numeric is False else NUM_P)
        return f"{alias}.{draw(st.sampled_from(pool))}"

    # ------------------------------------------------------------ expressions

    def value(self, draw: st.DrawFn, alias: str, depth: int) -> str:
        choice = draw(st.integers(0, 13 if depth > 0 else 3))
        if choice <= 2:
            return self.column(draw, alias)
        if choice == 3:
            return (
                draw(st.sampled_from(["1", "NULL", "'k'"])) if draw(st.booleans()) else self.string_literal(draw, False)
            )
        inner = self.value(draw, alias, depth - 1)
        # Computing on a protected column is refused outright; half the computations take a clear column, so
        # enough queries run to compare their answers.
        text = self.column(draw, alias, numeric=False)
        if not alias.startswith("o") and draw(st.booleans()):
            text = f"{alias}.{draw(st.sampled_from(CLEAR_P_TEXT))}"
        number = self.column(draw, alias, numeric=True)
        options = [
            f"upper({text})",
            f"lower({text})",
            f"length({text})",
            f"substr({text}, {draw(st.integers(1, 4))}, {draw(st.integers(1, 3))})",
            f"replace({text}, 'a', 'b')",
            f"trim({text})",
            f"coalesce({text}, {inner})",
            f"coalesce({text}, {self.column(draw, alias, numeric=False)})",
            f"nullif({text}, {self.partner(draw, text)})",
            self.concat(text, draw(st.sampled_from(["'!'", self.column(draw, alias, numeric=False)]))),
            self.text_cast(number),
            f"({number} + {draw(st.integers(0, 9))})",
            f"({number} * 2)",
            f"(100 / ({number} + 1))",
            f"abs({number} - 5)",
            f"round({number} / 3.0, 1)",
            f"CASE WHEN {self.condition(draw, alias, depth - 1)} THEN {inner} ELSE {self.value(draw, alias, 0)} END",
            f"CASE {text} WHEN {self.partner(draw, text)} THEN 'hit' ELSE 'miss' END",
            f"CASE WHEN {self.condition(draw, alias, depth - 1)} THEN 1 ELSE 0 END",
            f"CASE WHEN {self.condition(draw, alias, 0)} THEN {self.column(draw, alias, numeric=True)} END",
            f"({self.condition(draw, alias, 0)})",
            f"(SELECT count(*) FROM orders o2 WHERE o2.person_id = {alias}.id)",
            f"(SELECT max(o2.contact_email) FROM orders o2 WHERE o2.person_id = {alias}.id)",
            f"(SELECT p3.{draw(st.sampled_from(TEXT_P))} FROM people p3 WHERE p3.id = {alias}.id)",
        ]
        if self.dialect == "postgres":
            options += [f"md5({text})", f"encode(convert_to({text}, 'UTF8'), 'hex')", f"left({text}, 2)"]
            options += [f"split_part({text}, '@', 2)", f"reverse({text})"]
        elif self.dialect == "sqlite":
            options += [f"hex({text})", f"instr({text}, 'a')", f"unicode({text})"]
        else:
            options += [f"hex({text})", f"md5({text})", f"left({text}, 2)", f"ascii({text})"]
        return draw(st.sampled_from(options))

    def condition(self, draw: st.DrawFn, alias: str, depth: int) -> str:
        choice = draw(st.integers(0, 12 if depth > 0 else 7))
        text = self.column(draw, alias, numeric=False)
        number = self.column(draw, alias, numeric=True)
        if choice == 0:
            return f"{text} = {self.partner(draw, text)}"
        if choice == 1:
            return f"{text} IN ({self.partner(draw, text)}, {self.partner(draw, text)})"
        if choice == 2:
            return f"{text} = {self.token(draw)}"
        if choice == 3:
            return f"{number} {draw(st.sampled_from(['=', '<', '>', '<>']))} {draw(st.integers(0, 9))}"
        if choice == 4:
            return f"{text} IS {draw(st.sampled_from(['NULL', 'NOT NULL']))}"
        if choice == 5:
            op = draw(st.sampled_from(["LIKE", ">", "<", "<>"]))
            pattern = "'%a%'" if op == "LIKE" else self.partner(draw, text)
            return f"{text} {op} {pattern}"
        if choice == 6:
            left = self.value(draw, alias, 0)  # a bare protected column gets a renamed literal, anything else not
            return f"{left} = {self.partner(draw, left)}"
        if choice == 7:
            return f"{alias}.city IN ('Lyon', 'Porto')"
        if choice == 8:
            sub = draw(st.sampled_from(["o2.contact_email", "o2.amount", "o2.person_id"]))
            cmp = f"{alias}.email" if "email" in sub else f"{alias}.id"
            return f"{cmp} IN (SELECT {sub} FROM orders o2 WHERE {self.condition(draw, 'o2', 0)})"
        if choice == 9:
            return (
                f"EXISTS (SELECT 1 FROM orders o2 WHERE o2.person_id = {alias}.id AND {self.condition(draw, 'o2', 0)})"
            )
        if choice == 10:
            return f"NOT ({self.condition(draw, alias, depth - 1)})"
        joiner = draw(st.sampled_from(["AND", "OR"]))
        return f"({self.condition(draw, alias, depth - 1)} {joiner} {self.condition(draw, alias, depth - 1)})"

    # ------------------------------------------------------------ FROM

    def domain(self, draw: st.DrawFn) -> str:
        """A table the query builds itself: literals, a series, a recursive CTE (used as `g(v)`)."""
        values = [self.string_literal(draw, False) for _ in range(draw(st.integers(1, 3)))]
        union = " UNION ALL ".join(f"SELECT {v} AS v" for v in values)
        options = [f"({union}) g", "(SELECT DISTINCT placed AS v FROM orders) g"]
        if self.dialect == "postgres":
            options.append(
                "(SELECT d::date::text AS v FROM generate_series('1990-01-01'::date, '1995-01-01', '1 day') d) g"
            )
        return draw(st.sampled_from(options))

    def from_clause(self, draw: st.DrawFn) -> tuple[str, list[str]]:
        choice = draw(st.integers(0, 6))
        if choice <= 2:
            return "people p", ["p"]
        if choice == 3:
            on = draw(st.sampled_from(["o.person_id = p.id", "o.contact_email = p.email", "o.contact_email = p.name"]))
            kind = draw(st.sampled_from(["JOIN", "LEFT JOIN"]))
            return f"people p {kind} orders o ON {on}", ["p", "o"]
        if choice == 4:
            column = draw(st.sampled_from(["p.birth_date", "p.email", "p.city", "p.name"]))
            return f"people p JOIN {self.domain(draw)} ON g.v = {column}", ["p"]
        if choice == 5 and draw(st.booleans()):
            column = draw(st.sampled_from(["email", "city", "name"]))
            values = " UNION ALL ".join(f"SELECT {self.string_literal(draw, False)} AS {column}" for _ in range(2))
            kind = draw(st.sampled_from(["JOIN", "LEFT JOIN", "NATURAL JOIN"]))
            using = "" if kind == "NATURAL JOIN" else f" USING ({column})"
            return f"people p {kind} ({values}) u{using}", ["p"]
        if choice == 5:
            inner = self.condition(draw, "p0", 1)
            return f"(SELECT * FROM people p0 WHERE {inner}) p", ["p"]
        return "people p CROSS JOIN (SELECT count(*) AS n FROM orders) k", ["p"]

    # ------------------------------------------------------------ queries

    def select(self, draw: st.DrawFn) -> Query:
        source, aliases = self.from_clause(draw)
        alias = aliases[0]
        grouped = draw(st.integers(0, 3)) == 0
        where = f" WHERE {self.condition(draw, alias, 2)}" if draw(st.booleans()) else ""
        if grouped:
            key = draw(st.sampled_from([f"{alias}.city", f"{alias}.status", f"{alias}.email", f"{alias}.name"]))
            aggregates = [
                "count(*)",
                f"count(DISTINCT {alias}.email)",
                f"max({alias}.{draw(st.sampled_from(TEXT_P))})",
                f"sum({alias}.score)",
                self.agg_concat(f"{alias}.{draw(st.sampled_from(TEXT_P + CLEAR_P_TEXT))}"),
                f"count(CASE WHEN {self.condition(draw, alias, 0)} THEN 1 END)",
                f"sum(CASE WHEN {self.condition(draw, alias, 1)} THEN 1 ELSE 0 END)",
            ]
            if self.dialect != "mysql":
                aggregates.append(f"count(*) FILTER (WHERE {self.condition(draw, alias, 0)})")
            items = [key, draw(st.sampled_from(aggregates)), draw(st.sampled_from(aggregates))]
            having = f" HAVING count(*) > {draw(st.integers(0, 2))}" if draw(st.booleans()) else ""
            order = " ORDER BY 1" if draw(st.booleans()) and key.endswith(("city", "status")) else ""
            if not order and draw(st.integers(0, 4)) == 0:
                # grouped by a protected column, Maskwire keeps the first rows of its canonical (token) order, which
                # is a function of what it shows but not invariant under renaming: no LIMIT there
                order = f" LIMIT {draw(st.integers(1, 3))}" if key.endswith(("city", "status")) else ""
            sql = f"SELECT {', '.join(items)} FROM {source}{where} GROUP BY {key}{having}{order}"
            return Query(sql, False)
        items = [self.value(draw, alias, 2) for _ in range(draw(st.integers(1, 3)))]
        if "o" in aliases and draw(st.booleans()):
            items.append(self.column(draw, "o"))
        if draw(st.integers(0, 4)) == 0:
            window = draw(
                st.sampled_from(["row_number()", "count(*)", f"lag({alias}.email)", f"first_value({alias}.name)"])
            )
            part = draw(st.sampled_from(["", f"PARTITION BY {alias}.city ", f"PARTITION BY {alias}.email "]))
            # a total window order (ties would be the database's choice: a residual docs/security.md lists)
            order = f"{alias}.id, o.id" if "o" in aliases else f"{alias}.id"
            if draw(st.integers(0, 3)) == 0:  # no window order at all: positions in the database's order
                items.append(f"{window} OVER ({part.strip()})")
            else:
                items.append(f"{window} OVER ({part}ORDER BY {order})")
        distinct = "DISTINCT " if draw(st.integers(0, 5)) == 0 else ""
        sql = f"SELECT {distinct}{', '.join(items)} FROM {source}{where}"
        ordered = False
        if draw(st.booleans()) and not distinct:
            keys = draw(st.sampled_from([[], [f"{alias}.city"], [f"{alias}.score"], [f"{alias}.email"]]))
            sql += " ORDER BY " + ", ".join([*keys, f"{alias}.id"])
            ordered = True
            if draw(st.booleans()):
                amount = draw(st.sampled_from(["3", "5", "(SELECT count(*) FROM people p9 WHERE p9.email = 'x')"]))
                sql += f" LIMIT {amount}"
                if draw(st.booleans()):
                    sql += f" OFFSET {draw(st.integers(0, 4))}"
        return Query(sql, ordered and "o" not in aliases)

    def query(self, draw: st.DrawFn) -> Query:
        choice = draw(st.integers(0, 9))
        if choice <= 6:
            return self.select(draw)
        if choice == 7:
            cte = f"WITH c AS (SELECT id, email, name, city FROM people WHERE {self.condition(draw, 'people', 1)})"
            item = draw(st.sampled_from(["c.email", "c.city", "count(*)", "c.name"]))
            rest = draw(st.sampled_from(["", " WHERE c.email = " + self.token(draw), " WHERE c.city = 'Lyon'"]))
            return Query(f"{cte} SELECT {item} FROM c{rest}" + (" GROUP BY c.city" if "count" in item else ""), False)
        if choice == 8:
            recursive = (
                "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5)"
                f" SELECT r.n, p.{draw(st.sampled_from(TEXT_P + CLEAR_P_TEXT))} FROM r JOIN people p ON"
                f" {draw(st.sampled_from(['p.id = r.n', 'p.score = r.n', 'length(p.email) = r.n', 'p.name = r.n']))}"
            )
            return Query(recursive, False)
        left = f"SELECT {self.column(draw, 'p', numeric=False)} FROM people p WHERE {self.condition(draw, 'p', 1)}"
        right_choice = draw(st.integers(0, 2))
        if right_choice == 0:
            right = f"SELECT {self.column(draw, 'p', numeric=False)} FROM people p"
        elif right_choice == 1:
            right = f"SELECT {self.string_literal(draw, False)}"
        else:
            right = "SELECT o.contact_email FROM orders o"
        operation = draw(st.sampled_from(["UNION", "UNION ALL", "INTERSECT", "EXCEPT"]))
        return Query(f"{left} {operation} {right}", False)


def queries(grammar: Grammar) -> st.SearchStrategy[Query]:
    return st.composite(lambda draw: grammar.query(draw))()
