"""SQL sources through SQLAlchemy, opened read-only at the engine level.

The SQL guard (mcp_server.sqlguard) is the first wall; this module is the second:
- SQLite: the file is opened with `mode=ro` and `PRAGMA query_only=1`; a progress handler enforces the timeout.
- PostgreSQL: every query runs in a `READ ONLY` transaction with `SET LOCAL statement_timeout`, and is sent
  with parameters (extended protocol), so a string holding several statements cannot run.
- MariaDB/MySQL: the session is `TRANSACTION READ ONLY` with `max_statement_time`; PyMySQL does not enable
  multi-statements.
A database role that can only read is the third wall (see docs/security.md).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, make_url

from connectors.base import (
    ColumnInfo,
    ConnectorError,
    Paramstyle,
    QueryTimeout,
    ResultPage,
    SourceUnavailable,
    TableInfo,
)

_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}


def redacted_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


class SqlDatabase:
    def __init__(self, name: str, url: str, *, timeout_seconds: float = 15.0) -> None:
        self.name = name
        try:
            parsed = make_url(url)
        except Exception:
            raise SourceUnavailable(f'source "{name}": the url is not a valid SQLAlchemy URL') from None
        backend = parsed.get_backend_name()
        if backend not in _DIALECTS:
            raise SourceUnavailable(f'source "{name}": unsupported database "{backend}"')
        self.backend = backend
        self.dialect = _DIALECTS[backend]
        self.paramstyle: Paramstyle = "named" if backend == "sqlite" else "pyformat"
        self.timeout_seconds = timeout_seconds
        self.display_url = redacted_url(parsed)
        self._engine = self._create_engine(parsed)
        self._schema: dict[str, TableInfo] | None = None
        self._schema_lock = threading.Lock()

    # -- engine set-up ---------------------------------------------------------------------------

    def _create_engine(self, url: URL) -> sa.Engine:
        if self.backend == "sqlite":
            return self._sqlite_engine(url)
        engine = sa.create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=4)
        timeout_ms = int(self.timeout_seconds * 1000)

        @sa.event.listens_for(engine, "connect")
        def _read_only_session(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            if self.backend == "postgresql":
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                cursor.execute(f"SET statement_timeout = {timeout_ms}")
            else:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
                cursor.execute(f"SET SESSION max_statement_time = {self.timeout_seconds:.3f}")
            cursor.close()
            dbapi_conn.commit()

        return engine

    def _sqlite_engine(self, url: URL) -> sa.Engine:
        path = url.database
        if not path or path == ":memory:":
            raise SourceUnavailable(f'source "{self.name}": a SQLite source needs a database file')
        if path.startswith("file:"):
            raise SourceUnavailable(f'source "{self.name}": give a plain SQLite file path, not a file: URI')

        def connect() -> sqlite3.Connection:
            try:
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            except sqlite3.Error as exc:
                raise SourceUnavailable(f'source "{self.name}": cannot open SQLite file ({exc})') from None
            conn.execute("PRAGMA query_only = 1")
            return conn

        return sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.QueuePool, pool_size=4)

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

    @contextmanager
    def _read_only(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            if self.backend == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(self.timeout_seconds * 1000)}")
            elif self.backend in ("mysql", "mariadb"):
                conn.exec_driver_sql("START TRANSACTION READ ONLY")
            try:
                yield conn
            finally:
                conn.rollback()

    @contextmanager
    def _sqlite_deadline(self, conn: Connection) -> Iterator[None]:
        if self.backend != "sqlite":
            yield
            return
        raw = conn.connection.dbapi_connection
        deadline = time.monotonic() + self.timeout_seconds
        raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)  # type: ignore[union-attr]
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)  # type: ignore[union-attr]

    def execute(self, sql: str, params: Mapping[str, Any], *, max_rows: int, skip: int = 0) -> ResultPage:
        """Run one checked read-only statement; return up to `max_rows` rows after skipping `skip`.

        `sql` is in the source's paramstyle (`named` for SQLite, `pyformat` with `%` doubled otherwise).
        """
        try:
            with self._read_only() as conn, self._sqlite_deadline(conn):
                if self.backend == "postgresql":
                    columns, fetched = self._execute_prepared(conn, sql, params, max_rows, skip)
                else:
                    result = conn.exec_driver_sql(sql, dict(params))
                    if not result.returns_rows:
                        return ResultPage(columns=[], rows=[], more=False)
                    columns = list(result.keys())
                    for _ in range(skip):
                        if result.fetchone() is None:
                            break
                    fetched = [tuple(r) for r in result.fetchmany(max_rows + 1)]
                    result.close()
        except sa.exc.OperationalError as exc:
            if _is_timeout(exc):
                raise self._timeout() from None
            raise DatabaseRejected(self.name, exc) from None
        except sa.exc.DBAPIError as exc:
            raise DatabaseRejected(self.name, exc) from None
        except sa.exc.SQLAlchemyError as exc:
            raise ConnectorError(f'source "{self.name}": {type(exc).__name__}') from None
        return ResultPage(columns=columns, rows=fetched[:max_rows], more=len(fetched) > max_rows)

    def _execute_prepared(
        self, conn: Connection, sql: str, params: Mapping[str, Any], max_rows: int, skip: int
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """PostgreSQL: a server-side prepared statement, which cannot hold more than one command."""
        import psycopg

        dbapi = conn.connection.dbapi_connection
        try:
            with dbapi.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute(sql, dict(params), prepare=True)
                columns = [d.name for d in cursor.description or ()]
                if skip:
                    cursor.fetchmany(skip)
                return columns, [tuple(r) for r in cursor.fetchmany(max_rows + 1)]
        except psycopg.errors.QueryCanceled:
            raise self._timeout() from None
        except psycopg.Error as exc:
            raise DatabaseRejected(self.name, sa.exc.DBAPIError(sql, None, exc)) from None

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
        if not distinct:
            return {c: [row[i] for row in page.rows] for i, c in enumerate(columns)}
        out: dict[str, list[Any]] = {c: [] for c in columns}
        for i, c in enumerate(columns):
            seen: dict[Any, None] = {}
            for row in page.rows:
                if row[i] is not None:
                    seen.setdefault(row[i], None)
            out[c] = list(seen)
        return out

    def dispose(self) -> None:
        self._engine.dispose()


def _is_timeout(exc: sa.exc.OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(s in text for s in ("interrupted", "statement timeout", "max_statement_time", "canceling statement"))


_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`")
_DIGITS = re.compile(r"\d{4,}")


class DatabaseRejected(ConnectorError):
    """The database refused a checked query. Quoted parts and long digit runs of its message are cut,
    because drivers echo values ("invalid input syntax for type integer: 'John'")."""

    def __init__(self, source: str, exc: sa.exc.DBAPIError) -> None:
        original = exc.orig if exc.orig is not None else exc
        args = getattr(original, "args", ())
        # PyMySQL: (code, message); the message is the useful part
        text = str(args[1]) if len(args) == 2 and isinstance(args[0], int) else str(original)
        first_line = text.strip().splitlines()[0] if text.strip() else ""
        safe = _DIGITS.sub("…", _QUOTED.sub("…", first_line))[:300]
        self.error_class = type(original).__name__
        super().__init__(f'source "{source}": the database rejected the query ({self.error_class}: {safe})')
