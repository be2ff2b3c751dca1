"""How large a value a PostgreSQL query can build, and how much work one row's expressions take, bounded before
it runs.

PostgreSQL's `numeric` has up to 131,072 digits, and one multiplication, division or power of such numbers runs
without checking for a cancel: a row whose expression multiplies numbers of 60,000 digits a thousand times
runs for a minute whatever the statement timeout says (docs/security.md, "What the engine walls do not stop").
Cancels are checked between rows, so what is bounded is the work inside one expression.

Every expression gets an upper bound on the digits of its value (`Num`), from its parts: a literal's digits, a
string's length (a string can be cast to a number), `DATA_DIGITS` for a stored value (the operator's data),
the sum of the operands' digits for a product, the exponent times the base's digits for a power, and so on,
through CTEs, derived tables and subqueries; a recursive CTE whose recursive step multiplies its own values (or
adds two of them) builds numbers without bound. An operation whose cost grows faster than its operands (`*`,
`/`, `%`, powers, `exp`, `ln`, `sqrt`, `width_bucket`, variances) is refused when it may work on, or produce,
more than `MAX_DIGITS` digits. Integers and floating-point numbers (`::float8`, `::bigint`) cost the same at
any value, so casting to them ends the bound.

The same bound is the length of text, bytes and arrays, and two more kinds of work are bounded with it
(`_Work`): a search whose cost is the product of two lengths (`strpos`, `replace`, `split_part`, `translate`,
containment and overlap of arrays and jsonb) may take at most `MAX_WORK` steps, and so may all the passes of a
statement's expressions over the values they read (hashing, comparing, copying a built value once per use).
A value aggregated from rows (`string_agg`, `array_agg`, `jsonb_agg`, `ARRAY(subquery)`) has no bound: it is
built row by row, which a cancel does interrupt, but no search may run on it, and at most
`MAX_UNBOUNDED_PASSES` other operations may read it. Text repeated or padded a number of times the statement
does not bound is refused: `repeat` builds up to 1 GB in one call. The work is bounded in a second pass in which
a stored value has `STORED_CHARS` characters rather than `DATA_DIGITS` digits: a stored text made long (repeated,
rewritten) is as long as what it is made from.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass, replace

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope, walk_in_scope

from mcp_server.sqlguard.errors import SqlDenied

MAX_DIGITS = 1_000
"""The most digits an operation that costs more than its operands may work on: a product of two such numbers
takes microseconds; PostgreSQL shows at most 1,000 decimal places."""
DATA_DIGITS = 40
"""Digits assumed for a stored value (numeric(38) and bigint fit): the data is the operator's."""
STORED_CHARS = 5_000
"""Characters assumed for a stored value when bounding work (a second pass, `_Bounds(STORED_CHARS)`): a stored
text repeated, padded or rewritten is as long as what it is built from. One stored value searched for another
(`strpos(t.doc, u.word)`) stays within `MAX_WORK`; longer stored values are the operator's data."""
UNBOUNDED = 1 << 40
ROWS_DIGITS = 20
"""Digits an aggregate adds over its rows (a sum of 10^20 values)."""
FLOAT_DIGITS = 310
"""A double-precision value written as a numeric (1e308 has 309 digits)."""


@dataclass(frozen=True)
class Num:
    digits: int
    exact: bool = True
    """numeric (or a type not known): arithmetic costs with its digits. False: an integer or a float."""
    floating: bool = False
    """A float: arithmetic with a float is done in floats (PostgreSQL casts a numeric to float8, never back)."""
    recursive: bool = False
    """Computed from a recursive CTE's own values, in its recursive step."""
    grows: bool = False
    """Grows at every recursive step: a product of the CTE's own values, or a sum of two of them."""


FIXED = Num(20, exact=False)
FLOAT = Num(FLOAT_DIGITS, exact=False, floating=True)
COSTLY = (exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.Pow, exp.Exp, exp.Ln, exp.Log, exp.Sqrt, exp.WidthBucket)
VARIANCES = (exp.Stddev, exp.StddevPop, exp.StddevSamp, exp.Variance, exp.VariancePop)
FIXED_TYPES = {"TINYINT", "SMALLINT", "INT", "BIGINT", "BOOLEAN", "DATE", "TIMESTAMP", "TIMESTAMPTZ", "TIME"}
FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}
COSTLY_ALL = (*COSTLY, *VARIANCES, exp.Avg, exp.PercentileCont)
SIZES = (exp.ArraySize, exp.BitLength)
HASHES = (exp.MD5, exp.MD5Digest, exp.SHA, exp.SHA2, exp.SHA2Digest)
UNBOUNDED_TEXT = (
    exp.GroupConcat,
    exp.ArrayAgg,
    exp.JSONArrayAgg,
    exp.ArrayConcatAgg,
    exp.JSONObjectAgg,
    exp.JSONBObjectAgg,
)
AGGREGATED_BY_NAME = frozenset({"jsonb_agg", "json_object_agg", "jsonb_object_agg", "xmlagg"})
"""Aggregates sqlglot does not know: they build a collection of any size, row by row."""
BUILT_BY_NAME = frozenset({"array_fill"})
"""Functions sqlglot does not know that build a value of any size in one call."""
MAX_WORK = 100_000_000
"""The most steps (characters or elements compared, hashed or copied) a statement's expressions may take in one
row: PostgreSQL checks for a cancel between rows, not inside one function. 10^8 took 0.07 s in `strpos` and
0.46 s in `&&` of two arrays, on PostgreSQL 15."""
MAX_UNBOUNDED_PASSES = 2
"""Operations that may read a value without a bound (an aggregate read twice: `length(s)`, `md5(s)`)."""
SEARCHES = (
    exp.StrPosition,
    exp.StringToArray,
    exp.JSONBContainsAllTopKeys,
    exp.JSONBContainsAnyTopKeys,
    exp.Replace,
    exp.SplitPart,
    exp.Translate,
    exp.ArrayOverlaps,
    exp.ArrayContainsAll,
    exp.ArrayContainedBy,
    exp.Distance,
    exp.Trim,
    exp.Operator,
    exp.StrToTime,
    exp.StrToDate,
    exp.ToNumber,
    exp.TimeToStr,
)
"""Operations whose cost is the product of their first two operands' lengths (a needle tried at every place; the
distance of two paths or polygons, point against point; a trim's text against its set of characters; a value
against its format in `to_timestamp`, `to_date`, `to_number`, `to_char`; an operator named with OPERATOR(), whose
cost the guard does not know: polygon `~=` compares point lists point against point)."""
SEARCHES_BY_NAME = frozenset({"string_to_table"})
OBJECT_BUILDERS = frozenset({"jsonb_build_object", "json_build_object", "jsonb_object", "json_object"})
"""Functions that sort and de-duplicate the keys they are given in one call: of `VARIADIC ARRAY(subquery)`, keys
without a bound."""
COPIED_CASTS = {
    *exp.DataType.TEXT_TYPES,
    exp.DataType.Type.VARBINARY,
    exp.DataType.Type.BINARY,
    exp.DataType.Type.DECIMAL,  # a number's digits are bounded by the first pass
    *(t for t in exp.DataType.Type if t.name in FIXED_TYPES | FLOAT_TYPES),
}
"""Types a value without a bound may be cast to: copied, or read as a number."""
LINEAR_CASTS = {
    *COPIED_CASTS,
    exp.DataType.Type.JSON,
    exp.DataType.Type.JSONB,
    exp.DataType.Type.ARRAY,
    exp.DataType.Type.UUID,
    exp.DataType.Type.INTERVAL,
    exp.DataType.Type.INET,
}
"""Types whose parser reads a text in one pass. Any other (xml, ranges and multiranges, tsquery, polygons and the
other geometric and extension types) may cost more than the text's length (attributes checked against each
other, ranges sorted and merged, a tsquery's operands): bounded as the square of it."""
JOINED = (
    exp.Concat,
    exp.ConcatWs,
    exp.Format,
    exp.Overlay,
    exp.Stuff,
    exp.ToChar,
    exp.Anonymous,
    exp.Array,
    exp.ArrayConcat,
)
"""Operations whose value is as long as their operands together (a function sqlglot does not know, too)."""
BUILDS = (exp.Repeat, exp.Pad, exp.Space, exp.Format, exp.DPipe, exp.Concat, exp.ConcatWs, exp.Array, exp.ArrayConcat)
SCOPES = (exp.CTE, exp.Subquery, exp.Lateral, exp.SetOperation, exp.Values, exp.Unnest)
LONG_LITERAL = 1_000
"""A statement of one scope, without any of the operations above, reads nothing longer than its literals."""


def check_magnitudes(root: exp.Expr) -> None:
    """Raise SqlDenied when an operation of the statement may work on a number of more than MAX_DIGITS digits, or
    its expressions may take more than MAX_WORK steps in one row."""
    if not any(_may_be_costly(node) for node in root.walk()):
        return  # most statements: nothing to bound, and building the scopes costs more than the rest of the check
    scopes = list(traverse_scope(root))
    for bounds in (_Bounds(DATA_DIGITS, digits=True), _Bounds(STORED_CHARS)):
        for scope in scopes:
            bounds.visit(scope)


def _may_be_costly(node: exp.Expr) -> bool:
    """Whether `node` may compute with large numbers, search, build a long value or pass one on to another scope
    (where it may be read many times)."""
    if isinstance(node, (*COSTLY_ALL, *SEARCHES, *BUILDS, *UNBOUNDED_TEXT, *SCOPES)):
        return True
    if isinstance(node, exp.Anonymous):
        return node.name.lower() in AGGREGATED_BY_NAME | BUILT_BY_NAME | SEARCHES_BY_NAME
    if isinstance(node, exp.Select):
        return node.parent is not None  # a subquery
    if isinstance(node, exp.Table):
        return _is_function_table(node)
    return isinstance(node, exp.Literal) and node.is_string and len(node.name) > LONG_LITERAL


class _Bounds:
    """The bounds of a statement's values, with `stored` digits or characters for a stored value. With `digits`,
    the digits of costly operations are bounded too (a stored number has `DATA_DIGITS`), and a difference counts
    as a search (`jsonb - text[]` removes every key of the array from the object; of two numbers it is cheap at
    the digits this pass allows)."""

    def __init__(self, stored: int, *, digits: bool = False) -> None:
        self.stored = stored
        self.digits = digits
        self.outputs: dict[int, list[tuple[str, Num]]] = {}
        """Per scope (by its expression's id): its output columns' names and bounds."""
        self._resolving: set[int] = set()
        self._sizes: dict[tuple[int, int], Num] = {}
        self._work = _Work(differences=digits)

    def visit(self, scope: Scope) -> None:
        node = scope.expression
        if isinstance(node, exp.SetOperation):
            self.outputs[id(node)] = self._set_operation(scope)
            return
        for inner in walk_in_scope(node):
            if isinstance(inner, (exp.Func, exp.Binary, exp.Unary, exp.Predicate)):
                self.size(inner, scope)  # each operation's cost and work, wherever it is (WHERE, ORDER BY, ...)
        if isinstance(node, exp.Select):
            outputs = [(s.alias_or_name.lower(), self.size(s, scope)) for s in node.expressions]
        elif isinstance(node, exp.Values):
            rows = [row.expressions if isinstance(row, exp.Tuple) else [row] for row in node.expressions]
            widest = max((len(r) for r in rows), default=0)
            outputs = [
                (f"column{i + 1}", _widest(self.size(r[i], scope) for r in rows if i < len(r))) for i in range(widest)
            ]
        else:  # a table function (unnest, LATERAL ...): its values are as wide as its widest argument
            outputs = [("", self._function_values(node, scope))]
        self.outputs[id(node)] = _renamed(node, outputs)

    def _set_operation(self, scope: Scope) -> list[tuple[str, Num]]:
        """Position by position, the widest branch; a recursive step that grows its own values: unbounded."""
        branches = [self.outputs.get(id(s.expression), []) for s in scope.set_operation_scopes]
        if not branches:
            return []
        names = [name for name, _ in _renamed(scope.expression, branches[0])]
        result = []
        for i, name in enumerate(names):
            column = [b[i][1] for b in branches if i < len(b)]
            if any(c.grows for c in column):
                result.append((name, Num(UNBOUNDED)))
            else:
                recursive_step = _is_recursive(scope)
                grown = _widest(column)
                result.append((name, replace(grown, digits=grown.digits + ROWS_DIGITS) if recursive_step else grown))
        return result

    def size(self, node: exp.Expr, scope: Scope) -> Num:
        """The bound of `node`'s value, worked out once per node (an operation's operands are asked for twice: for
        its value and for its cost)."""
        key = (id(node), id(scope))
        known = self._sizes.get(key)
        if known is not None:
            return known
        found = self._size(node, scope)
        cost = _cost(node, found, [self.size(a, scope) for a in _operands(node)]) if self.digits else 0
        if cost > MAX_DIGITS:
            raise SqlDenied(
                "unsupported",
                f"this query can compute with numbers of more than {MAX_DIGITS:,} digits ({_shown(node)} of a value"
                " that large): PostgreSQL cannot cancel such a computation once it has started. Cast to float8 or"
                " bigint where exact digits are not needed, or use numeric(p, s) with a precision of at most"
                f" {MAX_DIGITS:,}",
            )
        self._work.add(node, found, [self.size(c, scope) for c in _read(node)])
        self._sizes[key] = found
        return found

    def _size(self, node: exp.Expr, scope: Scope) -> Num:
        if isinstance(node, exp.Alias):
            return self.size(node.this, scope)
        if isinstance(node, exp.Literal):
            return _literal(node)
        if isinstance(node, (exp.Null, exp.Boolean)):
            return Num(1, exact=False)
        if isinstance(node, exp.Column):
            return self._column(node, scope)
        if isinstance(node, exp.Subquery) or (isinstance(node, exp.Select) and node is not scope.expression):
            inner = node.this if isinstance(node, exp.Subquery) else node
            return _widest(n for _, n in self.outputs.get(id(inner), []))
        if isinstance(node, (exp.Predicate, exp.Not, exp.Exists, exp.Count, exp.Ascii, exp.Length, *SIZES)):
            self._children(node, scope)  # their operands are still bounded
            return Num(1, exact=False)
        if isinstance(node, HASHES):
            self._children(node, scope)
            return Num(128, exact=True)  # a digest's hex text (sha512: 128 characters)
        if isinstance(node, (exp.Cast, exp.TryCast)):
            return self._cast(node, scope)
        if isinstance(node, (exp.Window, exp.Paren, exp.Neg, exp.Abs, exp.Ceil, exp.Floor, exp.Sign, exp.Min, exp.Max)):
            return _widest(self._children(node, scope))
        if isinstance(node, (exp.Exp, exp.Pow)):  # before Binary: a power is one
            return self._power(node, scope)
        if isinstance(node, exp.Binary):
            return self._binary(node, scope)
        if isinstance(node, (exp.Sum, exp.Avg, exp.PercentileCont, *VARIANCES)):
            value = self.size(node.this, scope) if node.this is not None else Num(0)
            return _from([value], value.digits * (2 if isinstance(node, VARIANCES) else 1) + 2 * ROWS_DIGITS)
        if isinstance(node, (exp.Round, exp.Trunc)):
            value = self.size(node.this, scope)
            places = node.args.get("decimals")
            extra = _whole_number(places) if places is not None else 0
            return _from([value], UNBOUNDED if extra is None else value.digits + extra)
        if isinstance(node, (exp.Repeat, exp.Pad, exp.Space)):
            return self._built_text(node, scope)
        if isinstance(node, exp.Anonymous) and node.name.lower() in BUILT_BY_NAME:
            raise _unbounded_build(node, "dimensions")
        if isinstance(node, UNBOUNDED_TEXT) or _aggregated_by_name(node):
            self._children(node, scope)
            return Num(UNBOUNDED)
        if isinstance(node, exp.Array) and any(isinstance(c, (exp.Select, exp.Subquery)) for c in node.expressions):
            return Num(UNBOUNDED)  # ARRAY(subquery): as many elements as rows
        if isinstance(node, (exp.Replace, exp.RegexpReplace)):
            parts = self._children(node, scope)
            return _from(parts, parts[0].digits * max(1, *(p.digits for p in parts[1:])), exact=True)
        if isinstance(node, exp.Format):
            return self._format(node, scope)
        if isinstance(node, JOINED):
            parts = self._children(node, scope)
            return _from(parts, sum(p.digits for p in parts), exact=True, any_grows=True)
        return _widest(self._children(node, scope))

    def _children(self, node: exp.Expr, scope: Scope) -> list[Num]:
        return [self.size(child, scope) for child in node.iter_expressions() if not isinstance(child, exp.DataType)]

    def _binary(self, node: exp.Binary, scope: Scope) -> Num:
        left, right = self.size(node.left, scope), self.size(node.right, scope)
        parts = [left, right]
        if isinstance(node, (exp.Add, exp.Sub)):
            return _from(parts, max(left.digits, right.digits) + 1, pairs_grow=True)
        if isinstance(node, exp.Mul):
            return _from(parts, left.digits + right.digits, any_grows=True)
        if isinstance(node, exp.Div):
            return _from(parts, left.digits + right.digits + ROWS_DIGITS, any_grows=True)
        if isinstance(node, (exp.IntDiv, exp.Mod)):
            return _from(parts, max(left.digits, right.digits), any_grows=True)
        if isinstance(node, exp.DPipe):
            # text: a recursive step that appends anything to its own value grows it at every step
            return _from(parts, left.digits + right.digits, exact=True, any_grows=True)
        return _from(parts, max(left.digits, right.digits))

    def _power(self, node: exp.Exp | exp.Pow, scope: Scope) -> Num:
        if isinstance(node, exp.Exp):
            base, exponent_node = Num(1, exact=True), node.this
        else:
            base, exponent_node = self.size(node.this, scope), node.expression
        exponent = self.size(exponent_node, scope)
        if base.floating or exponent.floating or not (base.exact or exponent.exact):
            return FLOAT  # integer or float operands: a float power
        power = _constant(exponent_node)
        if power is None:
            return _from([base, exponent], UNBOUNDED, exact=True, any_grows=True)
        times = min(float(abs(power)), float(UNBOUNDED))
        if isinstance(node, exp.Exp):
            digits = times / 2.3  # e^x has x / ln(10) digits
        else:
            known = _constant(node.this)
            if known is not None:  # a constant base: the result's digits, and PostgreSQL's places for it
                magnitude = float(abs(known).log10()) if known else 0.0
                exponent_of_known = known.as_tuple().exponent
                places = max(-exponent_of_known, 0) if isinstance(exponent_of_known, int) else 0
                # 16 significant digits at least, the base's places, one more place per digit below 1
                digits = abs(times * magnitude) + max(16, places) + 2
            else:
                digits = times * base.digits
        return _from([base, exponent], int(min(digits, UNBOUNDED)) + ROWS_DIGITS, exact=True, any_grows=True)

    def _cast(self, node: exp.Cast | exp.TryCast, scope: Scope) -> Num:
        value = self.size(node.this, scope)
        target = node.to
        name = target.this.name if isinstance(target.this, exp.DataType.Type) else ""
        if name in FIXED_TYPES:  # integers, flags, dates: arithmetic costs the same at any value
            return FIXED
        if name in FLOAT_TYPES:
            return FLOAT
        if name == "DECIMAL" and target.expressions:
            precision = _whole_number(target.expressions[0].this)
            return _from([value], min(value.digits, precision) if precision is not None else value.digits, exact=True)
        return _from([value], value.digits, exact=True)

    def _built_text(self, node: exp.Expr, scope: Scope) -> Num:
        parts = self._children(node, scope)
        if isinstance(node, exp.Space):
            count = node.this
        else:
            count = node.args.get("times") if isinstance(node, exp.Repeat) else node.expression
        times = _count_bound(count)
        if times is None:
            raise _unbounded_build(node, "a count or length")
        if isinstance(node, exp.Repeat):
            return _from(parts[:1], parts[0].digits * times, exact=True, any_grows=True)
        return Num(times, exact=True)

    def _format(self, node: exp.Format, scope: Scope) -> Num:
        """`format`: its arguments, and the widths its format string pads them to (`%500s`, `%1$-20s`)."""
        parts = self._children(node, scope)
        pattern = node.this
        if not (isinstance(pattern, exp.Literal) and pattern.is_string) or "*" in pattern.name:
            raise _unbounded_build(node, "a format or width")
        widths = sum(int(w) for w in re.findall(r"%(?:\d+\$)?-?(\d+)", pattern.name))
        return _from(parts, sum(p.digits for p in parts) + widths, exact=True, any_grows=True)

    def _column(self, node: exp.Column, scope: Scope | None) -> Num:
        name = node.name.lower()
        while scope is not None:
            sources = scope.selected_sources
            if node.table:
                picked = [sources[node.table][1]] if node.table in sources else []
            else:
                picked = [source for _, source in sources.values()]
            for source in picked:
                if isinstance(source, Scope):
                    found = self._output(source, name)
                    if found is not None:
                        itself = _self_reference(scope, source)
                        return Num(found.digits, found.exact, found.floating, found.recursive or itself, found.grows)
            if picked:
                # A stored table's column: stored data. A table function (generate_series, jsonb_array_elements,
                # string_to_table...): as wide as its arguments. A derived source whose outputs do not name it
                # (SELECT *, a recursive CTE's first branch): its widest output.
                values = [
                    self._function_values(s.this, scope)
                    for s in picked
                    if isinstance(s, exp.Table) and _is_function_table(s) and (node.table or _names_column(s, name))
                ]
                for source in picked:
                    if isinstance(source, Scope):
                        widest = _widest(n for _, n in self.outputs.get(id(source.expression), []))
                        itself = _self_reference(scope, source)
                        values.append(replace(widest, recursive=widest.recursive or itself))
                widest = _widest(values)
                return replace(widest, digits=max(widest.digits, self.stored), exact=True, floating=False)
            scope = scope.parent  # a correlated reference
        return Num(self.stored)

    def _function_values(self, node: exp.Expr, scope: Scope) -> Num:
        """The values a table function returns: as wide as its widest argument (a value unnested, a series'
        bounds, the elements of a JSON document, the pieces of a text)."""
        while isinstance(node, exp.Lateral):
            node = node.this
        if id(node) in self._resolving:  # an argument naming the function's own column: as wide as anything
            return Num(UNBOUNDED)
        self._resolving.add(id(node))
        try:
            return replace(_widest(self._children(node, scope)), exact=True, floating=False)
        finally:
            self._resolving.discard(id(node))

    def _output(self, source: Scope, name: str) -> Num | None:
        for output, num in self.outputs.get(id(source.expression), []):
            if output == name:
                return num
        return None


class _Work:
    """The steps a statement's operations take in one row, counted once per operation (`MAX_WORK`)."""

    def __init__(self, *, differences: bool) -> None:
        self.differences = differences
        self.steps = 0
        self.unbounded = 0

    def add(self, node: exp.Expr, result: Num, operands: list[Num]) -> None:
        if not _is_operation(node):
            return
        pair = self._pair(node, operands)
        if pair is not None:
            first, second = pair
            if first * second > MAX_WORK:
                raise SqlDenied(
                    "unsupported",
                    f"this query's {_shown(node)} works on {_length(first)} against {_length(second)}: it may take"
                    f" more than {MAX_WORK:,} steps, and PostgreSQL cannot cancel it once it has started. Search"
                    " or parse the values before aggregating or building them (bool_or(x LIKE ...), x = ANY(...))",
                )
            steps = first * second
        else:
            # A value built row by row (an aggregate, ARRAY(subquery)) is built between cancel checks.
            by_rows = isinstance(node, exp.AggFunc) or _aggregated_by_name(node)
            by_rows = by_rows or (isinstance(node, exp.Array) and result.digits >= UNBOUNDED)
            steps = max([0 if by_rows else result.digits, *(o.digits for o in operands)])
        if steps >= UNBOUNDED:
            self.unbounded += 1
            if self.unbounded > MAX_UNBOUNDED_PASSES:
                raise SqlDenied(
                    "unsupported",
                    "this query reads values without a bound (aggregated from rows, or grown at every step of a"
                    " recursive CTE) in more than"
                    f" {MAX_UNBOUNDED_PASSES} operations ({_shown(node)} is one more): each"
                    " runs on the whole value, and PostgreSQL cannot cancel one once it has started. Compute from"
                    " the rows before aggregating them",
                )
            return
        self.steps += steps
        if self.steps > MAX_WORK:
            raise SqlDenied(
                "unsupported",
                f"this query's operations may take more than {MAX_WORK:,} steps in one row ({_shown(node)} reads"
                f" {_length(steps)}), and PostgreSQL cannot cancel one once it has started. Build shorter values,"
                " or read each one fewer times",
            )

    def _pair(self, node: exp.Expr, operands: list[Num]) -> tuple[int, int] | None:
        """The two lengths an operation's cost is the product of: a search's haystack and needle, a parsed
        value's length twice; None for an operation that costs what it reads."""
        if isinstance(node, (exp.Cast, exp.TryCast)) and operands and node.to.this not in COPIED_CASTS:
            value = operands[0].digits  # parsed into another type: in one call, and into some at more than its length
            if value >= UNBOUNDED or node.to.this not in LINEAR_CASTS:
                return value, value
        if _builds_object(node) and any(o.digits >= UNBOUNDED for o in operands):
            return UNBOUNDED, UNBOUNDED
        searches = isinstance(node, SEARCHES) or (
            isinstance(node, exp.Anonymous) and node.name.lower() in SEARCHES_BY_NAME
        )
        if (searches or (self.differences and isinstance(node, exp.Sub))) and len(operands) >= 2:
            return operands[0].digits, operands[1].digits
        return None


def _builds_object(node: exp.Expr) -> bool:
    return isinstance(node, exp.JSONObject) or (
        isinstance(node, exp.Anonymous) and node.name.lower() in OBJECT_BUILDERS
    )


def _aggregated_by_name(node: exp.Expr) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.lower() in AGGREGATED_BY_NAME


def _is_operation(node: exp.Expr) -> bool:
    """A function or operator: it reads its operands (a parenthesis, an alias, a column do not)."""
    return isinstance(node, (exp.Func, exp.Binary, exp.Unary, exp.Predicate)) and not isinstance(node, exp.Paren)


def _read(node: exp.Expr) -> list[exp.Expr]:
    """What an operation reads: its operands (types and orderings aside)."""
    if not _is_operation(node):
        return []
    return [c for c in node.iter_expressions() if not isinstance(c, (exp.DataType, exp.Order))]


def _length(n: int) -> str:
    return "a value without a bound" if n >= UNBOUNDED else f"a value of up to {n:,} characters or elements"


def _renamed(node: exp.Expr, outputs: list[tuple[str, Num]]) -> list[tuple[str, Num]]:
    """Outputs under the column names an alias gives them: `WITH r(n, v) AS (...)`, `(SELECT ...) AS d(a)`,
    `unnest(...) AS u(x)` (for each branch of a set operation, the names of the whole)."""
    owner = _set_root(node).parent
    while isinstance(owner, exp.Lateral):
        owner = owner.parent
    alias = owner.args.get("alias") if isinstance(owner, (exp.CTE, exp.Subquery, exp.Lateral)) else None
    if not isinstance(alias, exp.TableAlias):
        alias = node.args.get("alias") if isinstance(node.args.get("alias"), exp.TableAlias) else None
    if alias is None:
        return outputs
    names = [c.name.lower() for c in alias.columns]
    if not names and not isinstance(node, (exp.Select, exp.SetOperation, exp.Values)):
        names = [alias.name.lower()]  # unnest(...) AS u: its one column is u
    if not names:
        return outputs
    renamed = [(names[i] if i < len(names) else name, num) for i, (name, num) in enumerate(outputs)]
    if len(names) > len(outputs) and outputs:  # a table function's several columns: each as wide as its values
        renamed += [(name, outputs[0][1]) for name in names[len(outputs) :]]
    return renamed


def _is_function_table(source: object) -> bool:
    return isinstance(source, exp.Table) and isinstance(source.this, exp.Func)


def _names_column(source: exp.Table, name: str) -> bool:
    """A table function's alias names the column (`generate_series(1, n) g`, `... AS e(key, value)`); its
    arguments' own columns (`n`) come from the other sources."""
    alias = source.args.get("alias")
    if isinstance(alias, exp.TableAlias) and (alias.name or alias.columns):
        return name in {alias.name.lower(), *(c.name.lower() for c in alias.columns)}
    function = source.this  # no alias: PostgreSQL names its column after the function (json_each: key, value)
    called = function.name if isinstance(function, exp.Anonymous) else type(function).sql_name()
    return name in {called.lower(), "generate_series", "unnest", "value", "key"}


def _self_reference(scope: Scope, source: Scope) -> bool:
    """`source` is a branch of the set operation `scope` is the recursive step of (sqlglot gives a recursive
    CTE's reference to itself as its first branch)."""
    return source is not scope and _set_root(source.expression) is _set_root(scope.expression)


def _set_root(node: exp.Expr) -> exp.Expr:
    while isinstance(node.parent, exp.SetOperation):
        node = node.parent
    return node


def _is_recursive(scope: Scope) -> bool:
    cte = scope.expression.parent
    with_ = cte.parent if isinstance(cte, exp.CTE) else None
    return isinstance(with_, exp.With) and bool(with_.args.get("recursive"))


def _operands(node: exp.Expr) -> list[exp.Expr]:
    """The operands whose digits an operation's cost grows with."""
    if isinstance(node, (*COSTLY, *VARIANCES, exp.Avg, exp.PercentileCont)) and not isinstance(
        node, (exp.Exp, exp.Pow)
    ):
        return [c for c in node.iter_expressions() if not isinstance(c, (exp.DataType, exp.Order))]
    return []


def _cost(node: exp.Expr, result: Num, operands: list[Num]) -> int:
    """The digits an operation works with, for the operations that cost more than their operands' size."""
    if not isinstance(node, COSTLY_ALL) or not result.exact:
        return 0
    if isinstance(node, (exp.Exp, exp.Pow)):
        return result.digits
    if all(not o.exact for o in operands):
        return 0
    return max((o.digits for o in operands), default=0)


def _literal(node: exp.Literal) -> Num:
    if node.is_string:
        return Num(len(node.name), exact=True)
    try:
        value = decimal.Decimal(node.name)
    except decimal.InvalidOperation:
        return Num(len(node.name))
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    whole = max(len(digits) + exponent, 1)
    places = max(-exponent, 0)
    integer = exponent == 0 and "e" not in node.name.lower() and "." not in node.name and abs(value) < 2**63
    return Num(min(whole + places, UNBOUNDED), exact=not integer)


def _number(node: exp.Expr | None) -> float | None:
    """A literal number (signed), else None."""
    negative = False
    while isinstance(node, (exp.Neg, exp.Paren)):
        negative ^= isinstance(node, exp.Neg)
        node = node.this
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            value = float(node.name)
        except ValueError:
            return None
        return -value if negative else value
    return None


def _constant(node: exp.Expr | None) -> decimal.Decimal | None:
    """The value of an expression of literal numbers (`12 * 10`, `1 + 0.05 / 12`), else None."""
    while isinstance(node, (exp.Paren, exp.Cast)) and not (
        isinstance(node, exp.Cast) and node.to.this in exp.DataType.TEXT_TYPES
    ):
        node = node.this
    try:
        if isinstance(node, exp.Literal) and not node.is_string:
            return decimal.Decimal(node.name)
        if isinstance(node, exp.Neg):
            inner = _constant(node.this)
            return -inner if inner is not None else None
        if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
            left, right = _constant(node.left), _constant(node.right)
            if left is None or right is None or max(abs(left), abs(right)) > 10**30:
                return None
            with decimal.localcontext(decimal.Context(prec=40)):
                if isinstance(node, exp.Add):
                    return left + right
                if isinstance(node, exp.Sub):
                    return left - right
                if isinstance(node, exp.Mul):
                    return left * right
                return left / right if right else None
    except (decimal.InvalidOperation, ArithmeticError):
        return None
    return None


def _count_bound(node: exp.Expr | None) -> int | None:
    """An upper bound on a repeat count or pad length: a constant, `least` of one and anything, their sums, less a
    constant (`least(n, 8) + 2`); None when the statement does not bound it."""
    value = _constant(node)
    if value is not None:
        return int(min(value, decimal.Decimal(UNBOUNDED)))
    while isinstance(node, (exp.Paren, exp.Cast)):
        node = node.this
    if isinstance(node, exp.Least):
        bounds = [b for b in map(_count_bound, [node.this, *node.expressions]) if b is not None]
        return min(bounds) if bounds else None
    if isinstance(node, exp.Greatest):
        found = [_count_bound(n) for n in [node.this, *node.expressions]]
        known = [b for b in found if b is not None]
        return max(known) if len(known) == len(found) else None
    if isinstance(node, exp.Add):
        left, right = _count_bound(node.left), _count_bound(node.right)
        return None if left is None or right is None else min(left + right, UNBOUNDED)
    if isinstance(node, exp.Sub):  # less a constant: less a value only bounded above could be anything
        left, subtracted = _count_bound(node.left), _constant(node.right)
        if left is None or subtracted is None:
            return None
        return int(min(left - subtracted, decimal.Decimal(UNBOUNDED)))
    return None


def _unbounded_build(node: exp.Expr, what: str) -> SqlDenied:
    return SqlDenied(
        "unsupported",
        f"{_shown(node)} with {what} the query does not bound: PostgreSQL builds the whole value (up to 1 GB) in"
        " one call, which it cannot cancel. Bound it with least(): repeat(x, least(n, 1000)),"
        " lpad(x, least(n, 100), '0')",
    )


def _whole_number(node: exp.Expr | None) -> int | None:
    value = _number(node)
    return int(min(abs(value), UNBOUNDED)) if value is not None else None


def _widest(nums: object) -> Num:
    found = list(nums)  # type: ignore[call-overload]
    if not found:
        return Num(0, exact=False)
    return _from(found, max(n.digits for n in found))


def _from(
    parts: list[Num], digits: int, *, exact: bool | None = None, any_grows: bool = False, pairs_grow: bool = False
) -> Num:
    """A value computed from `parts`. In a recursive step it grows at every step when `any_grows` (a product,
    a power: any operand from the CTE's own values) or `pairs_grow` (a sum: two of them), or a part grows."""
    recursive = sum(p.recursive for p in parts)
    grows = any(p.grows for p in parts) or (any_grows and recursive > 0) or (pairs_grow and recursive > 1)
    floating = exact is None and any(p.floating for p in parts)
    if exact is None:
        exact = any(p.exact for p in parts) and not floating
    return Num(min(digits, UNBOUNDED), exact, floating, recursive > 0, grows)


def _shown(node: exp.Expr) -> str:
    names: dict[type[exp.Expr], str] = {
        exp.Mul: "a product",
        exp.Div: "a division",
        exp.IntDiv: "a division",
        exp.Mod: "a remainder",
        exp.Pow: "a power",
        exp.Exp: "EXP",
        exp.Ln: "LN",
        exp.Log: "LOG",
        exp.Sqrt: "SQRT",
        exp.WidthBucket: "WIDTH_BUCKET",
        exp.Avg: "AVG",
        exp.PercentileCont: "PERCENTILE_CONT",
    }
    return names.get(type(node), type(node).sql_name() if isinstance(node, exp.Func) else "an operation")
