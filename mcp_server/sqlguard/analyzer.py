"""Scope-by-scope analysis of a read-only query: tables, column resolution, lineage, predicate checks.

A hand-written resolver over sqlglot's tree (not sqlglot.optimizer.qualify, see resolver.py), because
matching here is case-insensitive and fail-closed.

The tree is rewritten so that what runs is exactly what was analysed:
- `*` and `t.*` over base tables are expanded into explicit columns (`t."col"`), so a column added to a
  table after the schema snapshot cannot shift result positions; over a derived table or CTE, `*`
  becomes `alias.*`, whose columns are already explicit.
- unnamed expressions in the outermost select list get a quoted alias, so the database reports the
  name computed here (and never the text of a bound parameter, which MySQL would otherwise report).

Every SELECT, VALUES and table of the tree must be visited and every column reference resolved;
anything left over is refused ("unknown_lineage") rather than guessed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from mcp_server.sqlguard.errors import SqlDenied, shown
from mcp_server.sqlguard.flows import CONSTANT
from mcp_server.sqlguard.model import ColumnPolicy, SourceColumn
from mcp_server.sqlguard.predicates import PredicateChecker
from mcp_server.sqlguard.resolver import Resolver, lineage_error
from mcp_server.sqlguard.schema import SchemaIndex
from mcp_server.sqlguard.scopes import Out, Scope, Source, is_constant, is_query

MAX_NAME_BYTES = 63  # PostgreSQL truncates longer identifiers


def _root_branches(node: exp.Expr) -> list[exp.Expr]:
    """The SELECTs whose select lists name the result columns."""
    if isinstance(node, exp.Subquery):
        return _root_branches(node.this)
    if isinstance(node, exp.SetOperation):
        return _root_branches(node.this) + _root_branches(node.expression)
    return [node]


def _set_operation_name(node: exp.SetOperation) -> str:
    name = type(node).__name__.upper()
    return f"{name} ALL" if isinstance(node, exp.Union) and not node.args.get("distinct") else name


def _truncate(text: str) -> str:
    data = text.encode("utf-8")[:MAX_NAME_BYTES]
    return data.decode("utf-8", errors="ignore")


def _scope_nodes(select: exp.Select) -> list[exp.Expr]:
    """Nodes of one SELECT's own scope (nested queries are listed but not entered)."""
    found: list[exp.Expr] = []
    stack = list(select.iter_expressions(reverse=True))
    while stack:
        node = stack.pop()
        found.append(node)
        if not is_query(node):
            stack.extend(node.iter_expressions(reverse=True))
    return found


class Analyzer(Resolver):
    def __init__(
        self,
        schema: SchemaIndex,
        dialect: str,
        policy: Callable[[SourceColumn], ColumnPolicy],
        extra_functions: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(schema, dialect, policy, extra_functions)
        self.predicates = PredicateChecker(self)
        self._memo: dict[int, list[Out]] = {}
        self._roots: set[int] = set()
        self.limits = 0
        """LIMIT / OFFSET / FETCH clauses anywhere in the query."""

    def analyse(self, root: exp.Expr) -> list[Out]:
        self._roots = {id(n) for n in _root_branches(root)}
        outs = self.query(root, None)
        self._check_coverage(root)
        return outs

    # ------------------------------------------------------------ queries

    def query(self, node: exp.Expr, parent: Scope | None) -> list[Out]:
        cached = self._memo.get(id(node))
        if cached is not None:
            return cached
        self._visited[id(node)] = node
        scope = parent
        with_ = node.args.get("with_")
        if isinstance(with_, exp.With):
            scope = self._with(with_, parent)
        if isinstance(node, exp.Select):
            outs = self._select(node, scope)
        elif isinstance(node, exp.SetOperation):
            outs = self._set_operation(node, scope)
        elif isinstance(node, exp.Values):
            outs = self._values(node, scope)
        elif isinstance(node, exp.Subquery) and is_query(node.this):
            outs = self.query(node.this, scope)
        else:
            raise lineage_error("only SELECT queries can be analysed here")
        if isinstance(node, (exp.SetOperation, exp.Subquery)):
            self._trailing_clauses(node, outs, scope)
        self._memo[id(node)] = outs
        return outs

    def _with(self, with_: exp.With, parent: Scope | None) -> Scope:
        scope = Scope(parent)
        recursive = bool(with_.args.get("recursive"))
        for cte in with_.expressions:
            body = cte.this
            alias = cte.args.get("alias")
            key = cte.alias.lower()
            if not is_query(body):
                raise SqlDenied("not_read_only", f"CTE {shown(cte.alias)} must be a SELECT")
            if recursive and self._references(body, key):
                outs = self._recursive_cte(body, key, scope, alias)
            else:
                outs = self._rename(self.query(body, scope), alias)
            scope.ctes[key] = outs
        return scope

    @staticmethod
    def _references(body: exp.Expr, key: str) -> bool:
        return any(
            t.name.lower() == key and not t.args.get("db") and isinstance(t.this, exp.Identifier)
            for t in body.find_all(exp.Table)
        )

    def _recursive_cte(self, body: exp.Expr, key: str, scope: Scope, alias: exp.TableAlias | None) -> list[Out]:
        """Fixpoint: start from the anchor branch, re-analyse until the column flows stop growing."""
        if not isinstance(body, exp.SetOperation) or self._references(body.this, key):
            raise lineage_error("recursive CTEs must be `anchor UNION [ALL] recursive part`")
        current = self._rename(self.query(body.this, scope), alias)
        for _ in range(len(self.schema.tables) * 8 + 8):
            scope.ctes[key] = current
            for node in body.walk():
                self._memo.pop(id(node), None)
            outs = self._rename(self.query(body, scope), alias)
            if len(outs) != len(current):
                raise lineage_error("the branches of a recursive CTE return different numbers of columns")
            merged = [
                Out(c.name, self.merge([c.flow, o.flow], "a recursive CTE"), c.keys, c.ident)
                for c, o in zip(current, outs, strict=True)
            ]
            if [m.flow for m in merged] == [c.flow for c in current]:
                return merged
            current = merged
        raise lineage_error("the lineage of a recursive CTE did not settle")

    def _set_operation(self, node: exp.SetOperation, scope: Scope | None) -> list[Out]:
        left = self.query(node.this, scope)
        right = self.query(node.expression, scope)
        if len(left) != len(right):
            raise lineage_error("each branch of UNION / INTERSECT / EXCEPT must return the same number of columns")
        operation = _set_operation_name(node)
        deduplicates = bool(node.args.get("distinct")) or not isinstance(node, exp.Union)
        outs = []
        for a, b in zip(left, right, strict=True):
            if deduplicates:  # the database compares the two sides' values for equality
                self.predicates.same_values(a.flow, b.flow, operation)
            outs.append(Out(a.name, self.merge([a.flow, b.flow], operation), a.keys, a.ident))
        return outs

    def _trailing_clauses(self, node: exp.Expr, outs: list[Out], scope: Scope | None) -> None:
        """ORDER BY / LIMIT written after a set operation or a parenthesised query."""
        order = node.args.get("order")
        pseudo = Scope(scope, [Source(None, None, "derived", outs, CONSTANT)], projections=outs)
        if isinstance(order, exp.Order):
            self._visited[id(order)] = order
            for ordered in order.expressions:
                self.predicates.ordering(ordered.this, pseudo, "ORDER BY", outs)
        for key in ("limit", "offset"):
            clause = node.args.get(key)
            if clause is not None:
                self._row_count(clause, pseudo)

    def _values(self, node: exp.Values, scope: Scope | None) -> list[Out]:
        self._visited[id(node)] = node
        rows = [row.expressions if isinstance(row, exp.Tuple) else [row] for row in node.expressions]
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            raise lineage_error("every VALUES row must have the same number of columns")
        inner = scope if scope is not None else Scope(None)
        outs = []
        for i in range(len(rows[0])):
            flow = self.merge([self.flow(row[i], inner, False) for row in rows], "VALUES")
            name = f"column_{i}" if self.dialect == "mysql" else f"column{i + 1}"
            outs.append(Out.make(name, flow))
        return self._rename(outs, node.args.get("alias"))

    # ------------------------------------------------------------ SELECT

    def _select(self, select: exp.Select, parent: Scope | None) -> list[Out]:
        scope = Scope(parent)
        from_ = select.args.get("from_")
        if isinstance(from_, exp.From):
            self._add_source(from_.this, scope)
        for join in select.args.get("joins") or []:
            self._add_source(join.this, scope)
        root = id(select) in self._roots
        nodes: list[exp.Expr] = []
        projections: list[Out] = []
        for node in select.expressions:
            if isinstance(node, exp.Star) or (isinstance(node, exp.Column) and isinstance(node.this, exp.Star)):
                for expanded, outs in self._expand_star(node, scope):
                    nodes.append(expanded)
                    projections.extend(outs)
                continue
            flow = self.flow(node, scope, False)
            name, extra = self._projection_name(node)
            if root and not isinstance(node, (exp.Alias, exp.Column)):
                node = exp.Alias(this=node, alias=exp.to_identifier(name, quoted=True))
            nodes.append(node)
            projections.append(Out.make(name, flow, extra=extra))
        if not projections:
            raise lineage_error("the query returns no columns")
        select.set("expressions", nodes)
        scope.projections = projections
        self._check_clauses(select, scope)
        distinct = select.args.get("distinct")
        if isinstance(distinct, exp.Distinct) and distinct.args.get("on") is None:
            for projection in projections:  # SELECT DISTINCT groups by every output column
                self.predicates.direct_use(projection.flow, "SELECT DISTINCT")
        return projections

    def _projection_name(self, node: exp.Expr) -> tuple[str, tuple[str, ...]]:
        if isinstance(node, exp.Alias):
            return self._ident_name(node.args["alias"]), ()
        if isinstance(node, exp.Column):
            return self._ident_name(node.this), ()
        name = _truncate(node.sql(dialect=self.dialect, comments=False))
        extra: tuple[str, ...] = ("?column?",)
        if isinstance(node, exp.Anonymous):
            extra = (node.name,)
        elif isinstance(node, exp.Func):
            extra = (type(node).sql_name(),)
        return name, extra

    def _expand_star(self, node: exp.Star | exp.Column, scope: Scope) -> list[tuple[exp.Expr, list[Out]]]:
        star = node if isinstance(node, exp.Star) else node.this
        if any(v for v in star.args.values()):
            raise SqlDenied("unsupported", "SELECT * with EXCEPT / REPLACE modifiers is not supported")
        if isinstance(node, exp.Star):
            sources = scope.sources
            if not sources:
                raise lineage_error("SELECT * needs a FROM clause")
        else:
            source = scope.local_source(node.table.lower())
            if source is None:
                raise SqlDenied("unknown_column", f"{shown(node.table)}.* does not name a table of this FROM clause")
            sources = [source]
        result: list[tuple[exp.Expr, list[Out]]] = []
        for source in sources:
            if source.columns is None or source.ref is None:
                raise lineage_error(
                    "SELECT * over a table function or an unaliased subquery is not supported;"
                    " name the columns (and give table functions a column list, e.g. AS t(a, b))"
                )
            if source.kind == "derived":
                column = exp.Column(this=exp.Star(), table=source.ref.copy())
                self._resolved[id(column)] = column
                result.append((column, list(source.columns)))
                continue
            for out in source.columns:
                ident = out.ident.copy() if out.ident is not None else exp.to_identifier(out.name, quoted=True)
                column = exp.Column(this=ident, table=source.ref.copy())
                self._resolved[id(column)] = column
                result.append((column, [out]))
        return result

    # ------------------------------------------------------------ clauses of a SELECT

    def _check_clauses(self, select: exp.Select, scope: Scope) -> None:
        check = self.predicates
        for node in _scope_nodes(select):
            if is_query(node):
                self.query(node, scope)
            elif isinstance(node, exp.Star):
                self._check_star(node)
            elif isinstance(node, exp.Where):
                clause = "WHERE" if node.parent is select else "FILTER (WHERE ...)"
                check.condition(node.this, scope, clause)
            elif isinstance(node, exp.Having):
                check.condition(node.this, scope, "HAVING")
            elif isinstance(node, exp.Join):
                self._join(node, scope)
            elif isinstance(node, exp.Group):
                for key in node.iter_expressions():
                    check.grouping(key, scope, "GROUP BY", scope.projections)
            elif isinstance(node, exp.Order):
                own = node.parent is select
                clause = "ORDER BY" if own else "window ORDER BY" if isinstance(node.parent, exp.Window) else "ORDER BY"
                for ordered in node.expressions:
                    check.ordering(ordered.this, scope, clause, scope.projections if own else None)
            elif isinstance(node, exp.Window):
                for partition in node.args.get("partition_by") or []:
                    check.grouping(partition, scope, "PARTITION BY", None)
            elif isinstance(node, exp.Distinct) and isinstance(node.args.get("on"), exp.Expr):
                check.grouping(node.args["on"], scope, "DISTINCT ON", None)
            elif isinstance(node, (exp.Limit, exp.Offset, exp.Fetch)):
                self._row_count(node, scope)

    def _row_count(self, node: exp.Expr, scope: Scope) -> None:
        """LIMIT / OFFSET / FETCH amounts: constants, so that no value can decide how many rows come back."""
        self.limits += 1
        for amount in node.iter_expressions():
            self.flow(amount, scope, False)
            if not is_constant(amount):
                raise SqlDenied("unsupported", "LIMIT, OFFSET and FETCH take constant numbers")

    @staticmethod
    def _check_star(star: exp.Star) -> None:
        """`*` left after expansion: COUNT(*), f(t.*) and the `alias.*` this analyser wrote are fine.

        Anything else, such as PostgreSQL's `(c).*` or `(f(x)).*`, makes the database expand a
        composite into an unknown number of columns.
        """
        parent = star.parent
        if isinstance(parent, exp.Count):
            return
        if isinstance(parent, exp.Column) and isinstance(parent.parent, (exp.Select, exp.Func)):
            return
        raise lineage_error("this use of * is not supported (composite expansion); name the columns instead")

    def _join(self, join: exp.Join, scope: Scope) -> None:
        on = join.args.get("on")
        if on is not None:
            self.predicates.condition(on, scope, "JOIN ... ON")
        names = [ident.name for ident in join.args.get("using") or []]
        if str(join.args.get("method") or "").upper() == "NATURAL":
            names.extend(self._natural_columns(join, scope))
        if not names:
            return
        right = self._source_of.get(id(join.this))
        if right is None or right not in scope.sources:
            raise lineage_error("unsupported JOIN ... USING")
        left = scope.sources[: scope.sources.index(right)]
        for name in names:  # USING (col) is left.col = right.col: the same rules as JOIN ... ON
            mine = [o.flow for o in right.lookup(name.lower())]
            theirs = [o.flow for source in left for o in source.lookup(name.lower())]
            if not mine or not theirs:
                raise SqlDenied("unknown_column", f"unknown column {shown(name)} in JOIN ... USING")
            for a in theirs:
                for b in mine:
                    self.predicates.same_values(a, b, "JOIN ... USING")

    def _natural_columns(self, join: exp.Join, scope: Scope) -> list[str]:
        right = self._source_of.get(id(join.this))
        if right is None or right not in scope.sources:
            raise lineage_error("unsupported NATURAL JOIN")
        left = scope.sources[: scope.sources.index(right)]
        if right.columns is None or any(s.columns is None for s in left):
            raise lineage_error("NATURAL JOIN with a table function is not supported; use JOIN ... ON")
        left_keys = {k for s in left for c in s.columns or [] for k in c.keys}
        return [c.name for c in right.columns if c.name.lower() in left_keys]

    # ------------------------------------------------------------ coverage

    def _check_coverage(self, root: exp.Expr) -> None:
        for node in root.walk():
            tracked = isinstance(node, (exp.Select, exp.SetOperation, exp.Values, exp.Table))
            if tracked and id(node) not in self._visited:
                raise lineage_error(f"part of the query could not be analysed ({type(node).__name__})")
            if isinstance(node, exp.Column) and id(node) not in self._resolved:
                raise lineage_error("a column reference is in a position the guard does not understand")
