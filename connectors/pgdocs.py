"""Documents stored as rows of a PostgreSQL table, searched with PostgreSQL full-text search.

Every statement runs in a READ ONLY transaction with SET LOCAL statement_timeout. Identifiers are
checked against information_schema at start-up and always quoted; refs and queries are bound
parameters. Search matches `to_tsvector('english', coalesce(title::text, '') || ' ' ||
coalesce(body::text, ''))`; an expression index on exactly that makes it fast on large tables.
Errors name the source and the kind of problem, never values (PostgreSQL messages can quote them).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url

from connectors.base import (
    ConnectorError,
    DocumentNotFound,
    DocumentStats,
    InvalidRequest,
    QueryTimeout,
    SourceUnavailable,
)
from connectors.documents import Document, DocumentHit
from connectors.engines import PostgresBackend
from connectors.extract import flatten_json

TEXT_TYPES = frozenset({"text", "character varying", "character"})
JSON_TYPES = frozenset({"json", "jsonb"})
INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})
MAX_REF_CHARS = 1000
POSTGRES = PostgresBackend()


class PgDocStore:
    """Rows of `schema.table` as documents: `id_column` is the ref, `body_column` the text (or JSON)."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        table: str,
        id_column: str,
        title_column: str | None,
        body_column: str,
        schema: str | None = None,
        statement_timeout_ms: int = 5000,
        chunk_words: int = 200,
    ) -> None:
        self.name = name
        if statement_timeout_ms < 1 or chunk_words < 1:
            raise SourceUnavailable(f'source "{name}": statement_timeout_ms and chunk_words must be positive')
        self.statement_timeout_ms = int(statement_timeout_ms)
        self.chunk_words = chunk_words
        try:
            parsed = make_url(url)
        except Exception:
            raise SourceUnavailable(f'source "{name}": the url is not a valid SQLAlchemy URL') from None
        if parsed.get_backend_name() not in POSTGRES.names:
            raise SourceUnavailable(f'source "{name}": a PostgreSQL document source needs a postgresql URL')
        # hide_parameters: SQLAlchemy error texts would otherwise quote the bound query and ref.
        self._engine = sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
        self.table = table
        try:
            self.schema, types = self._introspect(schema, table)
            self._check_columns(types, id_column, title_column, body_column)
        except Exception:
            self._engine.dispose()
            raise
        self.id_column = id_column
        self.title_column = title_column
        self.body_column = body_column
        self.id_type = types[id_column]
        self.body_type = types[body_column]
        quote = POSTGRES.quote
        self._from = f"{quote(self.schema)}.{quote(table)}"
        self._id = quote(id_column)
        self._title = quote(title_column) if title_column else "NULL"
        self._body = quote(body_column)
        text = f"coalesce({self._title}::text, '') || ' ' || coalesce({self._body}::text, '')"
        self._document = f"to_tsvector('english', {text})"

    # -- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _read_only(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                for statement in POSTGRES.transaction_setup(self.statement_timeout_ms / 1000):
                    conn.exec_driver_sql(statement)
                try:
                    yield conn
                finally:
                    conn.rollback()
        except sa.exc.DBAPIError as exc:
            if isinstance(exc.orig, psycopg.errors.QueryCanceled):
                raise QueryTimeout(
                    f'source "{self.name}": the query ran longer than {self.statement_timeout_ms} ms and was cancelled'
                ) from None
            if isinstance(exc, sa.exc.OperationalError):
                raise SourceUnavailable(
                    f'source "{self.name}": database unavailable ({type(exc.orig).__name__})'
                ) from None
            raise ConnectorError(f'source "{self.name}": database error ({type(exc.orig).__name__})') from None

    def _introspect(self, schema: str | None, table: str) -> tuple[str, dict[str, str]]:
        """(schema, {column: data_type}) of the table; SourceUnavailable when it does not exist."""
        sql = sa.text(
            "SELECT table_schema, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = coalesce(:schema, current_schema()) AND table_name = :table"
        )
        with self._read_only() as conn:
            rows = conn.execute(sql, {"schema": schema, "table": table}).all()
        if not rows:
            where = f"{schema}.{table}" if schema else table
            raise SourceUnavailable(f'source "{self.name}": table {where!r} not found')
        return rows[0][0], {column: data_type for _, column, data_type in rows}

    def _check_columns(self, types: dict[str, str], id_col: str, title_col: str | None, body_col: str) -> None:
        wanted = {"id_column": id_col, "title_column": title_col, "body_column": body_col}
        unknown = [f"{key}={col!r}" for key, col in wanted.items() if col is not None and col not in types]
        if unknown:
            raise SourceUnavailable(
                f'source "{self.name}": unknown column(s) in {self.schema}.{self.table}: {", ".join(unknown)}'
            )
        if types[body_col] not in TEXT_TYPES | JSON_TYPES:
            raise SourceUnavailable(
                f'source "{self.name}": body column {body_col!r} is {types[body_col]}, not text or json'
            )

    def _text(self, body: Any) -> str:
        if body is None:
            return ""
        if self.body_type in JSON_TYPES:
            return "\n".join(flatten_json(body))
        return str(body)

    # -- API -----------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 10) -> list[DocumentHit]:
        """Rows matching `websearch_to_tsquery`, best `ts_rank` first; chunk = window of the first match."""
        if not query or not query.strip():
            raise InvalidRequest(f'source "{self.name}": the search query is empty')
        if limit < 1:
            raise InvalidRequest(f'source "{self.name}": limit must be positive')
        sql = sa.text(
            f"SELECT {self._id}::text, {self._title}, {self._body}, ts_rank({self._document}, q) AS score "
            f"FROM {self._from}, websearch_to_tsquery('english', :q) AS q "
            f"WHERE {self._document} @@ q ORDER BY score DESC, 1 LIMIT :limit"
        )
        lexemes_sql = sa.text("SELECT tsvector_to_array(to_tsvector('english', :q))")
        with self._read_only() as conn:
            lexemes = list(conn.execute(lexemes_sql, {"q": query}).scalar_one() or [])
            rows = conn.execute(sql, {"q": query, "limit": limit}).all()
        hits = []
        for ref, title, body, score in rows:
            index, chunk = match_window(self._text(body), lexemes, self.chunk_words)
            hits.append(DocumentHit(ref, str(title) if title is not None else ref, chunk, index, float(score)))
        return hits

    def read(self, ref: str) -> Document:
        """The row whose id is `ref` (bound as a parameter of the id column's type)."""
        value = self._id_value(ref)
        missing = DocumentNotFound(f'source "{self.name}": no document {str(ref)[:100]!r}')
        if value is None:
            raise missing
        typed = self.id_type in INTEGER_TYPES | TEXT_TYPES or self.id_type == "uuid"
        where = f"{self._id} = :ref" if typed else f"{self._id}::text = :ref"
        sql = sa.text(f"SELECT {self._id}::text, {self._title}, {self._body} FROM {self._from} WHERE {where} LIMIT 1")
        with self._read_only() as conn:
            row = conn.execute(sql, {"ref": value}).first()
        if row is None:
            raise missing
        found, title, body = row
        media_type = "application/json" if self.body_type in JSON_TYPES else "text/plain"
        return Document(found, str(title) if title is not None else found, self._text(body), media_type)

    def _id_value(self, ref: str) -> Any:
        """The ref as a value of the id column's type, or None when it cannot name a row."""
        if not isinstance(ref, str) or not ref or len(ref) > MAX_REF_CHARS or "\x00" in ref:
            return None
        if self.id_type in INTEGER_TYPES:
            return int(ref) if re.fullmatch(r"-?\d{1,19}", ref) else None
        if self.id_type == "uuid":
            try:
                return uuid.UUID(ref)
            except ValueError:
                return None
        return ref

    def stats(self) -> DocumentStats:
        with self._read_only() as conn:
            rows = conn.execute(sa.text(f"SELECT count(*) FROM {self._from}")).scalar_one()
        return DocumentStats(documents=int(rows), where=f"rows of {self.schema}.{self.table}")

    def close(self) -> None:
        self._engine.dispose()


def match_window(text: str, lexemes: list[str], words: int) -> tuple[int, str]:
    """(chunk index, chunk): the `words`-word window of `text` holding the first word that matches a lexeme.

    Lexemes are PostgreSQL stems ("polici" for "policies"), so a word matches when it starts with the
    stem, or with the stem less its last letter (the stem's "i" for a "y", and the like).
    """
    spans = [m.span() for m in re.finditer(r"\S{1,200}", text)]
    if not spans:
        return 0, ""
    prefixes = tuple({lex.lower() for lex in lexemes} | {lex.lower()[:-1] for lex in lexemes if len(lex) >= 4})
    first = 0
    if prefixes:
        for i, (start, end) in enumerate(spans):
            word = re.sub(r"^\W+", "", text[start:end].lower())
            if word.startswith(prefixes):
                first = i
                break
    index = first // words
    begin = index * words
    last = min(begin + words, len(spans)) - 1
    return index, text[spans[begin][0] : spans[last][1]]
