"""SQL sources through SQLAlchemy, opened read-only at the engine level.

The SQL guard (mcp_server.sqlguard) is the first wall; this module is the second:
- SQLite: the file is opened with `mode=ro` and `PRAGMA query_only=1`; a progress handler enforces the timeout.
- PostgreSQL: sessions are `READ ONLY` with a `statement_timeout`, checked before every query (or every query
  runs in a `READ ONLY` transaction with `SET LOCAL statement_timeout`: `connectors/engines/postgres.py` says
  when), and queries are sent with parameters (extended protocol), so a string holding several statements
  cannot run.
- MariaDB/MySQL: the session is `TRANSACTION READ ONLY` with `max_statement_time`; PyMySQL does not enable
  multi-statements.
A database role that can only read is the third wall (see docs/security.md). What differs between the
engines lives in their backends (`connectors/engines/`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from connectors.base import (
    ColumnInfo,
    ConnectorError,
    Paramstyle,
    QueryTimeout,
    ResultPage,
    SourceUnavailable,
    TableInfo,
)
from connectors.engines import EngineBackend, backend_named
from connectors.engines.base import Rows

RERUN_WITHIN_SECONDS = 1.0
"""A query whose connection failed sooner than this is run once more on a new one (a pooled connection the
database dropped fails at its first round trip); one that had run longer is not (its connection was ended while it
ran: a database restarting, an administrator ending a heavy query, which a second run would repeat)."""


def redacted_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


class SqlDatabase:
    def __init__(self, name: str, url: str, *, timeout_seconds: float = 15.0, own_transactions: bool = False) -> None:
        """`own_transactions`: every query in a read-only transaction of its own, even on an engine whose
        sessions are read-only already (PostgreSQL): for sources whose queries may call functions the SQL guard
        cannot see into, which could change the session."""
        self.name = name
        self.own_transactions = own_transactions
        try:
            parsed = make_url(url)
        except Exception:
            raise SourceUnavailable(f'source "{name}": the url is not a valid SQLAlchemy URL') from None
        backend = backend_named(parsed.get_backend_name())
        if backend is None:
            raise SourceUnavailable(f'source "{name}": unsupported database "{parsed.get_backend_name()}"')
        self.backend: EngineBackend = backend
        self.dialect = backend.dialect
        self.paramstyle: Paramstyle = backend.paramstyle
        self.timeout_seconds = timeout_seconds
        self.display_url = redacted_url(parsed)
        self._engine = backend.create_engine(name, parsed, timeout_seconds)
        self._schema: dict[str, TableInfo] | None = None
        self._schema_lock = threading.Lock()

    # -- schema ----------------------------------------------------------------------------------

    def schema(self, refresh: bool = False) -> dict[str, TableInfo]:
        """Tables and views with their columns (cached; `refresh` re-reads the catalogue)."""
        with self._schema_lock:
            if self._schema is None or refresh:
                self._schema = self._reflect()
            return self._schema

    def _reflect(self) -> dict[str, TableInfo]:
        try:
            inspector = sa.inspect(self._engine)
            names = sorted(inspector.get_table_names()) + sorted(inspector.get_view_names())
            tables: dict[str, TableInfo] = {}
            for table in names:
                if table.startswith("sqlite_"):
                    continue
                try:
                    pk = set(inspector.get_pk_constraint(table).get("constrained_columns") or [])
                    columns = tuple(
                        ColumnInfo(c["name"], str(c["type"]), bool(c.get("nullable", True)), c["name"] in pk)
                        for c in inspector.get_columns(table)
                    )
                except sa.exc.NoSuchTableError:
                    continue  # dropped while the catalogue was being read
                tables[table] = TableInfo(table, columns)
            return tables
        except ConnectorError:
            raise
        except sa.exc.SQLAlchemyError as exc:
            cause = type(getattr(exc, "orig", None) or exc).__name__
            raise SourceUnavailable(
                f'source "{self.name}" ({self.display_url}): cannot read the schema ({cause})'
            ) from None

    def column_map(self) -> dict[str, list[str]]:
        return {name: table.column_names() for name, table in self.schema().items()}

    # -- queries ---------------------------------------------------------------------------------

    def execute(self, sql: str, params: Mapping[str, Any], *, max_rows: int, skip: int = 0) -> ResultPage:
        """Run one checked read-only statement; return up to `max_rows` rows after skipping `skip`.

        `sql` is in the source's paramstyle (`named` for SQLite, `pyformat` with `%` doubled otherwise). A query
        that finds its connection gone (the database restarted, an idle connection dropped) runs once more on a
        new one: it reads only, so running it again changes nothing (see `RERUN_WITHIN_SECONDS`).
        """
        try:
            started = time.monotonic()
            try:
                ran = self._run_once(sql, params, max_rows, skip)
            except _ConnectionLost as lost:
                ran_for = time.monotonic() - started
                if ran_for >= RERUN_WITHIN_SECONDS:
                    raise SourceUnavailable(
                        f'source "{self.name}": the connection to the database was lost after the query had run'
                        f" {ran_for:.1f} s ({lost.error_class}); it was not run again"
                    ) from None
                try:
                    ran = self._run_once(sql, params, max_rows, skip)
                except _ConnectionLost as lost:
                    raise SourceUnavailable(
                        f'source "{self.name}": the connection to the database was lost ({lost.error_class})'
                    ) from None
        except QueryTimeout:
            raise self._timeout() from None
        except sa.exc.OperationalError as exc:
            if self.backend.is_timeout(exc.orig if exc.orig is not None else exc):
                raise self._timeout() from None
            raise DatabaseRejected(self.name, exc, self.backend) from None
        except sa.exc.DBAPIError as exc:
            raise DatabaseRejected(self.name, exc, self.backend) from None
        except sa.exc.SQLAlchemyError as exc:
            raise ConnectorError(f'source "{self.name}": {type(exc).__name__}') from None
        if ran is None:
            return ResultPage(columns=[], rows=[], more=False)
        columns, fetched = ran
        return ResultPage(columns=columns, rows=fetched[:max_rows], more=len(fetched) > max_rows)

    def _run_once(self, sql: str, params: Mapping[str, Any], max_rows: int, skip: int) -> Rows | None:
        with self._engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection  # read now: once invalidated, `conn` would open another
            try:
                with (
                    self.backend.read_scope(conn, self.timeout_seconds, own_transaction=self.own_transactions),
                    self.backend.deadline(conn, self.timeout_seconds),
                ):
                    return self.backend.run(conn, sql, params, max_rows, skip)
            except sa.exc.DBAPIError as exc:
                if not exc.connection_invalidated and not self.backend.connection_lost(dbapi):
                    raise
                if not conn.invalidated:
                    conn.invalidate()
                original = exc.orig if exc.orig is not None else exc
                raise _ConnectionLost(type(original).__name__) from None

    def _timeout(self) -> QueryTimeout:
        return QueryTimeout(
            f'source "{self.name}": the query ran longer than {self.timeout_seconds:g}s and was cancelled'
        )

    def sample(self, table: str, columns: Sequence[str], limit: int, *, distinct: bool = True) -> dict[str, list[Any]]:
        """Values per column from the first `limit` rows of a table: distinct non-null values, or with
        `distinct=False` every row's value (None included) so that columns stay aligned by row."""
        info = self.schema().get(table)
        if info is None or not columns:
            return {c: [] for c in columns}
        tbl = sa.table(table, *(sa.column(c) for c in columns))
        stmt = sa.select(*(tbl.c[c] for c in columns)).limit(limit)
        compiled = stmt.compile(dialect=self._engine.dialect, compile_kwargs={"literal_binds": True})
        page = self.execute(str(compiled), {}, max_rows=limit)
        rows = [[_sampled(v) for v in row] for row in page.rows]
        if not distinct:
            return {c: [row[i] for row in rows] for i, c in enumerate(columns)}
        out: dict[str, list[Any]] = {c: [] for c in columns}
        for i, c in enumerate(columns):
            seen: dict[Any, None] = {}
            for row in rows:
                if row[i] is not None:
                    seen.setdefault(row[i], None)
            out[c] = list(seen)
        return out

    def dispose(self) -> None:
        self._engine.dispose()


_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`")
_DIGITS = re.compile(r"\d{4,}")


class _ConnectionLost(Exception):
    def __init__(self, error_class: str) -> None:
        super().__init__(error_class)
        self.error_class = error_class


class DatabaseRejected(ConnectorError):
    """The database refused a checked query. Quoted parts and long digit runs of its message are cut,
    because drivers echo values ("invalid input syntax for type integer: 'John'")."""

    def __init__(self, source: str, exc: sa.exc.DBAPIError, backend: EngineBackend) -> None:
        original = exc.orig if exc.orig is not None else exc
        text = backend.message_of(original)
        first_line = text.strip().splitlines()[0] if text.strip() else ""
        safe = _DIGITS.sub("…", _QUOTED.sub("…", first_line))[:300]
        self.error_class = type(original).__name__
        super().__init__(f'source "{source}": the database rejected the query ({self.error_class}: {safe})')


def _sampled(value: Any) -> Any:
    """A sampled value as the classifier reads it: JSON documents and arrays (jsonb, json, ARRAY columns) as
    their JSON text, so they can be compared and scanned like any text."""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return value
