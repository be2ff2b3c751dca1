"""Name resolution structures: output columns of a query, FROM sources, and nested scopes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlglot import exp

from mcp_server.sqlguard.flows import Flow, combine


@dataclass(frozen=True)
class Out:
    """One output column of a query, CTE, derived table or table source."""

    name: str
    flow: Flow
    keys: frozenset[str]
    """Lower-case names it can be referenced by."""
    ident: exp.Identifier | None = None
    """How to write a reference to it (quoting as needed), when known."""

    @staticmethod
    def make(name: str, flow: Flow, *, ident: exp.Identifier | None = None, extra: tuple[str, ...] = ()) -> Out:
        return Out(name, flow, frozenset({name.lower(), *(e.lower() for e in extra)}), ident)

    def renamed(self, ident: exp.Identifier, name: str) -> Out:
        return Out(name, self.flow, frozenset({name.lower()}), ident)


SourceKind = Literal["table", "derived", "function"]


@dataclass
class Source:
    """A FROM item as seen by column references."""

    key: str | None
    """Lower-case exposed name (alias, or table name); None for an unaliased derived table."""
    ref: exp.Identifier | None
    """Identifier to qualify its columns with in rewritten SQL."""
    kind: SourceKind
    columns: list[Out] | None
    """None when the columns are not known (table functions without a column list)."""
    fallback: Flow
    """Flow of any column when `columns` is None."""
    table: str | None = None
    """Canonical base table name."""

    def lookup(self, key: str) -> list[Out]:
        if self.columns is None:
            return []
        return [c for c in self.columns if key in c.keys]

    def whole_row(self) -> Flow:
        if self.columns is None:
            return self.fallback
        return combine([c.flow for c in self.columns])


@dataclass
class Scope:
    parent: Scope | None
    sources: list[Source] = field(default_factory=list)
    ctes: dict[str, list[Out]] = field(default_factory=dict)
    projections: list[Out] = field(default_factory=list)

    def chain(self) -> list[Scope]:
        scopes: list[Scope] = []
        scope: Scope | None = self
        while scope is not None:
            scopes.append(scope)
            scope = scope.parent
        return scopes

    def cte(self, key: str) -> list[Out] | None:
        for scope in self.chain():
            if key in scope.ctes:
                return scope.ctes[key]
        return None

    def local_source(self, key: str) -> Source | None:
        for source in self.sources:
            if source.key == key:
                return source
        return None

    def find_source(self, key: str) -> Source | None:
        for scope in self.chain():
            source = scope.local_source(key)
            if source is not None:
                return source
        return None


QUERY_TYPES = (exp.Select, exp.SetOperation, exp.Values)


def is_query(node: exp.Expr | None) -> bool:
    """A query node: SELECT, set operation, VALUES, or a parenthesised one of these."""
    if isinstance(node, QUERY_TYPES):
        return True
    return isinstance(node, exp.Subquery) and is_query(node.this)


_NOT_CONSTANT = (exp.Column, exp.Star, exp.Anonymous, exp.AggFunc, exp.Window, exp.Exists)


def is_constant(node: exp.Expr) -> bool:
    """No column, subquery, aggregate or unmodelled function anywhere under the node."""
    return not any(isinstance(n, _NOT_CONSTANT) or is_query(n) for n in node.walk())


def unwrap(node: exp.Expr) -> exp.Expr:
    """Strip parentheses and collations, which change neither values nor equality."""
    while isinstance(node, (exp.Paren, exp.Collate)):
        node = node.this
    return node
