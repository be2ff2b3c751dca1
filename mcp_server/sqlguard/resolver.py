"""Name resolution and lineage: FROM items become Sources, expressions become Flows.

Functions are checked against the allow-list (functions.py), and values that come out as one column are
merged only when their protection agrees (see `merge`).

Matching is case-insensitive and fail-closed: an unqualified name that could mean several columns means
all of them (and, where the caller allows, select-list aliases too); a name found nowhere is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from mcp_server.sqlguard.errors import SqlDenied, shown
from mcp_server.sqlguard.flows import CONSTANT, NULL, Flow, combine, transformed
from mcp_server.sqlguard.functions import TABLE_FUNCTION_COLUMNS, is_server_fact, rule_for, shown_name
from mcp_server.sqlguard.model import ColumnPolicy, SourceColumn
from mcp_server.sqlguard.schema import SchemaIndex
from mcp_server.sqlguard.scopes import Out, Scope, Source, is_constant, is_query

if TYPE_CHECKING:
    from mcp_server.sqlguard.predicates import PredicateChecker

CONDITION = "a condition (CASE WHEN, IF, a comparison in the select list)"
COMPUTED = (
    "a protected column comes back only as it is (masked), counted, grouped, or compared as its policy allows;"
    " computing on it could fail or run long depending on its values"
)
CONDITIONS = (exp.Predicate, exp.Connector, exp.Not)
CONSTANT_NODES = (
    exp.Literal,
    exp.Boolean,
    exp.Placeholder,
    exp.Var,
    exp.DataType,
    exp.Identifier,
    exp.Introducer,
    exp.National,
    exp.HexString,
    exp.ByteString,
    exp.BitString,
    exp.RawString,
    exp.UnicodeString,
    exp.IntervalSpan,
    exp.JSONPath,
    exp.JSONPathPart,
)
_MERGE_PARTNER = {"text": "free text", "clear": "a clear column", "constant": "a literal or computed constant"}


def _type_name(node: exp.Expr) -> str:
    target = node.args.get("to")
    if not isinstance(target, exp.DataType):
        return "another type"
    kind = target.this
    return kind.name if isinstance(kind, exp.DataType.Type) else str(kind)[:40]


def _catalog_cast(node: exp.Expr) -> bool:
    """A cast to a name-lookup type (`regclass`, `regproc`, `regtype`...): it looks a name up in the server's
    catalog, a fact about the server (which tables and functions exist, hidden from a role or not), not the data."""
    target = node.args.get("to")
    return isinstance(target, exp.ObjectIdentifier) and str(target.this).upper().startswith("REG")


def _operation_name(node: exp.Expr) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type(node).__name__).lower()


def _has_own_order(node: exp.Func) -> bool:
    """An aggregate with ORDER BY inside (string_agg(x, ',' ORDER BY y)), or a window function whose window
    is ordered."""
    if isinstance(node.args.get("this"), exp.Order):
        return True
    window = node.parent
    return isinstance(window, exp.Window) and _window_ordered(window, set())


def _window_ordered(window: exp.Window, seen: set[str]) -> bool:
    """A window with ORDER BY, its own or a named window's it refers to (`OVER w`, `WINDOW w AS (base ORDER BY
    x)`): the clause check sees every window definition's ORDER BY (`_check_clauses`)."""
    if window.args.get("order") is not None:
        return True
    base = window.args.get("alias")
    select = window.find_ancestor(exp.Select)
    if not isinstance(base, exp.Identifier) or select is None or base.name in seen:
        return False
    seen.add(base.name)
    for definition in select.args.get("windows") or []:
        named = definition.this
        if isinstance(named, exp.Identifier) and named.name == base.name:
            return _window_ordered(definition, seen)
    return False


def _arguments(node: exp.Func) -> list[tuple[str, exp.Expr]]:
    """(argument name, expression) pairs: positions for functions sqlglot does not model, arg names otherwise
    (items of a list argument get `name#i`)."""
    if isinstance(node, exp.Anonymous):
        return [(str(i), e) for i, e in enumerate(node.expressions)]
    found: list[tuple[str, exp.Expr]] = []
    for name, value in node.args.items():
        if name == "alias":
            continue
        if isinstance(value, exp.Expr):
            found.append((name, value))
        elif isinstance(value, list):
            found.extend((f"{name}#{i}", v) for i, v in enumerate(value) if isinstance(v, exp.Expr))
    return found


def lineage_error(what: str) -> SqlDenied:
    return SqlDenied("unknown_lineage", what)


class Resolver:
    """Sources and flows; `query` (analysing a nested query) is provided by the Analyzer."""

    predicates: PredicateChecker

    def __init__(
        self,
        schema: SchemaIndex,
        dialect: str,
        policy: Callable[[SourceColumn], ColumnPolicy],
        extra_functions: frozenset[str] = frozenset(),
    ) -> None:
        self.schema = schema
        self.dialect = dialect
        self.policy = policy
        self.extra_functions = extra_functions
        self._policies: dict[SourceColumn, ColumnPolicy] = {}
        self.restricted_seen: set[SourceColumn] = set()
        """Restricted columns the query reads anywhere (what an order the database chose may follow)."""
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
        """A table function in FROM (generate_series, json_each, unnest...): its rows are generated, so its
        columns carry no value of the data unless an argument does (and no restricted one may: it would decide
        how many rows there are)."""
        name = func.name.lower() if isinstance(func, exp.Anonymous) else func.key.lower()
        if isinstance(func, exp.Func):
            produced = self._function(func, scope, False)
        else:
            produced = transformed(combine(self.flow(arg, scope, False) for arg in func.iter_expressions()))
        self._refuse_restricted(produced, f"{name}()", "it decides how many rows there are")
        flow = produced if produced.sources else CONSTANT
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
        """Lineage of an expression evaluated in `scope` (aliases: select-list names are candidates).

        Every function is checked against the allow-list here, and every condition inside a value (CASE WHEN,
        IF, a boolean in the select list) against the predicate policy, wherever the expression sits.
        """
        if isinstance(node, exp.Column):
            return self.column_flow(node, scope, aliases)
        if is_query(node):
            return combine([o.flow for o in self.query(node, scope)], direct=True)
        if isinstance(node, exp.Null):
            return NULL
        if isinstance(node, exp.Exists):
            if is_query(node.this):
                self.query(node.this, scope)
            return Flow(kind="count", direct=False)
        if isinstance(node, exp.Order) and node.this is None:
            # WITHIN GROUP (ORDER BY x): the ordered values are the aggregate's input (mode(), percentile)
            return combine((self.flow(o, scope, aliases) for o in node.expressions), direct=True)
        if isinstance(node, (exp.Paren, exp.Alias, exp.Collate, exp.Filter, exp.Order, exp.Ordered, exp.Distinct)):
            # window / aggregate ORDER BY keys and FILTER conditions are checked as clauses
            if isinstance(node, exp.Distinct):
                return combine((self.flow(e, scope, aliases) for e in node.expressions), direct=True)
            return self.flow(node.this, scope, aliases)
        if isinstance(node, exp.Window):
            return self._window(node, scope, aliases)
        if isinstance(node, exp.WithinGroup):
            return self._within_group(node, scope, aliases)
        if isinstance(node, exp.Count):
            return self._count(node, scope, aliases)
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            inner = self.flow(node.this, scope, aliases)
            self.predicates.condition(node, scope, CONDITION)
            if inner.direct or inner.kind == "count":
                return Flow(inner.sources, "count", False)
            return transformed(inner)
        if isinstance(node, CONDITIONS):
            self.predicates.condition(node, scope, CONDITION)
            inputs = combine(self.flow(child, scope, aliases) for child in node.iter_expressions())
            return Flow(inputs.sources, "count" if inputs.kind != "unknown" else "unknown", False)
        if isinstance(node, (exp.Case, exp.If, exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least)):
            return self._choice(node, scope, aliases)
        if isinstance(node, (exp.Any, exp.All)):
            return self.flow(node.this, scope, aliases)
        if isinstance(node, (exp.Cast, exp.TryCast)):
            if _catalog_cast(node):
                raise SqlDenied(
                    "function_not_allowed",
                    f"CAST to {_type_name(node)} is not allowed: it looks names up in the server's catalog; queries"
                    " read the data, not facts about the server",
                )
            inner = self.flow(node.this, scope, aliases)
            self._refuse_computed(inner, f"CAST to {_type_name(node)}")
            return transformed(inner)
        if isinstance(node, exp.DPipe):
            inputs = combine(self.flow(child, scope, aliases) for child in node.iter_expressions())
            self._refuse_computed(inputs, "||")
            return transformed(inputs)
        if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Star):
            raise lineage_error("this use of * is not supported (composite expansion); name the columns instead")
        if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            return self.flow(node.expression, scope, aliases)  # schema.function(...)
        if isinstance(node, exp.Func):
            return self._function(node, scope, aliases)
        if isinstance(node, CONSTANT_NODES):
            return CONSTANT
        # anything else: arithmetic, array subscripts, row fields... computed, and not known to be total
        inputs = combine(self.flow(child, scope, aliases) for child in node.iter_expressions())
        self._refuse_restricted(inputs, _operation_name(node), "it can fail or overflow depending on the value")
        return transformed(inputs)

    def _window(self, node: exp.Window, scope: Scope, aliases: bool) -> Flow:
        spec = node.args.get("spec")
        if isinstance(spec, exp.WindowSpec):
            for bound in ("start", "end"):
                value = spec.args.get(bound)
                if isinstance(value, exp.Expr) and not is_constant(value):
                    raise SqlDenied("unsupported", "window frame offsets must be constant numbers")
        return self.flow(node.this, scope, aliases)

    def _within_group(self, node: exp.WithinGroup, scope: Scope, aliases: bool) -> Flow:
        function = node.this
        ordered = self.flow(node.expression, scope, aliases) if node.expression is not None else CONSTANT
        own = self.flow(function, scope, aliases)
        rule = rule_for(function, self.extra_functions) if isinstance(function, exp.Func) else None
        values = combine([own, ordered], direct=True)
        self._refuse_computed(values, f"{shown_name(function)}()" if isinstance(function, exp.Func) else "WITHIN GROUP")
        if rule is not None and rule.role == "order_pick" and not self._restricted(values):
            return values
        return transformed(values)

    def _choice(self, node: exp.Func, scope: Scope, aliases: bool) -> Flow:
        """CASE, IF, COALESCE, NULLIF, GREATEST, LEAST: conditions checked, the chosen values merged."""
        check = self.predicates
        if isinstance(node, exp.Case):
            subject = node.args.get("this")
            values = []
            for branch in node.args.get("ifs") or []:
                if subject is not None:
                    check.comparison(subject, branch.this, scope, CONDITION)
                else:
                    check.condition(branch.this, scope, CONDITION)
                values.append(self.flow(branch.args["true"], scope, aliases))
            default = node.args.get("default")
            values.append(self.flow(default, scope, aliases) if default is not None else NULL)
            return self.merge(values, "CASE")
        if isinstance(node, exp.If):
            check.condition(node.this, scope, CONDITION)
            other = node.args.get("false")
            values = [self.flow(node.args["true"], scope, aliases)]
            values.append(self.flow(other, scope, aliases) if other is not None else NULL)
            return self.merge(values, "IF")
        if isinstance(node, exp.Nullif):
            check.comparison(node.this, node.expression, scope, CONDITION)
            return self.flow(node.this, scope, aliases)
        values = [self.flow(child, scope, aliases) for child in node.iter_expressions()]
        if isinstance(node, (exp.Greatest, exp.Least)):
            for flow in values:
                check.any_use(flow, type(node).sql_name(), "ordering")
        return self.merge(values, type(node).sql_name())

    def _function(self, node: exp.Func, scope: Scope, aliases: bool) -> Flow:
        rule = rule_for(node, self.extra_functions)
        name = shown_name(node)
        if rule is None:
            if is_server_fact(node):
                raise SqlDenied(
                    "function_not_allowed",
                    f"function {name}() is not allowed: queries read the data, not facts about the server,"
                    " the session or the transaction",
                )
            raise SqlDenied(
                "function_not_allowed",
                f"function {name}() is not allowed: it is not on Maskwire's list of pure built-in functions"
                " (an operator can add it for this source with allow_functions)",
            )
        args = _arguments(node)
        flows = {arg: self.flow(child, scope, aliases) for arg, child in args}
        everything = combine(flows.values())
        if rule.role == "opaque":
            protected = [s for s in sorted(everything.sources) if self.column(s).protection != "clear"]
            if protected:
                raise SqlDenied(
                    "function_not_allowed",
                    f"function {name}() cannot take {protected[0].table}.{protected[0].column}: what it does with"
                    " a value is not modelled",
                )
            return Flow(everything.sources, "unknown", False)
        for arg, flow in flows.items():
            if not rule.is_total(arg.split("#")[0]):
                self._refuse_restricted(flow, f"{name}()", "that argument can make it fail or set its size")
        if rule.role not in ("pick", "rank", "constant"):
            self._refuse_computed(everything, f"{name}()")
        if rule.role == "rows":
            self._refuse_restricted(everything, f"{name}()", "it decides how many rows there are")
            return transformed(everything)
        if rule.role == "constant":
            return CONSTANT
        if rule.role == "rank":  # a position; without an ORDER BY of its own, in an order the database chose
            return Flow(arbitrary=not _has_own_order(node))
        arbitrary = rule.order_sensitive and not _has_own_order(node)
        if rule.role in ("pick", "order_pick"):
            picked = [f for arg, f in flows.items() if arg.split("#")[0] in rule.picks]
            others = [f for arg, f in flows.items() if arg.split("#")[0] not in rule.picks]
            value = self.merge(picked, f"{name}()") if len(picked) > 1 else combine(picked, direct=True)
            ordered_choice = rule.role == "order_pick" and self._restricted(value)
            if ordered_choice or any(f.sources for f in others):
                value = transformed(combine([value, *others]))
            return replace(value, arbitrary=True) if arbitrary else value
        result = transformed(everything)
        return replace(result, arbitrary=True) if arbitrary else result

    # ------------------------------------------------------------ policies

    def column(self, source: SourceColumn) -> ColumnPolicy:
        if source not in self._policies:
            policy = self.policy(source)
            if policy.predicates not in ("none", "equality", "any"):
                policy = ColumnPolicy(policy.protection, policy.entity, "none")
            self._policies[source] = policy
        return self._policies[source]

    def _restricted(self, flow: Flow) -> list[SourceColumn]:
        """The restricted columns among a flow's sources (empty for counts)."""
        if flow.kind == "count":
            return []
        return [s for s in sorted(flow.sources) if self.column(s).restricted]

    def _personal(self, flow: Flow) -> bool:
        return any(self.column(s).protection == "pii" for s in flow.sources)

    def _refuse_restricted(self, flow: Flow, what: str, why: str) -> None:
        restricted = self._restricted(flow)
        if restricted:
            source = restricted[0]
            raise SqlDenied(
                "predicate_policy",
                f"{source.table}.{source.column} cannot be passed to {what}: {why}, which would tell something"
                f" about its values ({self.column(source).predicates} policy)",
            )

    def _refuse_computed(self, flow: Flow, what: str) -> None:
        """A restricted value comes out only as it is (its token), counted, grouped, or compared as its policy
        allows. Anything computed from it is masked in the result anyway, so it gives the agent nothing but
        what it costs: whether the computation fails, how long it takes or how much memory it needs can depend
        on the value (`replace(ssn, '123-4', <a long text>)` fails or slows down only when '123-4' is in it)."""
        self._refuse_restricted(flow, what, COMPUTED)

    def merge(self, flows: list[Flow], what: str) -> Flow:
        """Values that come out as one column (UNION branches, CASE branches, COALESCE arguments...).

        A masked column may only merge masked values of personal columns, and free text only free text: a
        literal or a clear value merged into it would come back masked like a real value, and so give the
        agent the token of a value it chose. Values of different entity types lose their stable token.
        """
        live = [f for f in flows if not f.null]
        if not live:
            return NULL
        classes = {self._class_of(f) for f in live}
        for protected in ("pii", "text"):
            if protected in classes and len(classes) > 1:
                source = next(s for f in live if self._class_of(f) == protected for s in sorted(f.sources))
                other = next(c for c in ("text", "clear", "constant") if c in classes and c != protected)
                raise SqlDenied(
                    "merge_policy",
                    f"{what} merges {source.table}.{source.column} with {_MERGE_PARTNER[other]}; a masked column"
                    " may only merge masked values (a chosen value would come back masked like a real one):"
                    " select them as separate columns",
                )
        merged = combine(live, direct=True)
        entities = {self.column(s).entity_type for s in merged.sources if self.column(s).protection == "pii"}
        return merged if len(entities) <= 1 else transformed(merged)

    def _class_of(self, flow: Flow) -> str:
        if flow.kind == "count":
            return "clear"
        if not flow.sources:
            return "constant"
        protections = {self.column(s).protection for s in flow.sources}
        return "pii" if "pii" in protections else "text" if "text" in protections else "clear"

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
        flow = self._column_flow(column, scope, aliases)
        self.restricted_seen.update(s for s in flow.sources if self.column(s).restricted)
        return flow

    def _column_flow(self, column: exp.Column, scope: Scope, aliases: bool) -> Flow:
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
                # a name several tables share (JOIN ... USING merges them, FULL JOIN with COALESCE semantics)
                candidates = pending + known
                return candidates[0] if len(candidates) == 1 else self.merge(candidates, f"column {shown(key)}")
            pending += [s.fallback for s in level.sources if s.columns is None]
        if pending:
            return self.merge(pending, f"column {shown(key)}")
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
