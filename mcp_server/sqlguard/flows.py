"""Lineage values ("flows") and how expressions combine them.

A Flow says which base columns' values reach an expression, whether the expression can carry those
values ("value"), only a count-like fact about them ("count"), or is opaque ("unknown"), and whether
it is a direct, untransformed pass-through of its sources: only a direct value may get a stable token, and
only a direct value may take part in the equality comparisons a protected column's policy allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mcp_server.sqlguard.model import Kind, SourceColumn


@dataclass(frozen=True)
class Flow:
    sources: frozenset[SourceColumn] = frozenset()
    kind: Kind = "value"
    direct: bool = True
    """True when the value is an untransformed pass-through of `sources` (or a constant)."""
    null: bool = False
    """The SQL NULL literal: merging it into a column adds no value."""
    arbitrary: bool = False
    """Assembled or picked in an order the database chose (string_agg or first_value without ORDER BY): the
    order, and so the value, may follow any protected column the query reads (see guard.py)."""

    @property
    def constant(self) -> bool:
        return not self.sources and self.kind == "value"


CONSTANT = Flow()
NULL = Flow(null=True)


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
    null = bool(items) and all(f.null for f in items)
    arbitrary = any(f.arbitrary for f in items)
    return Flow(sources, kind, direct and all(f.direct for f in items), null, arbitrary)


def transformed(flow: Flow) -> Flow:
    """The same sources, seen through a computation: no longer a pass-through."""
    return Flow(flow.sources, flow.kind, False, arbitrary=flow.arbitrary)
