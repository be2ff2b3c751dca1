"""What a query plan (`EXPLAIN`) may show: its shape, never a constant in it.

Engines write constants into plans: the query's own literals (`Filter: (status = 'shipped'::text)`), and, on
MySQL and MariaDB, values read from rows while planning: a row found by its primary key is read before the plan
is made and its values stand in the plan as constants (`"attached_condition": "q.password = 'Tr0ub4dor&3xq'"`
for `... JOIN people q ON q.password = p.password WHERE p.id = 1`). So every quoted string of a plan becomes
`'…'`, and on MySQL and MariaDB every number and hex constant inside an expression of the plan does too (costs,
row estimates and key lengths, which are no expression, stay). The plan is then scanned like any text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

REDACTED = "'…'"
_QUOTED = re.compile(r"'(?:[^'\\]|\\.|'')*+'?")
"""A quoted string, with `''` and backslash escapes; an unterminated one runs to the end."""
_HEX = re.compile(r"(?<![\w`$])0[xX][0-9A-Fa-f]++")
_NUMBER = re.compile(r"(?<![\w.`$])[-+]?\d++(?:\.\d++)?(?:[eE][-+]?\d++)?(?![\w`])")
_EXPRESSION = re.compile(r"[=<>(]|(?i:\b(?:and|or|not|like|in|between|is|case|when)\b)")
MYSQL_DIALECTS = frozenset({"mysql", "mariadb"})


def redact_plan(cell: Any, dialect: str) -> Any:
    """A cell of an EXPLAIN result with its constants replaced (see the module docstring); a plan the driver
    returns parsed (PostgreSQL's `FORMAT JSON`) comes back as JSON text."""
    redact = _redact_expression if dialect in MYSQL_DIALECTS else _redact_quoted
    if isinstance(cell, list | dict):
        return json.dumps(_walk(cell, redact), indent=2, ensure_ascii=False)
    if not isinstance(cell, str):
        return cell
    if dialect not in MYSQL_DIALECTS:
        return _redact_quoted(cell)
    try:
        plan = json.loads(cell)
    except ValueError:
        return _redact_expression(cell)
    return json.dumps(_walk(plan, redact), indent=2, ensure_ascii=False)


def _redact_quoted(text: str) -> str:
    return _QUOTED.sub(REDACTED, text)


def _redact_expression(text: str) -> str:
    text = _QUOTED.sub(REDACTED, text)
    if not _EXPRESSION.search(text):
        return text
    return _NUMBER.sub("…", _HEX.sub("…", text))


def _walk(node: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(node, str):
        return redact(node)
    if isinstance(node, list):
        return [_walk(item, redact) for item in node]
    if isinstance(node, dict):
        return {key: _walk(value, redact) for key, value in node.items()}
    return node
