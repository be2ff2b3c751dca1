"""Inference control: how protected columns may be used in WHERE, JOIN, HAVING, GROUP BY, ORDER BY...

Masking output values is not enough when a predicate can test them: `WHERE ssn LIKE '1%'` reveals the
first digit through the row count. Each reference in a predicate context is traced (through aliases,
CTEs and subqueries) to its base columns and checked against `predicate_mode(column)`:

- "any": no restriction.
- "none": no use at all in a predicate, join, grouping or ordering.
- "equality": only membership tests on the untransformed column: `col = literal`, `col <> literal`,
  `col IN (literals)`, `col IS [NOT] NULL`, `col = other_col` (joins), GROUP BY / PARTITION BY col,
  and counts (COUNT(DISTINCT col)). Anything else (LIKE, ranges, functions, casts, arithmetic,
  ORDER BY) is refused. On MySQL the other side must be a string literal or another protected column:
  MySQL compares a string with a number numerically, which matches on prefixes ('123-45' = 123).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlglot import exp

from mcp_server.sqlguard.errors import SqlDenied
from mcp_server.sqlguard.flows import Flow
from mcp_server.sqlguard.model import PredicateMode, SourceColumn
from mcp_server.sqlguard.scopes import Out, Scope, is_query, unwrap

EQUALITY_TYPES = (exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ)
_PREDICATES = (exp.And, exp.Or, exp.Xor, exp.Not, exp.In, exp.Is, exp.Exists, *EQUALITY_TYPES)
_NOT_CONSTANT = (exp.Column, exp.Star, exp.Anonymous, exp.AggFunc, exp.Window, exp.Exists)
_DATE_TYPES = {"DATE", "TIME", "DATETIME", "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMPLTZ"}
_OPS: dict[type[exp.Expr], str] = {
    exp.Like: "LIKE",
    exp.ILike: "ILIKE",
    exp.Glob: "GLOB",
    exp.RegexpLike: "a regular expression",
    exp.RegexpILike: "a regular expression",
    exp.SimilarTo: "SIMILAR TO",
    exp.GT: "a range comparison (>)",
    exp.GTE: "a range comparison (>=)",
    exp.LT: "a range comparison (<)",
    exp.LTE: "a range comparison (<=)",
    exp.Between: "BETWEEN",
    exp.Cast: "CAST",
    exp.TryCast: "CAST",
    exp.Case: "CASE",
    exp.Add: "arithmetic (+)",
    exp.Sub: "arithmetic (-)",
    exp.Mul: "arithmetic (*)",
    exp.Div: "arithmetic (/)",
    exp.Mod: "arithmetic (%)",
    exp.DPipe: "string concatenation (||)",
}
_TRANSPARENT = (exp.Paren, exp.Alias, exp.Collate, exp.Distinct, exp.Ordered, exp.Tuple)
EQUALITY_HINT = "the policy for this column allows equality only (=, <>, IN, IS NULL, joins on equal columns)"


class FlowResolver(Protocol):
    def flow(self, node: exp.Expr, scope: Scope, aliases: bool) -> Flow: ...


def describe(node: exp.Expr) -> str | None:
    """A literal-free name for the operation a node applies, or None for transparent wrappers."""
    for cls, text in _OPS.items():
        if isinstance(node, cls):
            return text
    if isinstance(node, _TRANSPARENT):
        return None
    if isinstance(node, exp.Anonymous):
        return f"function {node.name.upper()}()"
    if isinstance(node, exp.Func):
        return f"function {type(node).sql_name()}()"
    return "an expression"


def is_constant(node: exp.Expr) -> bool:
    return not any(isinstance(n, _NOT_CONSTANT) or is_query(n) for n in node.walk())


def _mysql_string_constant(node: exp.Expr) -> bool:
    node = unwrap(node)
    if isinstance(node, exp.Literal):
        return node.is_string
    if isinstance(node, exp.Introducer):
        return _mysql_string_constant(node.expression)
    if isinstance(node, exp.Cast):
        target = node.args.get("to")
        kind = target.this.name if isinstance(target, exp.DataType) else ""
        return kind in _DATE_TYPES and _mysql_string_constant(node.this)
    return isinstance(node, (exp.Null, exp.National, exp.HexString))


def _int_literal(node: exp.Expr) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string and node.name.isdigit():
        return int(node.name)
    return None


class PredicateChecker:
    def __init__(self, resolver: FlowResolver, policy: Callable[[SourceColumn], PredicateMode], dialect: str) -> None:
        self.resolver = resolver
        self.policy = policy
        self.dialect = dialect
        self._modes: dict[SourceColumn, PredicateMode] = {}

    def mode(self, source: SourceColumn) -> PredicateMode:
        if source not in self._modes:
            mode = self.policy(source)
            self._modes[source] = mode if mode in ("none", "equality", "any") else "none"
        return self._modes[source]

    # ------------------------------------------------------------ entry points

    def condition(self, node: exp.Expr, scope: Scope, clause: str) -> None:
        """A boolean context: WHERE, HAVING, JOIN ... ON, FILTER (WHERE), CASE WHEN conditions."""
        node = unwrap(node)
        if isinstance(node, (exp.And, exp.Or, exp.Xor, exp.Not)):
            for child in node.iter_expressions():
                self.condition(child, scope, clause)
        elif isinstance(node, EQUALITY_TYPES):
            self._comparison(node.this, node.expression, scope, clause)
        elif isinstance(node, exp.Is):
            if isinstance(node.expression, exp.Null):
                self._operand(node.this, None, scope, clause)
            else:
                self._children(node, scope, clause, "IS")
        elif isinstance(node, exp.In):
            self._in(node, scope, clause)
        elif isinstance(node, exp.Exists):
            self.resolver.flow(node, scope, True)
        elif not isinstance(node, (exp.Boolean, exp.Null, exp.Literal)):
            self._value(node, scope, clause, describe(node) or "an expression")

    def ordering(self, node: exp.Expr, scope: Scope, clause: str, ordinals: list[Out] | None) -> None:
        position = _int_literal(unwrap(node)) if ordinals else None
        if ordinals and position is not None and 1 <= position <= len(ordinals):
            self._any_use(ordinals[position - 1].flow, clause, "ordering")
            return
        self._value(node, scope, clause, "ordering")

    def grouping(self, node: exp.Expr, scope: Scope, clause: str, ordinals: list[Out] | None) -> None:
        node = unwrap(node)
        if isinstance(node, (exp.Rollup, exp.Cube, exp.GroupingSets, exp.Tuple)):
            for child in node.iter_expressions():
                self.grouping(child, scope, clause, ordinals)
            return
        position = _int_literal(node) if ordinals else None
        if ordinals and position is not None and 1 <= position <= len(ordinals):
            self.direct_use(ordinals[position - 1].flow, clause)
        elif isinstance(node, exp.Column) or is_query(node):
            self.direct_use(self.resolver.flow(node, scope, True), clause)
        elif not is_constant(node):
            self._value(node, scope, clause, describe(node) or "an expression")

    def direct_use(self, flow: Flow, clause: str) -> None:
        """`flow` is an operand of an equality test or a grouping key."""
        for source in sorted(flow.sources):
            mode = self.mode(source)
            if mode == "none":
                raise self._none(source, clause)
            if mode == "equality" and flow.kind != "count" and not flow.direct:
                raise self._equality(
                    source, clause, "a value computed from the column (function, cast, arithmetic or aggregate)"
                )

    # ------------------------------------------------------------ internals

    def _any_use(self, flow: Flow, clause: str, op: str) -> None:
        for source in sorted(flow.sources):
            mode = self.mode(source)
            if mode == "none":
                raise self._none(source, clause)
            if mode == "equality" and flow.kind != "count":
                raise self._equality(source, clause, op)

    def _comparison(self, a: exp.Expr, b: exp.Expr, scope: Scope, clause: str) -> None:
        self._operand(a, b, scope, clause)
        self._operand(b, a, scope, clause)

    def _in(self, node: exp.In, scope: Scope, clause: str) -> None:
        if node.args.get("unnest") is not None or node.args.get("field") is not None:
            self._children(node, scope, clause, "IN")
            return
        for value in node.expressions:
            self._comparison(node.this, value, scope, clause)
        query = node.args.get("query")
        if query is not None:
            self._comparison(node.this, query, scope, clause)

    def _operand(self, node: exp.Expr, partner: exp.Expr | None, scope: Scope, clause: str) -> None:
        node = unwrap(node)
        if isinstance(node, exp.Column) or is_query(node):
            flow = self.resolver.flow(node, scope, True)
            self.direct_use(flow, clause)
            restricted = flow.kind != "count" and any(self.mode(s) == "equality" for s in flow.sources)
            if partner is not None and restricted:
                self._check_partner(flow, partner, scope, clause)
        elif isinstance(node, exp.Tuple):
            other = unwrap(partner) if partner is not None else None
            if isinstance(other, exp.Tuple) and len(other.expressions) == len(node.expressions):
                for mine, theirs in zip(node.expressions, other.expressions, strict=True):
                    self._operand(mine, theirs, scope, clause)
            else:
                for mine in node.expressions:
                    self._operand(mine, partner if partner is not None and is_query(partner) else None, scope, clause)
        elif not is_constant(node):
            self._value(node, scope, clause, describe(node) or "an expression")

    def _check_partner(self, flow: Flow, partner: exp.Expr, scope: Scope, clause: str) -> None:
        """What an equality-only column may be compared with: literals or other columns."""
        other = unwrap(partner)
        source = next(s for s in sorted(flow.sources) if self.mode(s) == "equality")
        if isinstance(other, exp.Column) or is_query(other):
            if self.dialect == "mysql":
                theirs = self.resolver.flow(other, scope, True)
                if not any(self.mode(s) == "equality" for s in theirs.sources):
                    raise self._mysql_numeric(source, clause)
            return
        if not is_constant(other):
            raise SqlDenied(
                "predicate_policy",
                f"comparison on {source.table}.{source.column} in {clause} is with an expression; {EQUALITY_HINT},"
                " comparing it only with literal values or other columns",
            )
        if self.dialect == "mysql" and not _mysql_string_constant(other):
            raise self._mysql_numeric(source, clause)

    @staticmethod
    def _mysql_numeric(source: SourceColumn, clause: str) -> SqlDenied:
        return SqlDenied(
            "predicate_policy",
            f"comparison on {source.table}.{source.column} in {clause} must be with a string literal or another"
            " protected column: MySQL compares a string with a number numerically, which matches on prefixes",
        )

    def _value(self, node: exp.Expr | None, scope: Scope, clause: str, op: str) -> None:
        """A value computed inside a predicate: every protected column under it must allow `op`."""
        if node is None:
            return
        if isinstance(node, exp.Column) or is_query(node):
            self._any_use(self.resolver.flow(node, scope, True), clause, op)
        elif isinstance(node, _PREDICATES):
            self.condition(node, scope, clause)
        elif isinstance(node, exp.Count) and self.resolver.flow(node, scope, True).kind == "count":
            self._any_use(self.resolver.flow(node, scope, True), clause, op)
        elif isinstance(node, exp.Case):
            subject = node.args.get("this")
            for branch in node.args.get("ifs") or []:
                if subject is not None:
                    self._comparison(subject, branch.this, scope, clause)
                else:
                    self.condition(branch.this, scope, clause)
                self._value(branch.args.get("true"), scope, clause, op)
            self._value(node.args.get("default"), scope, clause, op)
        elif isinstance(node, exp.If):
            self.condition(node.this, scope, clause)
            self._value(node.args.get("true"), scope, clause, op)
            self._value(node.args.get("false"), scope, clause, op)
        elif isinstance(node, (exp.Window, exp.Filter, exp.Order)):
            # their PARTITION BY / ORDER BY / FILTER are checked as clauses of their own
            self._value(node.this, scope, clause, op)
        else:
            self._children(node, scope, clause, describe(node) or op)

    def _children(self, node: exp.Expr, scope: Scope, clause: str, op: str) -> None:
        for child in node.iter_expressions():
            self._value(child, scope, clause, op)

    @staticmethod
    def _none(source: SourceColumn, clause: str) -> SqlDenied:
        return SqlDenied(
            "predicate_policy",
            f"{source.table}.{source.column} cannot be used in {clause}: the policy for this column allows no"
            " filtering, joining, grouping or ordering on it (you can still select it; it is masked)",
        )

    @staticmethod
    def _equality(source: SourceColumn, clause: str, op: str) -> SqlDenied:
        if op == "ordering":
            return SqlDenied(
                "predicate_policy",
                f"{clause} on {source.table}.{source.column} is not allowed: ordering reveals how its values"
                f" compare; {EQUALITY_HINT}",
            )
        return SqlDenied(
            "predicate_policy", f"predicate on {source.table}.{source.column} in {clause} uses {op}; {EQUALITY_HINT}"
        )
