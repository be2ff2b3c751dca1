"""Pseudonym tokens (`<EMAIL_ADDRESS:3fa9c2d1e0b4>`) written by the agent, swapped for bound parameters.

The agent only ever sees tokens; to filter on a real value it writes the token, which is resolved here and
sent as a bound parameter (never inlined). A token is accepted only where the predicate checker accepted it:
as the partner of a direct comparison with a personal column of the token's own entity type (`col = token`,
`col <> token`, `col IN (token, ...)`, `CASE col WHEN token`). Anywhere else its value could flow into the
output, be compared with values the agent wrote, or be probed character by character.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from sqlglot import exp

from mcp_server.sqlguard.errors import SqlDenied

TOKEN_PATTERN = re.compile(r"<([A-Z][A-Z0-9_]*):([0-9a-f]{8,32})>")


def token_text(node: exp.Expr | None) -> str | None:
    """The token a string literal holds (also under a charset introducer), or None."""
    if isinstance(node, exp.Introducer):
        node = node.expression
    strings = (exp.National, exp.RawString, exp.ByteString, exp.UnicodeString)  # N'', r'', E'' (PostgreSQL), U&''
    if (isinstance(node, exp.Literal) and node.is_string) or isinstance(node, strings):
        text = node.name
        if TOKEN_PATTERN.fullmatch(text):
            return text
    return None


def token_entity(node: exp.Expr) -> str:
    match = TOKEN_PATTERN.fullmatch(token_text(node) or "")
    return match.group(1) if match else ""


def replace_tokens(
    tree: exp.Expr, resolve: Callable[[str], str | None] | None, accepted: Collection[int]
) -> dict[str, str]:
    """Swap token literals for placeholders mw0, mw1... (same token, same name); return the params.

    `accepted`: ids of the literal nodes (or their introducers) the predicate checker accepted.
    """
    names: dict[str, str] = {}
    params: dict[str, str] = {}
    for node in [n for n in tree.walk() if not isinstance(n, exp.Introducer) and token_text(n) is not None]:
        text = token_text(node) or ""
        target = node.parent if isinstance(node.parent, exp.Introducer) else node
        if id(target) not in accepted and id(node) not in accepted:
            raise SqlDenied(
                "token_use",
                f"pseudonym token {text} can only be compared with a column masked as its entity type"
                " (col = token, col <> token, col IN (token, ...))",
            )
        if text not in names:
            value = resolve(text) if resolve is not None else None
            if value is None:
                raise SqlDenied("unknown_token", f"unknown or expired pseudonym token {text}")
            names[text] = f"mw{len(names)}"
            params[names[text]] = value
        target.replace(exp.Placeholder(this=names[text]))
    return params
