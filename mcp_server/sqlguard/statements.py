"""Read-only shape of a statement: an allow-list at the root and a deny-list for every node.

The root must be a query (SELECT, set operation, VALUES, parenthesised query). Then every node of the
tree is inspected: statements that write or change state (anywhere, e.g. a data-modifying CTE),
SELECT ... INTO, locking clauses, optimizer hints, user variables and bind parameters, sqlglot
Commands (text it could not parse), and the dangerous functions of `functions.py` are refused.
Query-level nodes may only carry clauses the analyser understands (clause allow-lists below).
"""

from __future__ import annotations

import re

from sqlglot import exp

from mcp_server.sqlguard.errors import SqlDenied
from mcp_server.sqlguard.functions import denied_name

QUERY_ROOTS = (exp.Select, exp.SetOperation, exp.Subquery, exp.Values)

_WRITES: tuple[type[exp.Expr], ...] = (
    exp.DML,
    exp.DDL,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Command,
    exp.Set,
    exp.SetItem,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Pragma,
    exp.Attach,
    exp.Detach,
    exp.Use,
    exp.Show,
    exp.Describe,
    exp.LoadData,
    exp.Grant,
    exp.Revoke,
    exp.Analyze,
    exp.Kill,
    exp.Returning,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
    exp.LockingStatement,
    exp.Declare,
    exp.Execute,
    exp.Comment,
    exp.Export,
    exp.Summarize,
)

_ALLOWED_ARGS: dict[type[exp.Expr], frozenset[str]] = {
    exp.Select: frozenset(
        {
            "with_",
            "expressions",
            "distinct",
            "from_",
            "joins",
            "where",
            "group",
            "having",
            "windows",
            "order",
            "limit",
            "offset",
            "operation_modifiers",
        }
    ),
    exp.SetOperation: frozenset({"with_", "this", "expression", "distinct", "order", "limit", "offset"}),
    exp.Subquery: frozenset({"this", "alias", "with_", "order", "limit", "offset"}),
    exp.Table: frozenset({"this", "alias", "db", "catalog", "only", "hints", "joins"}),
    exp.Join: frozenset({"this", "on", "side", "kind", "using", "method"}),
    exp.Values: frozenset({"expressions", "alias"}),
    exp.With: frozenset({"expressions", "recursive"}),  # SEARCH / CYCLE would add hidden columns
    exp.CTE: frozenset({"this", "alias", "materialized"}),
    exp.Lateral: frozenset({"this", "alias"}),
    exp.Unnest: frozenset({"expressions", "alias"}),
}
_JOIN_KINDS = {"", "INNER", "OUTER", "CROSS"}
_MODIFIERS = {
    "HIGH_PRIORITY",
    "STRAIGHT_JOIN",
    "SQL_SMALL_RESULT",
    "SQL_BIG_RESULT",
    "SQL_BUFFER_RESULT",
    "SQL_NO_CACHE",
    "SQL_CACHE",
    "SQL_CALC_FOUND_ROWS",
}


def statement_name(node: exp.Expr) -> str:
    """A safe, literal-free name for a statement node (e.g. "DELETE", "CALL")."""
    if isinstance(node, exp.Command):
        word = str(node.this or "").upper()
        if re.fullmatch(r"[A-Z_ ]{1,30}", word):
            return word
        return "an unparsed command"
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type(node).__name__).upper()


def _truthy_args(node: exp.Expr) -> set[str]:
    return {k for k, v in node.args.items() if v is not None and v is not False and not (isinstance(v, list) and not v)}


def check_read_only(root: exp.Expr) -> None:
    """Raise SqlDenied unless `root` is a read-only query built only from understood clauses."""
    if not isinstance(root, QUERY_ROOTS):
        raise SqlDenied(
            "not_read_only",
            f"only read-only queries (SELECT, WITH ... SELECT, UNION, VALUES, EXPLAIN SELECT) are allowed;"
            f" this is {statement_name(root)}",
        )
    for node in root.walk():
        _check_node(node)


def _check_node(node: exp.Expr) -> None:
    if isinstance(node, _WRITES):
        raise SqlDenied("not_read_only", f"{statement_name(node)} is not allowed: only read-only queries can run")
    if isinstance(node, exp.Select):
        _check_select(node)
    if isinstance(node, exp.Into):
        raise SqlDenied("not_read_only", "SELECT ... INTO (tables, files, variables) is not allowed")
    if isinstance(node, exp.Lock):
        raise SqlDenied(
            "not_read_only", "locking clauses (FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE) are not allowed"
        )
    if isinstance(node, exp.Hint):
        raise SqlDenied("unsupported", "optimizer hints are not allowed")
    if isinstance(node, (exp.Parameter, exp.SessionParameter, exp.Placeholder, exp.PropertyEQ)):
        raise SqlDenied(
            "unsupported",
            "bind parameters, user or session variables and := assignments are not allowed;"
            " write values inline as literals",
        )
    if isinstance(node, exp.Dot) and not _understood_dot(node):
        raise SqlDenied("unsupported", "unsupported use of '.' (only table.column, schema.function() and (row).field)")
    if isinstance(node, exp.Func):
        name = denied_name(node)
        if name is not None:
            raise SqlDenied("dangerous_function", f"function {name}() is not allowed")
    for cls, allowed in _ALLOWED_ARGS.items():
        if isinstance(node, cls):
            extra = _truthy_args(node) - allowed
            if extra:
                raise SqlDenied(
                    "unsupported", f"unsupported clause in {statement_name(node)}: {', '.join(sorted(extra))}"
                )
    if isinstance(node, exp.Join):
        kind = str(node.args.get("kind") or "").upper()
        method = str(node.args.get("method") or "").upper()
        if kind not in _JOIN_KINDS or method not in {"", "NATURAL"}:
            raise SqlDenied("unsupported", f"unsupported join type {method or kind}".strip())


def _check_select(node: exp.Select) -> None:
    """Specific messages for SELECT clauses that write, lock or hint, before the generic allow-list."""
    if node.args.get("into") is not None:
        raise SqlDenied("not_read_only", "SELECT ... INTO (tables, files, variables) is not allowed")
    if node.args.get("locks"):
        raise SqlDenied(
            "not_read_only", "locking clauses (FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE) are not allowed"
        )
    if node.args.get("hint") is not None:
        raise SqlDenied("unsupported", "optimizer hints are not allowed")
    for modifier in node.args.get("operation_modifiers") or []:
        if not isinstance(modifier, exp.Var) or modifier.name.upper() not in _MODIFIERS:
            raise SqlDenied("unsupported", "unsupported SELECT modifier")


def _understood_dot(node: exp.Dot) -> bool:
    """schema.function(...) or (composite).field; sqlglot writes table.column as exp.Column instead."""
    left, right = node.this, node.expression
    if isinstance(right, exp.Func):
        return isinstance(left, exp.Identifier) or (isinstance(left, exp.Dot) and _understood_dot(left))
    return isinstance(left, exp.Paren) and isinstance(right, (exp.Identifier, exp.Star))
