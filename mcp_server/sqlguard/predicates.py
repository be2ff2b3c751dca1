"""Inference control: where a restricted column's values may decide what the agent sees.

The rule: a value of a protected column flows only into masked output cells, or into the comparisons its
column's policy allows. Masking output values is not enough when something else can depend on them:
`WHERE ssn LIKE '1%'` reveals the first digit through the row count, `ORDER BY email` through the order.
Every decision a query makes - which rows (WHERE, JOIN ... ON, HAVING, FILTER), which branch (CASE WHEN,
IF, NULLIF), which groups (GROUP BY, PARTITION BY, DISTINCT, UNION), which order (ORDER BY, window and
aggregate orders) - is traced to its base columns and checked against `predicates` of each restricted one:

- "any": no restriction.
- "none": no use at all in a decision.
- "equality": membership tests on the untransformed column only: `col = literal`, `col <> literal`,
  `col IN (literals)`, `col IS [NOT] NULL`, `col = other_col` where the other is a protected column of the
  same entity type (joins), a token of the same entity type, GROUP BY / PARTITION BY / DISTINCT col, and counts
  (COUNT(DISTINCT col)). Anything else (LIKE, ranges, functions, casts, arithmetic, ORDER BY, comparing with a
  clear column or a generated domain such as a date series) is refused. On MySQL the other side must be a
  string literal or another protected column: MySQL compares a string with a number numerically, which
  matches on prefixes ('123-45' = 123).

Columns masked as a guessable entity type (`GUESSABLE_ENTITIES`: SENSITIVE, SECRET) take no literal partners:
a list of diagnoses or a password dictionary would read them out, 100 guesses a query. Tokens and columns of the
same type still compare.

A pseudonym token is accepted only as the partner of a direct comparison with a personal column of the token's
own entity type; `accepted_tokens` lists the literal nodes that passed, and any other token is refused later.
"""

from __future__ import annotations

import re
from typing import Protocol

from sqlglot import exp

from mcp_server.sqlguard.errors import SqlDenied
from mcp_server.sqlguard.flows import Flow
from mcp_server.sqlguard.model import ColumnPolicy, SourceColumn
from mcp_server.sqlguard.scopes import Out, Scope, is_constant, is_query, unwrap
from mcp_server.sqlguard.tokens import token_entity, token_text
from mcp_server.vocabulary import GUESSABLE_ENTITIES

EQUALITY_TYPES = (exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ)
MAX_MEMBERSHIP_TESTS = 100
_SEARCH_WORDS = re.compile(r"[^\W\d_]{3,}(?:[ '’-][^\W\d_]{3,})*")
"""What a free-text search may look for: words of letters, three or more each, with spaces or hyphens."""
"""Comparisons of restricted columns with literals or tokens in one query (IN lists included)."""
MAX_TEXT_SEARCHES = 8
"""LIKE searches on free text in one query."""
GROUPING_CLAUSES = frozenset(
    {"GROUP BY", "PARTITION BY", "DISTINCT ON", "SELECT DISTINCT", "UNION", "INTERSECT", "EXCEPT", "JOIN ... USING"}
)
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
    dialect: str

    def flow(self, node: exp.Expr, scope: Scope, aliases: bool) -> Flow: ...

    def column(self, source: SourceColumn) -> ColumnPolicy: ...


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


_STRING_LITERALS = (exp.National, exp.RawString, exp.ByteString, exp.UnicodeString, exp.HexString, exp.BitString)


def _literal_values(node: exp.Expr) -> list[exp.Expr] | None:
    """The literal values a comparison partner stands for (each one a membership test), or None when it is not
    made of literals: a function, an expression, or a literal of an array or other composite type (one string
    `'{…8000 dates…}'::date[]` would be thousands of tests counted as one)."""
    node = unwrap(node)
    if isinstance(node, (exp.Any, exp.All)):
        inner = unwrap(node.this)
        if not isinstance(inner, exp.Array):
            return None
        found = [_literal_values(e) for e in inner.expressions]
        return None if any(f is None or len(f) != 1 for f in found) else [f[0] for f in found if f]
    return [node] if _scalar_literal(node) else None


def _scalar_literal(node: exp.Expr) -> bool:
    node = unwrap(node)
    if isinstance(node, (exp.Literal, exp.Null, exp.Boolean, *_STRING_LITERALS)):
        return True
    if isinstance(node, exp.Neg):
        return isinstance(unwrap(node.this), exp.Literal)
    if isinstance(node, exp.Introducer):
        return _scalar_literal(node.expression)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        target = node.args.get("to")
        scalar = isinstance(target, exp.DataType) and not target.args.get("nested")  # not ARRAY, MAP, STRUCT
        return scalar and _scalar_literal(node.this)
    return False


def _int_literal(node: exp.Expr) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string and node.name.isdigit():
        return int(node.name)
    return None


class PredicateChecker:
    def __init__(self, resolver: FlowResolver) -> None:
        self.resolver = resolver
        self.dialect = resolver.dialect
        self.accepted_tokens: set[int] = set()
        self.membership_tests = 0
        self.text_searches = 0
        self.grouped_restricted = False
        """A restricted column is a grouping key (GROUP BY, DISTINCT, UNION...): the database sorts by it."""
        self.arbitrary_decisions: list[str] = []
        """Clauses where a value assembled in the database's order decides something (checked at the end)."""

    def mode(self, source: SourceColumn) -> str:
        return self.resolver.column(source).predicates

    # ------------------------------------------------------------ entry points

    def condition(self, node: exp.Expr, scope: Scope, clause: str) -> None:
        """A boolean context: WHERE, HAVING, JOIN ... ON, FILTER (WHERE), CASE WHEN conditions."""
        node = unwrap(node)
        if isinstance(node, (exp.And, exp.Or, exp.Xor, exp.Not)):
            for child in node.iter_expressions():
                self.condition(child, scope, clause)
        elif isinstance(node, EQUALITY_TYPES):
            self.comparison(node.this, node.expression, scope, clause)
        elif isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            self._operand(node.this, None, scope, clause)
        elif isinstance(node, exp.In):
            self._in(node, scope, clause)
        elif isinstance(node, exp.Exists):
            self.resolver.flow(node, scope, True)
        elif isinstance(node, (exp.Boolean, exp.Null, exp.Literal)) or (
            isinstance(node, (exp.Like, exp.ILike)) and self._text_search(node, scope, clause)
        ):
            return
        elif isinstance(node, exp.Predicate):
            op = describe(node) or "an expression"
            for operand in node.iter_expressions():
                self.any_use(self.resolver.flow(operand, scope, True), clause, op)
        else:
            self.any_use(self.resolver.flow(node, scope, True), clause, describe(node) or "an expression")

    def comparison(self, a: exp.Expr, b: exp.Expr, scope: Scope, clause: str) -> None:
        """An equality test between two operands (either may be the column)."""
        self._operand(a, b, scope, clause)
        self._operand(b, a, scope, clause)

    def ordering(self, node: exp.Expr, scope: Scope, clause: str, ordinals: list[Out] | None) -> None:
        position = _int_literal(unwrap(node)) if ordinals else None
        if ordinals and position is not None and 1 <= position <= len(ordinals):
            self.any_use(ordinals[position - 1].flow, clause, "ordering")
            return
        self.any_use(self.resolver.flow(node, scope, True), clause, "ordering")

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
        else:
            flow = self.resolver.flow(node, scope, True)
            if not is_constant(node):
                self.any_use(flow, clause, describe(node) or "an expression")

    def direct_use(self, flow: Flow, clause: str) -> None:
        """`flow` is an operand of an equality test or a grouping key."""
        if flow.arbitrary:
            self.arbitrary_decisions.append(clause)
        if clause in GROUPING_CLAUSES and self._restricted(flow):
            self.grouped_restricted = True
        for source in sorted(flow.sources):
            mode = self.mode(source)
            if mode == "none":
                raise self._none(source, clause)
            if mode == "equality" and flow.kind != "count" and not flow.direct:
                raise self._equality(
                    source, clause, "a value computed from the column (function, cast, arithmetic or aggregate)"
                )

    def same_values(self, left: Flow, right: Flow, clause: str) -> None:
        """Two columns compared for equality by the database (UNION, INTERSECT, EXCEPT)."""
        self.direct_use(left, clause)
        self.direct_use(right, clause)
        if self._restricted(left) or self._restricted(right):
            self._same_entity(left, right, clause)

    def any_use(self, flow: Flow, clause: str, op: str) -> None:
        if flow.arbitrary:
            self.arbitrary_decisions.append(clause)
        for source in sorted(flow.sources):
            mode = self.mode(source)
            if mode == "none":  # even a count of a none column decides something (HAVING count(ssn) > 1)
                raise self._none(source, clause)
            if mode == "equality" and flow.kind != "count":
                raise self._equality(source, clause, op)

    # ------------------------------------------------------------ internals

    def _text_search(self, node: exp.Like | exp.ILike, scope: Scope, clause: str) -> bool:
        """`body LIKE '%refund%'` on a free-text column itself, with a literal pattern: a search, the oracle
        for a known term that remains by design. Functions of free text in a decision are not allowed."""
        column, pattern = unwrap(node.this), unwrap(node.expression)
        if not isinstance(column, exp.Column) or not is_constant(pattern) or token_text(pattern) is not None:
            return False
        flow = self.resolver.flow(column, scope, True)
        policies = [self.resolver.column(s) for s in flow.sources]
        if not flow.direct or not policies or any(p.protection != "text" or p.predicates == "none" for p in policies):
            return False
        self.resolver.flow(pattern, scope, True)
        if not isinstance(pattern, exp.Literal) or "_" in pattern.name:
            raise SqlDenied(
                "predicate_policy",
                f"a search on free text in {clause} takes a literal pattern of whole characters ('%refund%'):"
                " '_' matches one character at a position, which reads the text out",
            )
        restricted = any(p.restricted for p in policies)
        if restricted and not all(_SEARCH_WORDS.fullmatch(part) for part in pattern.name.split("%") if part):
            raise SqlDenied(
                "predicate_policy",
                f"a search on free text in {clause} looks for words of three or more letters ('%refund%',"
                " '%late delivery%'): digits and symbols would let it grow a guess at a number, an address or"
                " a key that the text holds masked, a character at a time",
            )
        self.text_searches += 1
        if self.text_searches > MAX_TEXT_SEARCHES:
            raise SqlDenied(
                "predicate_policy",
                f"the query searches free text {self.text_searches} times; the limit is {MAX_TEXT_SEARCHES} per"
                " query (many searches in one query would read the text out)",
            )
        self._count_membership()
        return True

    def _count_membership(self) -> None:
        self.membership_tests += 1
        if self.membership_tests > MAX_MEMBERSHIP_TESTS:
            raise SqlDenied(
                "predicate_policy",
                f"the query compares protected columns with more than {MAX_MEMBERSHIP_TESTS} values; each is a test"
                " of whether a value is there, and long lists of them would enumerate the column",
            )

    def _restricted(self, flow: Flow) -> bool:
        return flow.kind != "count" and any(self.resolver.column(s).restricted for s in flow.sources)

    def _in(self, node: exp.In, scope: Scope, clause: str) -> None:
        if node.args.get("unnest") is not None or node.args.get("field") is not None:
            for child in node.iter_expressions():
                self.any_use(self.resolver.flow(child, scope, True), clause, "IN")
            return
        for value in node.expressions:
            self.comparison(node.this, value, scope, clause)
        query = node.args.get("query")
        if query is not None:
            self.comparison(node.this, query, scope, clause)

    def _operand(self, node: exp.Expr, partner: exp.Expr | None, scope: Scope, clause: str) -> None:
        node = unwrap(node)
        if isinstance(node, (exp.Any, exp.All)) and is_query(node.this):
            node = node.this
        if isinstance(node, exp.Column) or is_query(node):
            flow = self.resolver.flow(node, scope, True)
            self.direct_use(flow, clause)
            if partner is None:
                return
            literal = unwrap(partner)
            if token_text(literal) is not None:
                self._token_partner(flow, literal, clause)
            elif self._restricted(flow):
                self._check_partner(flow, partner, scope, clause)
        elif isinstance(node, exp.Tuple):
            other = unwrap(partner) if partner is not None else None
            if isinstance(other, exp.Tuple) and len(other.expressions) == len(node.expressions):
                for mine, theirs in zip(node.expressions, other.expressions, strict=True):
                    self._operand(mine, theirs, scope, clause)
            else:
                for mine in node.expressions:
                    self._operand(mine, partner if partner is not None and is_query(partner) else None, scope, clause)
        elif token_text(node) is None:
            flow = self.resolver.flow(node, scope, True)
            if not is_constant(node):
                self.any_use(flow, clause, describe(node) or "an expression")

    def _token_partner(self, flow: Flow, literal: exp.Expr, clause: str) -> None:
        """`col = '<ENTITY:…>'`: the column must be a direct personal column of the token's entity type."""
        entity = token_entity(literal)
        policies = [self.resolver.column(s) for s in sorted(flow.sources)]
        matches = (
            flow.direct
            and flow.kind == "value"
            and bool(policies)
            and all(p.protection == "pii" and p.entity_type == entity for p in policies)
        )
        if not matches:
            raise SqlDenied(
                "token_use",
                f"a {entity} token can only be compared with a column masked as {entity}"
                " (col = token, col <> token, col IN (token, ...)); it never stands for another column's values",
            )
        self.accepted_tokens.add(id(literal))
        self._count_membership()

    def _check_partner(self, flow: Flow, partner: exp.Expr, scope: Scope, clause: str) -> None:
        """What a restricted column may be compared with: literals, or a protected column of its own type."""
        other = unwrap(partner)
        if isinstance(other, (exp.Any, exp.All)) and is_query(other.this):
            other = other.this
        source = next(s for s in sorted(flow.sources) if self.resolver.column(s).restricted)
        if isinstance(other, exp.Column) or is_query(other):
            theirs = self.resolver.flow(other, scope, True)
            self._same_entity(flow, theirs, clause)
            return
        values = _literal_values(other)
        if values is None:
            token = next((t for n in other.walk() if (t := token_text(n)) is not None), None)
            if token is not None:
                raise SqlDenied(
                    "token_use",
                    f"pseudonym token {token} can only be compared with a column masked as its entity type"
                    " (col = token, col <> token, col IN (token, ...)), as it is",
                )
            raise SqlDenied(
                "predicate_policy",
                f"comparison on {source.table}.{source.column} in {clause} is with an expression; {EQUALITY_HINT},"
                " comparing it only with literal values (one each, or ANY(ARRAY[...]) of them) or other columns",
            )
        guessable = next((s for s in sorted(flow.sources) if self._guessable(s)), None)
        if guessable is not None:
            column, entity = guessable, self.resolver.column(guessable).entity_type
            raise SqlDenied(
                "predicate_policy",
                f"{column.table}.{column.column} is masked as {entity}: its values are few or guessable (a diagnosis,"
                f" a salary, a password), so comparing it with literal values in {clause} would read them out one"
                f" guess at a time; compare it with tokens from its results or with another column masked as {entity}",
            )
        for value in values:
            if self.dialect == "mysql" and not _mysql_string_constant(value):
                raise self._mysql_numeric(source, clause)
            self._count_membership()

    def _guessable(self, source: SourceColumn) -> bool:
        policy = self.resolver.column(source)
        return policy.protection == "pii" and policy.entity_type in GUESSABLE_ENTITIES

    def _same_entity(self, mine: Flow, theirs: Flow, clause: str) -> None:
        """Both sides direct values of personal columns of one entity type (a join on equal keys)."""
        policies = [self.resolver.column(s) for s in sorted(mine.sources | theirs.sources)]
        source = next(s for s in sorted(mine.sources | theirs.sources) if self.resolver.column(s).restricted)
        entity = self.resolver.column(source).entity_type
        same = (
            bool(theirs.sources)
            and bool(mine.sources)
            and mine.direct
            and theirs.direct
            and mine.kind == theirs.kind == "value"
            and all(p.protection == "pii" and p.entity_type == entity for p in policies)
        )
        if not same:
            raise SqlDenied(
                "predicate_policy",
                f"{source.table}.{source.column} in {clause} can only be compared with literal values, tokens or"
                f" another column masked as {entity}: comparing it with other values (a clear column, a list or"
                " series the query builds) would enumerate its values",
            )

    @staticmethod
    def _mysql_numeric(source: SourceColumn, clause: str) -> SqlDenied:
        return SqlDenied(
            "predicate_policy",
            f"comparison on {source.table}.{source.column} in {clause} must be with a string literal or another"
            " protected column: MySQL compares a string with a number numerically, which matches on prefixes",
        )

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
