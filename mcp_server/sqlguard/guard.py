"""check_query: the static SQL guard's entry point."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.errors import SqlglotError

from mcp_server.sqlguard.analyzer import Analyzer
from mcp_server.sqlguard.errors import SqlDenied
from mcp_server.sqlguard.model import CheckedQuery, OutputColumn, PredicateMode, Schema, SourceColumn
from mcp_server.sqlguard.parsing import parse_statement, quiet_sqlglot
from mcp_server.sqlguard.schema import SchemaIndex
from mcp_server.sqlguard.statements import check_read_only
from mcp_server.sqlguard.tokens import replace_tokens


def _any(_: SourceColumn) -> PredicateMode:
    return "any"


def check_query(
    sql: str,
    *,
    dialect: str,
    schema: Schema,
    predicate_mode: Callable[[SourceColumn], PredicateMode] = _any,
    resolve_token: Callable[[str], str | None] | None = None,
    max_length: int = 100_000,
) -> CheckedQuery:
    """Accept one read-only statement and describe its output columns, or raise SqlDenied.

    Raises ValueError for an unsupported dialect. Exceptions raised by the callbacks propagate; callers
    must treat any exception as a refusal.
    """
    with quiet_sqlglot():
        try:
            return _check(sql, dialect, schema, predicate_mode, resolve_token, max_length)
        except RecursionError:
            raise SqlDenied("unsupported", "the query is nested too deeply") from None
        except SqlglotError:
            raise SqlDenied("unsupported", "the query could not be analysed") from None


def _check(
    sql: str,
    dialect: str,
    schema: Schema,
    predicate_mode: Callable[[SourceColumn], PredicateMode],
    resolve_token: Callable[[str], str | None] | None,
    max_length: int,
) -> CheckedQuery:
    parsed = parse_statement(sql, dialect, max_length)
    root = parsed.statement
    check_read_only(root)
    analyzer = Analyzer(SchemaIndex(schema), dialect, predicate_mode)
    outs = analyzer.analyse(root)
    params = replace_tokens(root, resolve_token)
    if params and parsed.explain is not None:
        raise SqlDenied(
            "token_use", "pseudonym tokens cannot be used in EXPLAIN: the plan would show the values they stand for"
        )
    if dialect == "postgres":
        _escape_backslash_strings(root)
    if parsed.explain is not None:
        columns = [OutputColumn(name, frozenset(), "unknown") for name in parsed.explain.columns]
    else:
        columns = [OutputColumn(o.name, o.flow.sources, o.flow.kind) for o in outs]
    return CheckedQuery(
        expression=root,
        params=params,
        columns=columns,
        tables=frozenset(analyzer.tables),
        dialect=dialect,
        explain_prefix=parsed.explain.prefix if parsed.explain is not None else None,
    )


def _escape_backslash_strings(root: exp.Expr) -> None:
    """Render PostgreSQL strings holding a backslash as E'...' strings (backslash escaped).

    'a\\' means a-backslash only with standard_conforming_strings=on; E'a\\\\' means it in every
    configuration, so a server with the old setting cannot read the rest of the statement as string text.
    """
    for literal in list(root.find_all(exp.Literal)):
        if literal.is_string and "\\" in literal.name:
            literal.replace(exp.ByteString(this=literal.name))
