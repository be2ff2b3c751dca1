"""mask_literals: SQL for the audit ledger with every literal value replaced.

Works on the parsed tree (comments are dropped, they may hold anything). Quoted identifiers that are not
plain names are masked too. Statements sqlglot keeps as
opaque Commands (CALL, PostgreSQL/SQLite EXPLAIN, PREPARE...) are masked token by token.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

from mcp_server.sqlguard.errors import is_plain_name
from mcp_server.sqlguard.parsing import get_dialect, quiet_sqlglot

MAX_MASKED_LENGTH = 1_000_000
_STRING_NODES = (exp.National, exp.RawString, exp.ByteString, exp.HexString, exp.BitString, exp.UnicodeString)
_JSON_PATH_TEXT = (exp.JSONPathKey, exp.JSONPathFilter, exp.JSONPathScript, exp.JSONPathSelector)
"""Parts of a parsed JSON path that hold text the agent wrote (a key, a filter); indexes and wildcards stay."""
_STRING_TOKENS = {
    TokenType.STRING,
    TokenType.BIT_STRING,
    TokenType.HEX_STRING,
    TokenType.BYTE_STRING,
    TokenType.NATIONAL_RAW_STRING,
    TokenType.NATIONAL_STRING,
    TokenType.RAW_STRING,
    TokenType.HEREDOC_STRING,
    TokenType.UNICODE_STRING,
}


def mask_literals(
    sql: str,
    *,
    dialect: str,
    mask: Callable[[str], str],
    shown: Callable[[exp.Literal, exp.Column], bool] | None = None,
    readable: Callable[[str], bool] | None = None,
) -> str:
    """SQL for the audit ledger: every string and number literal replaced by mask(value).

    Strings stay quoted string literals. `shown(literal, column)` may keep a literal compared with a column
    (`status = 'shipped'`, `amount > 100`, `x IN (...)`, `x BETWEEN ...`) as written. `readable(name)` says
    which identifiers (tables, columns, aliases) stay as written; the others are masked like literals (an alias
    can hold a name: `SELECT id AS "Quackenbush"`). Without it, only quoted identifiers that are not plain names
    are. If the SQL cannot be parsed, returns "<unparsed SQL: N chars>" - never the raw text.
    """
    unparsed = f"<unparsed SQL: {len(sql)} chars>"
    if len(sql) > MAX_MASKED_LENGTH:
        return unparsed
    with quiet_sqlglot():
        try:
            parser_dialect = get_dialect(dialect)
            tokens = parser_dialect.tokenize(sql)
            statements = parser_dialect.parser(error_level=ErrorLevel.RAISE).parse(tokens, sql)
            parts = [
                _mask_tree(s, dialect, mask, shown, readable)
                for s in statements
                if s is not None and not isinstance(s, exp.Semicolon)
            ]
        except (SqlglotError, RecursionError, ValueError):
            return unparsed
    return ";\n".join(parts)


def _readable_key(key: str, readable: Callable[[str], bool] | None) -> bool:
    """A JSON path key a reviewer may read: a lower-case name (`'shipping_address'`) that `readable` accepts."""
    return readable is not None and key.islower() and readable(key)


def _mask_tree(
    tree: exp.Expr,
    dialect: str,
    mask: Callable[[str], str],
    shown: Callable[[exp.Literal, exp.Column], bool] | None,
    readable: Callable[[str], bool] | None,
) -> str:
    kept = _kept_literals(tree, shown)  # decided on the tree as the agent wrote it, before anything is masked

    def visit(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Command):
            return exp.Var(this=_mask_command(node, dialect, mask))
        if isinstance(node, exp.Literal) and node.find_ancestor(exp.DataType) is None:
            if id(node) in kept:
                return node
            if node.is_string:
                return exp.Literal.string(mask(node.name))
            return exp.Var(this=mask(node.name))
        if isinstance(node, _STRING_NODES):
            return exp.Literal.string(mask(node.name))
        if isinstance(node, _JSON_PATH_TEXT) and isinstance(node.this, str) and not _readable_key(node.this, readable):
            return node.__class__(this=mask(node.this))  # a JSON path's key is agent input like any literal
        if readable is not None and isinstance(node, exp.Var) and not readable(node.name):
            return exp.Var(this=mask(node.name))  # a bare word: a collation, a setting name
        if readable is not None and isinstance(node, exp.Anonymous) and not readable(str(node.this)):
            node.set("this", mask(str(node.this)))  # an unknown function: renamed in place, its arguments still visited
            return node
        if isinstance(node, exp.Identifier):
            # SQLite / PostgreSQL "double quotes" are often a value written with the wrong quotes
            hidden = not readable(node.name) if readable is not None else node.quoted and not is_plain_name(node.name)
            if hidden:
                return exp.Identifier(this=mask(node.name), quoted=True)
        return node

    return tree.transform(visit, copy=False).sql(dialect=dialect, comments=False, copy=False)  # parsed here


def _kept_literals(tree: exp.Expr, shown: Callable[[exp.Literal, exp.Column], bool] | None) -> set[int]:
    """The literals shown as written (by `id`): small LIMIT/OFFSET amounts, and those `shown` keeps.

    All of them together hold at most `MAX_SHOWN_DIGITS` digits, a round row count (`LIMIT 100`) and an ISO date
    not counted: past that, a number could be written in pieces (`amount IN (536, 22, 8841)` is an SSN), and
    every literal with a digit but those is a token."""
    kept: list[exp.Literal] = []
    for node in tree.find_all(exp.Literal):
        if node.find_ancestor(exp.DataType) is not None:
            continue
        if _row_count(node):
            kept.append(node)  # LIMIT 10: what a reviewer needs to read
            continue
        column = compared_column(node) if shown is not None else None
        if column is not None and shown is not None and shown(node, column):
            kept.append(node)
    counted = {id(n): n for n in kept if not (_row_count(n) and _ROUND.fullmatch(n.name)) and not _iso_date(n)}
    if sum(_digits(n.name) for n in counted.values()) > MAX_SHOWN_DIGITS:
        kept = [n for n in kept if id(n) not in counted or not _digits(n.name)]
    return {id(n) for n in kept}


MAX_SHOWN_DIGITS = 6
_ROUND = re.compile(r"[1-9]0*")


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _iso_date(node: exp.Literal) -> bool:
    if not node.is_string or len(node.name) != 10:
        return False
    try:
        dt.date.fromisoformat(node.name)
    except ValueError:
        return False
    return True


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)


def compared_column(node: exp.Literal) -> exp.Column | None:
    """The column a literal is compared with directly: `col = 'x'`, `-5 < col`, `col IN ('x', 'y')`,
    `col BETWEEN 1 AND 5`; None for a literal in any other position (inside a function, an expression...)."""
    operand: exp.Expr = node
    parent = node.parent
    if isinstance(parent, exp.Neg):
        operand, parent = parent, parent.parent
    other: exp.Expr | None = None
    if isinstance(parent, _COMPARISONS):
        other = parent.right if parent.left is operand else parent.left
    elif (isinstance(parent, exp.In) and any(e is operand for e in parent.expressions)) or (
        isinstance(parent, exp.Between) and parent.this is not operand
    ):
        other = parent.this
    return other if isinstance(other, exp.Column) else None


def _row_count(node: exp.Literal) -> bool:
    """A small whole number that is the amount of a LIMIT, OFFSET or FETCH."""
    clause = node.parent
    return isinstance(clause, (exp.Limit, exp.Offset, exp.Fetch)) and node.name.isdigit() and len(node.name) < 6


def _mask_command(node: exp.Command, dialect: str, mask: Callable[[str], str]) -> str:
    keyword = str(node.this or "")
    text = node.expression.name if isinstance(node.expression, exp.Literal) else ""
    try:
        tokens = get_dialect(dialect).tokenize(text)
    except SqlglotError:
        return f"{keyword} <{len(text)} chars not shown>"
    return " ".join([keyword, *(_token_sql(t, dialect, mask) for t in tokens)])


def _token_sql(token: Token, dialect: str, mask: Callable[[str], str]) -> str:
    if token.token_type in _STRING_TOKENS:
        return exp.Literal.string(mask(token.text)).sql(dialect=dialect)
    if token.token_type == TokenType.NUMBER:
        return mask(token.text)
    if token.token_type == TokenType.IDENTIFIER:
        return exp.to_identifier(token.text, quoted=True).sql(dialect=dialect)
    return token.text
