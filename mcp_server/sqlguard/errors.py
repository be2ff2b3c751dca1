"""The one exception the guard raises for a refused query."""

from __future__ import annotations

import re


class SqlDenied(Exception):
    """Query refused. str(exc) is a message a model can act on (no literals from the SQL).

    `reason` is a short machine code: "empty", "too_long", "invalid_input", "parse_error",
    "multiple_statements", "not_read_only", "unsupported", "dangerous_function", "unknown_table",
    "unknown_column", "unknown_lineage", "predicate_policy", "unknown_token", "token_use".
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"SqlDenied({self.reason!r}, {self.message!r})"


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")


def is_plain_name(name: str) -> bool:
    return _PLAIN_NAME.fullmatch(name) is not None


def shown(*parts: str) -> str:
    """A dotted name for a message, or a neutral phrase when a part is not a plain identifier.

    Double-quoted "names" are often string values written with the wrong quotes (SQLite, PostgreSQL),
    so anything that does not look like an identifier is not echoed.
    """
    if all(is_plain_name(p) for p in parts):
        return ".".join(parts)
    return "(a quoted name; write string values in single quotes)"
