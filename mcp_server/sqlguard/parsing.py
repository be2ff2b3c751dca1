"""From agent SQL text to exactly one sqlglot tree, using the dialect's own tokenizer.

The dialect tokenizer matters for backslash escapes: MySQL treats `\\'` inside a string as an escaped
quote, PostgreSQL (standard_conforming_strings) and SQLite do not. The SQL that finally runs is
regenerated from the checked tree, so comments never reach the server; MySQL executable comments
(`/*! ... */`, `/*M! ... */`) are nevertheless refused, as the one text-level check, because MySQL runs them.

EXPLAIN is split off here: PostgreSQL and SQLite tokenize it as an opaque command, so its options are
read from tokens, validated, and rebuilt into a fixed prefix; the explained statement is parsed normally.

sqlglot logs the raw SQL when it falls back to a Command; `quiet_sqlglot` drops its log records while
the guard works, so raw SQL is never logged.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

from mcp_server.sqlguard.errors import SqlDenied

DIALECTS = ("sqlite", "postgres", "mysql")

_quiet = contextvars.ContextVar("sqlguard_quiet", default=False)


class _DropWhileGuarding(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _quiet.get()


_sqlglot_logger = logging.getLogger("sqlglot")
if not any(isinstance(f, _DropWhileGuarding) for f in _sqlglot_logger.filters):
    _sqlglot_logger.addFilter(_DropWhileGuarding())


@contextmanager
def quiet_sqlglot() -> Iterator[None]:
    """Drop sqlglot's log records (they may quote raw SQL) in this context."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


@dataclass(frozen=True)
class Explain:
    prefix: str
    """e.g. "EXPLAIN (FORMAT JSON)"; built only from validated keywords."""
    columns: tuple[str, ...]
    """The result columns the server returns for this EXPLAIN form."""


@dataclass(frozen=True)
class Parsed:
    statement: exp.Expression
    explain: Explain | None


def get_dialect(dialect: str) -> Dialect:
    if dialect not in DIALECTS:
        raise ValueError(f"unsupported SQL dialect {dialect!r}; expected one of {', '.join(DIALECTS)}")
    return Dialect.get_or_raise(dialect)


def validate_text(sql: str, max_length: int) -> None:
    if not isinstance(sql, str):
        raise SqlDenied("invalid_input", "the SQL must be a string")
    if len(sql) > max_length:
        raise SqlDenied("too_long", f"the SQL is {len(sql)} characters long; the limit is {max_length}")
    if "\x00" in sql:
        raise SqlDenied("invalid_input", "the SQL contains a NUL character")
    if not sql.strip():
        raise SqlDenied("empty", "the SQL is empty")


def tokenize(dialect: Dialect, sql: str) -> list[Token]:
    try:
        with quiet_sqlglot():
            return dialect.tokenize(sql)
    except TokenError:
        raise SqlDenied(
            "parse_error", "the SQL could not be tokenized (an unterminated string, identifier or comment?)"
        ) from None


def _check_comments(tokens: list[Token]) -> None:
    for token in tokens:
        for comment in token.comments or ():
            body = comment.lstrip()
            if body.startswith("!") or body[:2].upper() == "M!":
                raise SqlDenied(
                    "not_read_only",
                    "MySQL executable comments (/*! ... */) are not allowed: the server runs their content",
                )


def parse_statement(sql: str, dialect_name: str, max_length: int) -> Parsed:
    """Exactly one statement (plus optional EXPLAIN) or SqlDenied."""
    validate_text(sql, max_length)
    dialect = get_dialect(dialect_name)
    tokens = tokenize(dialect, sql)
    _check_comments(tokens)
    text = sql
    explain = None
    if tokens and tokens[0].text.upper() == "EXPLAIN":
        if tokens[0].token_type == TokenType.COMMAND:
            # PostgreSQL / SQLite: the rest is one opaque string token; tokenize it for real.
            text = sql[tokens[0].end + 1 :]
            tokens = tokenize(dialect, text)
            _check_comments(tokens)
        else:
            tokens = tokens[1:]
        explain, tokens = _explain_options(dialect_name, tokens)
    if not tokens:
        raise SqlDenied("empty", "the SQL contains no statement (only comments or whitespace)")
    statements = _parse_tokens(dialect, tokens, text, dialect_name)
    real = [s for s in statements if s is not None and not isinstance(s, exp.Semicolon)]
    if len(real) > 1:
        raise SqlDenied("multiple_statements", f"send exactly one statement; this SQL holds {len(real)} statements")
    if not real:
        raise SqlDenied("empty", "the SQL contains no statement")
    statement = real[0]
    if not isinstance(statement, exp.Expression):
        raise SqlDenied("unsupported", "the statement could not be analysed")
    return Parsed(statement, explain)


def _parse_tokens(dialect: Dialect, tokens: list[Token], text: str, dialect_name: str) -> list[exp.Expr | None]:
    try:
        with quiet_sqlglot():
            return dialect.parser(error_level=ErrorLevel.RAISE).parse(tokens, text)
    except ParseError as error:
        raise SqlDenied("parse_error", _parse_error_message(error, dialect, dialect_name)) from None
    except (SqlglotError, RecursionError):
        raise SqlDenied("parse_error", f"the SQL could not be parsed as {dialect_name} SQL") from None


_SAFE_QUOTED = re.compile(r"'([A-Za-z_]{1,30})'")
_PUNCTUATION = {"(", ")", ",", ";", "*", "=", "<", ">", ".", "+", "-", "/"}


def _parse_error_message(error: ParseError, dialect: Dialect, dialect_name: str) -> str:
    """A parse error without any text from the SQL except keywords and punctuation."""
    first = error.errors[0] if error.errors else {}
    description = str(first.get("description") or "syntax error").split(" but got")[0]
    description = re.sub(r"<[^>]*>", "", description)
    description = _SAFE_QUOTED.sub(r"\1", description)
    if "'" in description or '"' in description:
        description = "syntax error"
    description = description.strip().rstrip(".:") or "syntax error"
    where = ""
    if first.get("line") is not None:
        where = f" at line {first.get('line')}, column {first.get('col')}"
    highlight = str(first.get("highlight") or "")
    keywords = type(dialect).tokenizer_class.KEYWORDS
    near = f' near "{highlight.upper()}"' if highlight.upper() in keywords or highlight in _PUNCTUATION else ""
    return f"the SQL is not valid {dialect_name} SQL{where}{near}: {description}"


# ---------------------------------------------------------------- EXPLAIN


_PG_OPTIONS_BOOL = {"VERBOSE", "COSTS", "SETTINGS", "GENERIC_PLAN", "BUFFERS", "SUMMARY", "MEMORY"}
_PG_BOOL_VALUES = {"TRUE", "FALSE", "ON", "OFF", "1", "0"}
_PG_FORMATS = {"TEXT", "XML", "JSON", "YAML"}
_EXECUTING = {"ANALYZE", "ANALYSE", "TIMING", "WAL", "SERIALIZE"}
_SQLITE_PLAN_COLUMNS = ("id", "parent", "notused", "detail")
_SQLITE_BYTECODE_COLUMNS = ("addr", "opcode", "p1", "p2", "p3", "p4", "p5", "comment")


def _word(token: Token | None) -> str:
    """Upper-cased token text, or "" for literals (their text never goes into a message)."""
    if token is None or token.token_type in (TokenType.STRING, TokenType.NUMBER):
        return ""
    return token.text.upper()


def _deny_analyze() -> SqlDenied:
    return SqlDenied("not_read_only", "EXPLAIN ANALYZE executes the statement; use plain EXPLAIN")


def _bad_option(word: str) -> SqlDenied:
    shown = f" {word}" if re.fullmatch(r"[A-Z_]{1,30}", word) else ""
    return SqlDenied("unsupported", f"unsupported EXPLAIN option{shown}")


def _explain_options(dialect: str, tokens: list[Token]) -> tuple[Explain, list[Token]]:
    """Validate the options after EXPLAIN; return the rebuilt prefix and the statement's tokens."""
    if dialect == "postgres":
        return _pg_explain(tokens)
    if dialect == "sqlite":
        if len(tokens) >= 2 and _word(tokens[0]) == "QUERY" and _word(tokens[1]) == "PLAN":
            return Explain("EXPLAIN QUERY PLAN", _SQLITE_PLAN_COLUMNS), tokens[2:]
        return Explain("EXPLAIN", _SQLITE_BYTECODE_COLUMNS), tokens
    return _mysql_explain(tokens)


def _pg_explain(tokens: list[Token]) -> tuple[Explain, list[Token]]:
    i = 0
    options: list[str] = []
    if tokens and tokens[0].token_type == TokenType.L_PAREN:
        i = 1
        while True:
            name = _word(tokens[i] if i < len(tokens) else None)
            i += 1
            if name in _EXECUTING:
                raise _deny_analyze()
            if name not in _PG_OPTIONS_BOOL and name != "FORMAT":
                raise _bad_option(name)
            value = None
            nxt = tokens[i] if i < len(tokens) else None
            if nxt is not None and nxt.token_type not in (TokenType.COMMA, TokenType.R_PAREN):
                value = nxt.text.upper() if nxt.token_type != TokenType.STRING else ""
                allowed = _PG_FORMATS if name == "FORMAT" else _PG_BOOL_VALUES
                if value not in allowed:
                    raise SqlDenied("unsupported", f"unsupported value for EXPLAIN option {name}")
                i += 1
            elif name == "FORMAT":
                raise SqlDenied("unsupported", "EXPLAIN option FORMAT needs a value")
            options.append(f"{name} {value}" if value else name)
            sep = tokens[i].token_type if i < len(tokens) else None
            i += 1
            if sep == TokenType.COMMA:
                continue
            if sep == TokenType.R_PAREN:
                break
            raise SqlDenied("unsupported", "malformed EXPLAIN option list")
        prefix = f"EXPLAIN ({', '.join(options)})"
    else:
        verbose = False
        while i < len(tokens) and _word(tokens[i]) in {"ANALYZE", "ANALYSE", "VERBOSE"}:
            if _word(tokens[i]) != "VERBOSE":
                raise _deny_analyze()
            verbose = True
            i += 1
        prefix = "EXPLAIN VERBOSE" if verbose else "EXPLAIN"
    return Explain(prefix, ("QUERY PLAN",)), tokens[i:]


def _mysql_explain(tokens: list[Token]) -> tuple[Explain, list[Token]]:
    """MySQL/MariaDB: always rendered as FORMAT=JSON, which is one column named EXPLAIN on both."""
    i = 0
    word = _word(tokens[0]) if tokens else ""
    if word in {"ANALYZE", "ANALYSE"}:
        raise _deny_analyze()
    if word == "FORMAT":
        if len(tokens) < 3 or tokens[1].token_type != TokenType.EQ:
            raise SqlDenied("unsupported", "malformed EXPLAIN FORMAT option")
        if _word(tokens[2]) not in {"TRADITIONAL", "JSON", "TREE"}:
            raise SqlDenied("unsupported", "unsupported EXPLAIN FORMAT")
        i = 3
    elif word in {"EXTENDED", "PARTITIONS", "FOR"}:
        raise _bad_option(word)
    return Explain("EXPLAIN FORMAT=JSON", ("EXPLAIN",)), tokens[i:]
