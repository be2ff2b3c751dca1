"""Name resolution and lineage: FROM items become Sources, expressions become Flows.

Matching is case-insensitive and fail-closed: an unqualified name that could mean several columns means
all of them (and, where the caller allows, select-list aliases too); a name found nowhere is refused.
"""

from __future__ import annotations

from sqlglot import exp

from mcp_server.sqlguard.errors import SqlDenied, shown
from mcp_server.sqlguard.flows import (
    BUILTIN_TABLE_FUNCTIONS,
    BUILTIN_VALUE_FUNCTIONS,
    CONSTANT,
    TABLE_FUNCTION_COLUMNS,
    Flow,
    combine,
)
from mcp_server.sqlguard.model import Kind, SourceColumn
from mcp_server.sqlguard.schema import SchemaIndex
from mcp_server.sqlguard.scopes import Out, Scope, Source, is_query


def lineage_error(what: str) -> SqlDenied:
    return SqlDenied("unknown_lineage", what)


class Resolver:
    """Sources and flows; `query` (analysing a nested query) is provided by the Analyzer."""

    def __init__(self, schema: SchemaIndex, dialect: str) -> None:
        self.schema = schema
        self.dialect = dialect
        self.tables: set[str] = set()
        self._visited: dict[int, exp.Expr] = {}
        self._resolved: dict[int, exp.Expr] = {}
        self._source_of: dict[int, Source] = {}

    def query(self, node: exp.Expr, parent: Scope | None) -> list[Out]:
        raise NotImplementedError

    def _rename(self, outs: list[Out], alias: exp.Expr | None) -> list[Out]:
        columns = alias.args.get("columns") if isinstance(alias, exp.TableAlias) else None
        if not columns:
            return outs
        if len(columns) > len(outs):
            raise lineage_error("the column alias list is longer than the columns of the query")
        renamed = [out.renamed(ident, self._ident_name(ident)) for out, ident in zip(outs, columns, strict=False)]
        return renamed + outs[len(columns) :]

    def _ident_name(self, ident: exp.Expr) -> str:
        """The name the database reports for an identifier (PostgreSQL folds unquoted ones)."""
        name = ident.name
        quoted = isinstance(ident, exp.Identifier) and ident.quoted
        return name.lower() if self.dialect == "postgres" and not quoted else name

    # ------------------------------------------------------------ FROM items

    def _add_source(self, node: exp.Expr, scope: Scope) -> None:
        if isinstance(node, exp.Table):
            self._table_source(node, scope)
        elif isinstance(node, exp.Subquery) and isinstance(node.this, exp.Table) and not node.alias:
            self._add_source(node.this, scope)  # parenthesised join group: its names stay visible
        elif isinstance(node, exp.Subquery) and is_query(node.this):
            outs = self._rename(self.query(node, scope), node.args.get("alias"))
            self._register(node, scope, self._derived(node.args.get("alias"), outs))
        elif isinstance(node, exp.Lateral) and isinstance(node.this, exp.Subquery) and is_query(node.this):
            outs = self._rename(self.query(node.this, scope), node.args.get("alias"))
            self._register(node, scope, self._derived(node.args.get("alias"), outs))
        elif isinstance(node, exp.Lateral) and isinstance(node.this, exp.Func):
            self._register(node, scope, self._function_source(node.this, node.args.get("alias"), scope))
        elif isinstance(node, exp.Values):
            outs = self.query(node, scope)
            self._register(node, scope, self._derived(node.args.get("alias"), outs))
        elif isinstance(node, exp.Unnest):
            self._register(node, scope, self._function_source(node, node.args.get("alias"), scope))
        else:
            raise lineage_error(f"unsupported FROM item ({type(node).__name__})")

    def _register(self, node: exp.Expr, scope: Scope, source: Source) -> None:
        self._source_of[id(node)] = source
        scope.sources.append(source)

    @staticmethod
    def _derived(alias: exp.Expr | None, outs: list[Out]) -> Source:
        ident = alias.this if isinstance(alias, exp.TableAlias) else None
        ref = ident if isinstance(ident, exp.Identifier) else None
        return Source(ref.name.lower() if ref else None, ref, "derived", outs, CONSTANT)

    def _table_source(self, node: exp.Table, scope: Scope) -> None:
        self._visited[id(node)] = node
        alias = node.args.get("alias")
        alias_ident = alias.this if isinstance(alias, exp.TableAlias) else None
        if isinstance(node.this, (exp.Func, exp.Dot)):
            func = node.this if isinstance(node.this, exp.Func) else node.this.expression
            if not isinstance(func, exp.Func):
                raise lineage_error("unsupported table function call")
            self._register(node, scope, self._function_source(func, alias, scope))
        else:
            name_ident = node.this
            ref = alias_ident if isinstance(alias_ident, exp.Identifier) else name_ident
            if not isinstance(ref, exp.Identifier):
                raise lineage_error("unsupported table reference")
            key = ref.name.lower()
            qualified = node.args.get("db") is not None or node.args.get("catalog") is not None
            cte = None if qualified else scope.cte(node.name.lower())
            if cte is not None:
                source = Source(key, ref, "derived", self._rename(cte, alias), CONSTANT)
            elif self.dialect == "mysql" and not qualified and node.name.lower() == "dual":
                source = Source(key, ref, "table", [], CONSTANT)
            else:
                table = self.schema.table(node)
                self.tables.add(table)
                outs = [
                    Out.make(c, Flow(frozenset({SourceColumn(table, c)})), ident=exp.to_identifier(c, quoted=True))
                    for c in self.schema.columns[table]
                ]
                source = Source(key, ref, "table", self._rename(outs, alias), CONSTANT, table)
            self._register(node, scope, source)
        for join in node.args.get("joins") or []:
            self._add_source(join.this, scope)

    def _function_source(self, func: exp.Expr, alias: exp.Expr | None, scope: Scope) -> Source:
        name = func.name.lower() if isinstance(func, exp.Anonymous) else func.key.lower()
        inputs = combine(self.flow(arg, scope, False) for arg in func.iter_expressions())
        kind: Kind = "value" if name in BUILTIN_TABLE_FUNCTIONS and inputs.kind != "unknown" else "unknown"
        flow = Flow(inputs.sources, kind, False)
        alias_ident = alias.this if isinstance(alias, exp.TableAlias) else None
        ref = alias_ident if isinstance(alias_ident, exp.Identifier) else exp.to_identifier(name)
        listed = alias.args.get("columns") if isinstance(alias, exp.TableAlias) else None
        columns: list[Out] | None = None
        if listed:
            idents = [i if isinstance(i, exp.Identifier) else exp.to_identifier(i.name) for i in listed]
            columns = [Out.make(self._ident_name(i), flow, ident=i) for i in idents]
        elif (self.dialect, name) in TABLE_FUNCTION_COLUMNS:
            columns = [
                Out.make(c, flow, ident=exp.to_identifier(c)) for c in TABLE_FUNCTION_COLUMNS[(self.dialect, name)]
            ]
        return Source(ref.name.lower(), ref, "function", columns, flow)

    # ------------------------------------------------------------ expressions

    def flow(self, node: exp.Expr, scope: Scope, aliases: bool) -> Flow:
        """Lineage of an expression evaluated in `scope` (aliases: select-list names are candidates)."""
        if isinstance(node, exp.Column):
            return self.column_flow(node, scope, aliases)
        if is_query(node):
            return combine([o.flow for o in self.query(node, scope)], direct=True)
        if isinstance(node, exp.Exists):
            if is_query(node.this):
                self.query(node.this, scope)
            return Flow(kind="count", direct=False)
        if isinstance(node, exp.Order) and node.this is None:
            # WITHIN GROUP (ORDER BY x): the ordered values are the aggregate's input (mode(), percentile)
            return combine(self.flow(o, scope, aliases) for o in node.expressions)
        if isinstance(node, (exp.Paren, exp.Alias, exp.Collate, exp.Window, exp.Filter, exp.Order)):
            # window / aggregate ORDER BY keys and FILTER conditions are checked as clauses
            return self.flow(node.this, scope, aliases)
        if isinstance(node, exp.Count):
            return self._count(node, scope, aliases)
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            inner = self.flow(node.this, scope, aliases)
            if inner.direct or inner.kind == "count":
                return Flow(inner.sources, "count", False)
            return combine([inner])
        children = combine(self.flow(child, scope, aliases) for child in node.iter_expressions())
        if isinstance(node, exp.Anonymous) and node.name.lower() not in BUILTIN_VALUE_FUNCTIONS:
            return Flow(children.sources, "unknown", False)
        return children

    def _count(self, node: exp.Count, scope: Scope, aliases: bool) -> Flow:
        args: list[exp.Expr] = []
        for child in node.iter_expressions():
            if isinstance(child, exp.Distinct):
                args.extend(child.expressions)
            elif not isinstance(child, exp.Star):
                args.append(child)
        flows = [self.flow(arg, scope, aliases) for arg in args]
        if all(f.direct or f.constant or f.kind == "count" for f in flows):
            return Flow(frozenset().union(*(f.sources for f in flows)), "count", False)
        return combine(flows)

    def column_flow(self, column: exp.Column, scope: Scope, aliases: bool) -> Flow:
        self._resolved[id(column)] = column
        if isinstance(column.this, exp.Star):
            source = scope.find_source(column.table.lower())
            if source is None:
                raise SqlDenied("unknown_column", f"{shown(column.table)}.* does not name a table of this query")
            return source.whole_row()
        key = column.name.lower()
        if column.table:
            source = scope.find_source(column.table.lower())
            if source is None:
                raise SqlDenied(
                    "unknown_column",
                    f"unknown column {shown(column.table, column.name)}: no table or alias {shown(column.table)}",
                )
            if source.columns is None:
                return source.fallback
            outs = source.lookup(key)
            if not outs:
                raise self._unknown_column(shown(column.table, column.name), [source])
            return combine([o.flow for o in outs], direct=True)
        pending: list[Flow] = []
        for level in scope.chain():
            known = [o.flow for source in level.sources for o in source.lookup(key)]
            if aliases and level is scope:
                known += [p.flow for p in level.projections if key in p.keys]
            if known:
                return combine(pending + known, direct=True)
            pending += [s.fallback for s in level.sources if s.columns is None]
        if pending:
            return combine(pending, direct=True)
        source = scope.find_source(key)
        if source is not None:
            return source.whole_row()  # PostgreSQL whole-row reference, e.g. row_to_json(c)
        raise self._unknown_column(shown(column.name), scope.sources)

    @staticmethod
    def _unknown_column(name: str, sources: list[Source]) -> SqlDenied:
        hints = [
            f"{s.table}({', '.join(c.name for c in (s.columns or [])[:30])})" for s in sources if s.table is not None
        ]
        hint = f"; columns: {'; '.join(hints)}" if hints else ""
        return SqlDenied("unknown_column", f"unknown column {name}{hint}")
