"""Case-insensitive lookup of tables and columns in the caller's schema mapping.

An index is built once per schema snapshot (`SqlCatalog.schema_index`): every check and every stored SQL of a
call looks names up in it, and building it walks every column of the schema (a few milliseconds at hundreds of
tables)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property

from sqlglot import exp

from mcp_server.sqlguard.errors import SqlDenied, shown

SYSTEM_SCHEMAS = frozenset(
    {"information_schema", "pg_catalog", "pg_toast", "pg_temp", "mysql", "performance_schema", "sys", "temp"}
)


def _pick(candidates: list[str], wanted: str) -> str | None:
    """Exact spelling first, else the only case-insensitive match."""
    if wanted in candidates:
        return wanted
    return candidates[0] if len(candidates) == 1 else None


class SchemaIndex:
    def __init__(self, schema: Mapping[str, Sequence[str]]) -> None:
        self.tables = list(schema)
        self.columns: dict[str, list[str]] = {t: list(schema[t]) for t in schema}
        self._by_name: dict[str, list[str]] = {}
        self._by_last: dict[str, list[str]] = {}
        self._column_index: dict[str, dict[str, list[str]]] = {}
        for table, cols in self.columns.items():
            self._by_name.setdefault(table.lower(), []).append(table)
            self._by_last.setdefault(table.rsplit(".", 1)[-1].lower(), []).append(table)
            index: dict[str, list[str]] = {}
            for col in cols:
                index.setdefault(col.lower(), []).append(col)
            self._column_index[table] = index

    def table(self, node: exp.Table) -> str:
        """Canonical name of a base table reference, or SqlDenied("unknown_table")."""
        name = node.name
        qualifiers = [q for q in (node.args.get("catalog"), node.args.get("db")) if q is not None]
        parts = [q.name for q in qualifiers]
        if any(p.lower() in SYSTEM_SCHEMAS for p in parts):
            raise self._unknown(shown(*parts, name))
        found = None
        if parts:
            full = ".".join([*parts, name])
            found = _pick(self._by_name.get(full.lower(), []), full)
        if found is None:
            found = _pick(self._by_name.get(name.lower(), []), name)
        if found is None:
            found = _pick(self._by_last.get(name.lower(), []), name)
        if found is None:
            raise self._unknown(shown(*parts, name))
        return found

    def column(self, table: str, column: str) -> str | None:
        return _pick(self._column_index[table].get(column.lower(), []), column)

    @cached_property
    def names(self) -> frozenset[str]:
        """Every table name, part of a qualified table name and column name, case-folded."""
        names: set[str] = set()
        for table, cols in self.columns.items():
            names.add(table.casefold())
            names.update(part.casefold() for part in table.split("."))
            names.update(c.casefold() for c in cols)
        return frozenset(names)

    @cached_property
    def _owners(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        found: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for table, cols in self.columns.items():
            last = table.casefold().rsplit(".", 1)[-1]
            for col in cols:
                found.setdefault((last, col.casefold()), []).append((table, col))
        return found

    def owners(self, tables: set[str], column: str) -> list[tuple[str, str]]:
        """(table, column) of the tables named (case-folded, unqualified) that have a column `column` (case-folded)."""
        return [owner for table in tables for owner in self._owners.get((table, column), [])]

    def _unknown(self, name: str) -> SqlDenied:
        known = ", ".join(self.tables[:20]) + (", ..." if len(self.tables) > 20 else "")
        return SqlDenied("unknown_table", f"unknown table {name}; known tables: {known or '(none)'}")
