"""check_query: the static SQL guard's entry point."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.errors import SqlglotError

from mcp_server.sqlguard.analyzer import Analyzer
from mcp_server.sqlguard.errors import SqlDenied
from mcp_server.sqlguard.flows import Flow
from mcp_server.sqlguard.model import CLEAR, CheckedQuery, ColumnPolicy, OutputColumn, Schema, SourceColumn
from mcp_server.sqlguard.parsing import parse_statement, quiet_sqlglot
from mcp_server.sqlguard.schema import SchemaIndex
from mcp_server.sqlguard.scopes import Out
from mcp_server.sqlguard.statements import check_read_only
from mcp_server.sqlguard.tokens import replace_tokens


def _clear(_: SourceColumn) -> ColumnPolicy:
    return CLEAR


def check_query(
    sql: str,
    *,
    dialect: str,
    schema: Schema,
    column_policy: Callable[[SourceColumn], ColumnPolicy] = _clear,
    resolve_token: Callable[[str], str | None] | None = None,
    max_length: int = 100_000,
    allow_functions: frozenset[str] = frozenset(),
) -> CheckedQuery:
    """Accept one read-only statement and describe its output columns, or raise SqlDenied.

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
    schema: Schema,
    column_policy: Callable[[SourceColumn], ColumnPolicy],
    resolve_token: Callable[[str], str | None] | None,
    max_length: int,
    allow_functions: frozenset[str],
) -> CheckedQuery:
    parsed = parse_statement(sql, dialect, max_length)
    root = parsed.statement
    check_read_only(root)
    analyzer = Analyzer(SchemaIndex(schema), dialect, column_policy, frozenset(f.lower() for f in allow_functions))
    outs = analyzer.analyse(root)
    outs = _order_taint(analyzer, outs)
    if analyzer.predicates.grouped_restricted and analyzer.unordered_limits:
        raise SqlDenied(
            "predicate_policy",
            "LIMIT, OFFSET or FETCH without ORDER BY in a query that groups by a restricted column: the database"
            " returns groups sorted by its values, so the rows a limit keeps would tell their order; add ORDER BY"
            " on clear columns or counts",
        )
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
        ordered=parsed.explain is None and _ordered(root),
        value_ordered=analyzer.predicates.grouped_restricted,
        membership_tests=analyzer.predicates.membership_tests,
    )


def _order_taint(analyzer: Analyzer, outs: list[Out]) -> list[Out]:
    """Values assembled or picked in an order the database chose (string_agg, group_concat, first_value, lag
    without ORDER BY of their own) may follow any restricted column the query reads: grouping by one sorts the
    rows, an index on one orders a scan. Such a value is masked as derived from those columns, and may decide
    nothing."""
    seen = frozenset(analyzer.restricted_seen)
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
