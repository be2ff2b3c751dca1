"""Pseudonym tokens (`<EMAIL:3fa9c2d1e0b4>`) written by the agent, swapped for bound parameters.

The agent only ever sees tokens; to filter on a real value it writes the token, which is resolved
here and sent as a bound parameter (never inlined). A token may only be compared with a column
(`col = token`, `col <> token`, `col IN (token, ...)`, `CASE col WHEN token`): anywhere else its raw
value could flow into the output or be probed character by character (`substr(token, 1, 1) = 'a'`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from mcp_server.sqlguard.errors import SqlDenied
from mcp_server.sqlguard.predicates import EQUALITY_TYPES
from mcp_server.sqlguard.scopes import unwrap

TOKEN_PATTERN = re.compile(r"<([A-Z][A-Z0-9_]*):([0-9a-f]{8,32})>")


def _token_text(node: exp.Expr) -> str | None:
    if (isinstance(node, exp.Literal) and node.is_string) or isinstance(node, (exp.National, exp.RawString)):
        text = node.name
        if TOKEN_PATTERN.fullmatch(text):
            return text
    return None


def _is_column(node: exp.Expr | None) -> bool:
    if node is None:
        return False
    node = unwrap(node)
    return isinstance(node, exp.Column) and not isinstance(node.this, exp.Star)


def _compared_with_column(node: exp.Expr) -> bool:
    target: exp.Expr = node
    parent = node.parent
    if isinstance(parent, exp.Introducer):
        target, parent = parent, parent.parent
    while isinstance(parent, exp.Paren):
        target, parent = parent, parent.parent
    if isinstance(parent, EQUALITY_TYPES):
        other = parent.expression if parent.this is target else parent.this
        return _is_column(other)
    if isinstance(parent, exp.In):
        return any(e is target for e in parent.expressions) and _is_column(parent.this)
    if isinstance(parent, exp.If) and parent.this is target and isinstance(parent.parent, exp.Case):
        return _is_column(parent.parent.args.get("this"))
    return False


def replace_tokens(tree: exp.Expr, resolve: Callable[[str], str | None] | None) -> dict[str, str]:
    """Swap token literals for placeholders mw0, mw1... (same token, same name); return the params."""
    names: dict[str, str] = {}
    params: dict[str, str] = {}
    for node in [n for n in tree.walk() if _token_text(n) is not None]:
        text = _token_text(node) or ""
        if not _compared_with_column(node):
            raise SqlDenied(
                "token_use",
                f"pseudonym token {text} can only be compared with a column"
                " (col = token, col <> token, col IN (token, ...))",
            )
        if text not in names:
            value = resolve(text) if resolve is not None else None
            if value is None:
                raise SqlDenied("unknown_token", f"unknown or expired pseudonym token {text}")
            names[text] = f"mw{len(names)}"
            params[names[text]] = value
        target = node.parent if isinstance(node.parent, exp.Introducer) else node
        target.replace(exp.Placeholder(this=names[text]))
    return params
