"""Result types of the SQL guard."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

from mcp_server.sqlguard.parsing import quiet_sqlglot
from mcp_server.vocabulary import ColumnKind
from mcp_server.vocabulary import PredicateMode as PredicateMode  # re-exported: the query path imports it here

Paramstyle = Literal["named", "pyformat"]
Kind = Literal["value", "count", "unknown"]
Schema = Mapping[str, Sequence[str]]
"""Table name -> column names, in table order."""


@dataclass(frozen=True, order=True)
class SourceColumn:
    table: str
    """Canonical table name exactly as given in the schema mapping."""
    column: str
    """Canonical column name exactly as given in the schema mapping."""


@dataclass(frozen=True)
class ColumnPolicy:
    """What the guard needs to know of a base column: how it is masked and which comparisons it allows."""

    protection: ColumnKind = "clear"
    """pii: masked whole; text: free text, scanned; clear: returned as it is."""
    entity: str | None = None
    """Entity type of a pii column (tokens of this type may be compared with it)."""
    predicates: PredicateMode = "any"

    @property
    def restricted(self) -> bool:
        """Its values may decide nothing visible except through the comparisons its policy allows."""
        return self.predicates != "any"

    @property
    def entity_type(self) -> str:
        return self.entity or "PII"


CLEAR = ColumnPolicy()


@dataclass(frozen=True)
class OutputColumn:
    name: str
    """Output column name as the database reports it (alias, or column name)."""
    sources: frozenset[SourceColumn]
    """Every base column whose value flows into this output."""
    kind: Kind
    """value: carries (transformed) values of `sources`; count: carries none of their values;
    unknown: lineage could not be determined, scan the values as free text."""
    direct: bool = True
    """The values are untransformed values of `sources` (a stable token may stand for them); False for
    anything computed from them (a substring, a hash, an aggregate), which is masked without one."""


@dataclass
class CheckedQuery:
    expression: exp.Expression
    """The checked tree (for EXPLAIN: the explained statement), tokens replaced by placeholders."""
    params: dict[str, str]
    """Placeholder name -> resolved raw value."""
    columns: list[OutputColumn]
    """In output order, matching the database's result columns."""
    tables: frozenset[str]
    """Base tables read (canonical names)."""
    dialect: str
    explain_prefix: str | None = None
    """Normalised `EXPLAIN ...` prefix built from validated options, or None."""
    ordered: bool = False
    """The statement orders its result (a top-level ORDER BY): the rows keep the database's order."""
    value_ordered: bool = False
    """The database may return the rows in the order of restricted values (it groups by one), ties of any ORDER BY
    included: the caller must fetch them all and page through an order of its own (`sort_keys`, then canonical)."""
    sort_keys: tuple[tuple[int, bool], ...] = ()
    row_window: tuple[int, int | None] = (0, None)
    """For value_ordered queries: the top-level OFFSET and LIMIT, taken out of the SQL for the caller to apply."""
    """For value_ordered queries: the top-level ORDER BY as (result column, descending), applied by the caller."""
    membership_tests: int = 0
    """Comparisons of protected columns with literal values or tokens (the oracle that remains by design)."""

    def render(self, paramstyle: Paramstyle) -> str:
        """The SQL to run, regenerated from the checked tree (comments dropped).

        named: placeholders as :mw0 (sqlite3). pyformat: placeholders as %(mw0)s and every other '%'
        doubled (psycopg 3, PyMySQL), with or without params: the connector always passes a mapping, so
        the driver always interprets '%'.
        """
        tree = self.expression.copy()
        nonce = secrets.token_hex(8)
        expected: dict[str, int] = {}
        for node in list(tree.find_all(exp.Placeholder)):
            name = node.name
            if name not in self.params:
                raise ValueError("the checked tree holds a placeholder without a parameter")
            expected[name] = expected.get(name, 0) + 1
            node.replace(exp.Var(this=f"mwph{nonce}{name}x"))
        with quiet_sqlglot():
            sql = tree.sql(dialect=self.dialect, comments=False, copy=False)  # `tree` is this call's own copy
        if self.explain_prefix:
            sql = f"{self.explain_prefix} {sql}"
        if paramstyle == "pyformat":
            sql = sql.replace("%", "%%")
        if not expected:
            return sql
        for name, count in expected.items():
            sentinel = f"mwph{nonce}{name}x"
            if sql.count(sentinel) != count:
                raise ValueError("placeholder rendering is ambiguous")
            sql = sql.replace(sentinel, f":{name}" if paramstyle == "named" else f"%({name})s")
        return sql
