"""check_query: the static SQL guard's entry point."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.errors import SqlglotError

from mcp_server.sqlguard.analyzer import Analyzer
from mcp_server.sqlguard.errors import SqlDenied
from mcp_server.sqlguard.flows import Flow
from mcp_server.sqlguard.magnitude import check_magnitudes
from mcp_server.sqlguard.model import CLEAR, CheckedQuery, ColumnPolicy, OutputColumn, Schema, SourceColumn
from mcp_server.sqlguard.parsing import parse_statement, quiet_sqlglot
from mcp_server.sqlguard.schema import SchemaIndex
from mcp_server.sqlguard.scopes import Out, is_constant
from mcp_server.sqlguard.statements import check_read_only
from mcp_server.sqlguard.tokens import replace_tokens


def _clear(_: SourceColumn) -> ColumnPolicy:
    return CLEAR


def check_query(
    sql: str,
    *,
    dialect: str,
    schema: Schema | SchemaIndex,
    column_policy: Callable[[SourceColumn], ColumnPolicy] = _clear,
    resolve_token: Callable[[str], str | None] | None = None,
    max_length: int = 100_000,
    allow_functions: frozenset[str] = frozenset(),
) -> CheckedQuery:
    """Accept one read-only statement and describe its output columns, or raise SqlDenied.

    `schema` maps tables to their columns, or is an index of such a mapping built once (`SchemaIndex`).
    `column_policy` tells how each base column is protected; `allow_functions` are extra function names an
    operator allowed (lower case). Raises ValueError for an unsupported dialect. Exceptions raised by the
    callbacks propagate; callers must treat any exception as a refusal.
    """
    with quiet_sqlglot():
        try:
            return _check(sql, dialect, schema, column_policy, resolve_token, max_length, allow_functions)
        except RecursionError:
            raise SqlDenied("unsupported", "the query is nested too deeply") from None
        except SqlglotError:
            raise SqlDenied("unsupported", "the query could not be analysed") from None


def _check(
    sql: str,
    dialect: str,
    schema: Schema | SchemaIndex,
    column_policy: Callable[[SourceColumn], ColumnPolicy],
    resolve_token: Callable[[str], str | None] | None,
    max_length: int,
    allow_functions: frozenset[str],
) -> CheckedQuery:
    parsed = parse_statement(sql, dialect, max_length)
    root = parsed.statement
    check_read_only(root)
    index = schema if isinstance(schema, SchemaIndex) else SchemaIndex(schema)
    analyzer = Analyzer(index, dialect, column_policy, frozenset(f.lower() for f in allow_functions))
    outs = analyzer.analyse(root)
    if dialect == "postgres":  # the engine with numbers of any size (MariaDB's have 65 digits, SQLite's 19)
        check_magnitudes(root)
    outs = _order_taint(analyzer, outs)
    sort_keys: tuple[tuple[int, bool], ...] = ()
    window: tuple[int, int | None] = (0, None)
    grouped = analyzer.predicates.grouped_restricted and parsed.explain is None  # a plan's lines keep their order
    if grouped:
        window, kept = _take_root_window(root)
        if analyzer.limits > kept:
            raise SqlDenied(
                "predicate_policy",
                "LIMIT, OFFSET and FETCH are allowed only at the top of a query that groups by a restricted column:"
                " the database sorts the groups by its values and breaks ties in that order, so the rows a limit"
                " keeps inside the query would tell it",
            )
        sort_keys = _sort_keys(root, outs)
    params = replace_tokens(root, resolve_token, analyzer.predicates.accepted_tokens)
    if params and parsed.explain is not None:
        raise SqlDenied(
            "token_use", "pseudonym tokens cannot be used in EXPLAIN: the plan would show the values they stand for"
        )
    if dialect == "postgres":
        _escape_backslash_strings(root)
    if parsed.explain is not None:
        columns = [OutputColumn(name, frozenset(), "unknown") for name in parsed.explain.columns]
    else:
        columns = [OutputColumn(o.name, o.flow.sources, o.flow.kind, o.flow.direct) for o in outs]
    return CheckedQuery(
        expression=root,
        params=params,
        columns=columns,
        tables=frozenset(analyzer.tables),
        dialect=dialect,
        explain_prefix=parsed.explain.prefix if parsed.explain is not None else None,
        ordered=parsed.explain is not None or _ordered(root),
        value_ordered=grouped,
        sort_keys=sort_keys,
        row_window=window,
        membership_tests=analyzer.predicates.membership_tests,
    )


def _order_taint(analyzer: Analyzer, outs: list[Out]) -> list[Out]:
    """Values assembled or picked in an order the database chose (string_agg, group_concat, first_value, lag,
    row_number without ORDER BY of their own) may follow the restricted columns of the rows: grouping by one sorts
    the rows, an index on one orders a scan, a sort breaks ties by the rows' layout. Such a value is masked as
    derived from them, and may decide nothing."""
    arbitrary = analyzer.predicates.arbitrary_decisions or any(o.flow.arbitrary for o in outs)
    if not arbitrary:
        return outs
    # the database's order may follow any column of the rows it sorts (a sort breaks ties by their layout), not
    # only the columns the query names: every restricted column of the tables read counts
    stored = {SourceColumn(table, column) for table in analyzer.tables for column in analyzer.schema.columns[table]}
    seen = frozenset(analyzer.restricted_seen | {s for s in stored if analyzer.column(s).restricted})
    if not seen:
        return outs
    if analyzer.predicates.arbitrary_decisions:
        clause = analyzer.predicates.arbitrary_decisions[0]
        raise SqlDenied(
            "predicate_policy",
            f"a value assembled in the database's order (an aggregate or window function without ORDER BY) is used"
            f" in {clause} while the query reads restricted columns; add ORDER BY inside the function",
        )
    return [
        Out(o.name, Flow(o.flow.sources | seen, "value", False), o.keys, o.ident) if o.flow.arbitrary else o
        for o in outs
    ]


def _take_root_window(root: exp.Expr) -> tuple[tuple[int, int | None], int]:
    """The top-level LIMIT / OFFSET as (offset, limit), removed from the tree so that the caller applies them
    after its own sort; and how many such clauses there were."""
    node = root
    while isinstance(node, exp.Subquery) and node.args.get("limit") is None and node.args.get("offset") is None:
        node = node.this
    offset, limit, found = 0, None, 0
    for key in ("limit", "offset"):
        clause = node.args.get(key)
        if clause is None:
            continue
        found += 1
        amount = clause.args.get("expression") if isinstance(clause, (exp.Limit, exp.Offset)) else None
        if isinstance(clause, exp.Fetch):
            amount = clause.args.get("count")
        if not (isinstance(amount, exp.Literal) and not amount.is_string and amount.name.isdigit()):
            raise SqlDenied("unsupported", "LIMIT and OFFSET of this query must be whole numbers")
        if key == "limit":
            limit = int(amount.name)
        else:
            offset = int(amount.name)
        node.set(key, None)
    return (offset, limit), found


def _sort_keys(root: exp.Expr, outs: list[Out]) -> tuple[tuple[int, bool], ...]:
    """The top-level ORDER BY of a query grouped by a restricted column, as (result column, descending) pairs
    that Maskwire sorts by itself, ties in its canonical order. The database's own order, ties included, follows
    the protected values, so an ORDER BY key must be a column of the result (by position or name); constants
    add nothing."""
    node = root
    while isinstance(node, exp.Subquery) and node.args.get("order") is None:
        node = node.this
    order = node.args.get("order")
    if not isinstance(order, exp.Order):
        return ()
    projections = node.expressions if isinstance(node, exp.Select) else []
    keys: list[tuple[int, bool]] = []
    for ordered in order.expressions:
        key = ordered.this
        index = _result_column(key, outs, projections)
        if index is None:
            if is_constant(key):
                continue
            raise SqlDenied(
                "predicate_policy",
                "in a query that groups by a restricted column, ORDER BY may only name columns of the result"
                " (by position or name): Maskwire sorts such a result itself",
            )
        keys.append((index, bool(ordered.args.get("desc"))))
    return tuple(keys)


def _result_column(key: exp.Expr, outs: list[Out], projections: list[exp.Expr]) -> int | None:
    if isinstance(key, exp.Literal) and not key.is_string and key.name.isdigit():
        position = int(key.name)
        return position - 1 if 1 <= position <= len(outs) else None
    if isinstance(key, exp.Column) and not key.table:
        matches = [i for i, o in enumerate(outs) if key.name.lower() in o.keys]
        return matches[0] if len(matches) == 1 else None
    text = key.sql()
    for i, projection in enumerate(projections):
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if inner.sql() == text:
            return i
    return None


def _ordered(root: exp.Expr) -> bool:
    """A top-level ORDER BY decides the order of the rows."""
    node = root
    while isinstance(node, exp.Subquery) and node.args.get("order") is None:
        node = node.this
    return node.args.get("order") is not None


def _escape_backslash_strings(root: exp.Expr) -> None:
    """Render PostgreSQL strings holding a backslash as E'...' strings (backslash escaped).

    'a\\' means a-backslash only with standard_conforming_strings=on; E'a\\\\' means it in every
    configuration, so a server with the old setting cannot read the rest of the statement as string text.
    """
    for literal in list(root.find_all(exp.Literal)):
        if literal.is_string and "\\" in literal.name:
            literal.replace(exp.ByteString(this=literal.name))
