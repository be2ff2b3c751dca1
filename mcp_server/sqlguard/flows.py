"""Lineage values ("flows") and how expressions combine them.

A Flow says which base columns' values reach an expression, whether the expression can carry those
values ("value"), only a count-like fact about them ("count"), or is opaque ("unknown"), and whether
it is a direct, untransformed pass-through of its sources (needed for equality-only predicates).

Functions sqlglot does not model (exp.Anonymous) are "unknown" unless listed in BUILTIN_VALUE_FUNCTIONS:
a user-defined function may read other data, so its output is scanned as free text by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mcp_server.sqlguard.model import Kind, SourceColumn

# Built-ins sqlglot parses as exp.Anonymous whose output is made from their arguments only.
BUILTIN_VALUE_FUNCTIONS = frozenset(
    {
        "row",
        "json_build_object",
        "jsonb_build_object",
        "json_build_array",
        "jsonb_build_array",
        "to_json",
        "to_jsonb",
        "row_to_json",
        "array_to_json",
        "json_object_agg",
        "jsonb_object_agg",
        "jsonb_agg",
        "json_agg",
        "to_date",
        "date_part",
        "age",
        "octet_length",
        "printf",
        "quote",
        "json_array",
        "json_group_array",
        "json_group_object",
        "json_quote",
        "mid",
        "field",
        "date_format",
        "from_unixtime",
        "unix_timestamp",
        "strftime",
        "julianday",
        "datetime",
        "date",
        "time",
        "btrim",
        "jsonb_pretty",
        "json_typeof",
        "cardinality",
        "every",
        "bit_and",
        "now",
        "version",
        "json_valid",
        "json_length",
        "json_unquote",
        "json_contains",
        "json_search",
        "currval",
        "lastval",
        "translate",
    }
)

# Built-in table functions whose rows are made from their arguments only.
BUILTIN_TABLE_FUNCTIONS = frozenset(
    {
        "generate_series",
        "unnest",
        "json_each",
        "jsonb_each",
        "json_each_text",
        "jsonb_each_text",
        "json_tree",
        "json_array_elements",
        "jsonb_array_elements",
        "json_array_elements_text",
        "jsonb_array_elements_text",
        "json_to_record",
        "json_to_recordset",
        "jsonb_to_record",
        "jsonb_to_recordset",
        "regexp_matches",
        "regexp_split_to_table",
        "string_to_table",
        "explodinggenerateseries",
    }
)

# Table functions whose result columns are fixed, per dialect.
TABLE_FUNCTION_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {
    ("sqlite", "json_each"): ("key", "value", "type", "atom", "id", "parent", "fullkey", "path"),
    ("sqlite", "json_tree"): ("key", "value", "type", "atom", "id", "parent", "fullkey", "path"),
}


@dataclass(frozen=True)
class Flow:
    sources: frozenset[SourceColumn] = frozenset()
    kind: Kind = "value"
    direct: bool = True
    """True when the value is an untransformed pass-through of `sources` (or a constant)."""

    @property
    def constant(self) -> bool:
        return not self.sources and self.kind == "value"


CONSTANT = Flow()


def combine(flows: Iterable[Flow], *, direct: bool = False, kind: Kind | None = None) -> Flow:
    """The flow of an expression built from `flows`.

    direct=True keeps directness when every input is direct (pass-through merges: UNION branches,
    ambiguous column candidates). Kind: unknown wins; count when every non-constant input is a count.
    """
    items = list(flows)
    sources: frozenset[SourceColumn] = frozenset().union(*(f.sources for f in items))
    if kind is None:
        live = [f for f in items if not f.constant]
        if any(f.kind == "unknown" for f in items):
            kind = "unknown"
        elif live and all(f.kind == "count" for f in live):
            kind = "count"
        else:
            kind = "value"
    return Flow(sources, kind, direct and all(f.direct for f in items))


def opaque(flow: Flow, kind: Kind) -> Flow:
    """The same sources, seen through a transformation of the given kind."""
    return Flow(flow.sources, kind, False)
