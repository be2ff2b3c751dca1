"""What differs between SQL engines, in one class per engine; the connector, the SQL guard's call site, the
token vault and `maskwire check` ask the engine's backend instead of comparing engine names."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection

from connectors.base import Paramstyle

Rows = tuple[list[str], list[tuple[Any, ...]]]


class EngineBackend:
    """One SQL engine. Subclasses set the class attributes and override what their engine does differently."""

    names: ClassVar[tuple[str, ...]]
    """SQLAlchemy backend names served by this class (`make_url(url).get_backend_name()`)."""
    dialect: ClassVar[str]
    """The sqlglot dialect queries are parsed, checked and rendered in."""
    paramstyle: ClassVar[Paramstyle] = "pyformat"
    bundled_driver: ClassVar[str | None] = None
    """The DBAPI driver Maskwire ships for this engine, used when a URL names none."""

    # -- identifiers -------------------------------------------------------------------------------

    def quote(self, name: str) -> str:
        """The identifier quoted for this engine (quotes inside it escaped), through sqlglot's dialect."""
        from sqlglot import exp

        return exp.to_identifier(name, quoted=True).sql(dialect=self.dialect)

    # -- connections -------------------------------------------------------------------------------

    def create_engine(self, source: str, url: URL, timeout_seconds: float) -> sa.Engine:
        """An engine whose sessions are read-only with a statement timeout."""
        engine = sa.create_engine(url, pool_size=4, max_overflow=4, **self.engine_options())
        statements = self.session_setup(timeout_seconds)

        @sa.event.listens_for(engine, "connect")
        def _read_only_session(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            for statement in statements:
                cursor.execute(statement)
            cursor.close()
            dbapi_conn.commit()

        return engine

    def engine_options(self) -> dict[str, Any]:
        """Options of `sa.create_engine` beside the pool's size: by default each connection is pinged before use."""
        return {"pool_pre_ping": True}

    def session_setup(self, timeout_seconds: float) -> tuple[str, ...]:
        """Statements run once on every new connection."""
        return ()

    def transaction_setup(self, timeout_seconds: float) -> tuple[str, ...]:
        """Statements that open every query's transaction."""
        return ()

    @contextmanager
    def read_scope(self, conn: Connection, timeout_seconds: float, *, own_transaction: bool) -> Iterator[None]:
        """Held around each query: a read-only transaction opened by `transaction_setup` and rolled back.
        `own_transaction` is set for a source whose queries may call functions the SQL guard cannot see into
        (`allow_functions`); engines that can skip the transaction must not skip it then."""
        for statement in self.transaction_setup(timeout_seconds):
            conn.exec_driver_sql(statement)
        try:
            yield
        finally:
            conn.rollback()

    def connection_lost(self, dbapi: Any) -> bool:
        """Whether a failed query failed because the connection is gone (then it is run once more on a new one).
        Engines whose pool pings each connection before use need not tell."""
        return False

    @contextmanager
    def deadline(self, conn: Connection, timeout_seconds: float) -> Iterator[None]:
        """Held around a query; engines that enforce the timeout in the session need nothing here."""
        yield

    def run(self, conn: Connection, sql: str, params: Mapping[str, Any], max_rows: int, skip: int) -> Rows | None:
        """(columns, up to max_rows + 1 rows after `skip`), or None for a statement that returns no rows."""
        result = conn.exec_driver_sql(sql, dict(params))
        if not result.returns_rows:
            return None
        columns = list(result.keys())
        for _ in range(skip):
            if result.fetchone() is None:
                break
        fetched = [tuple(r) for r in result.fetchmany(max_rows + 1)]
        result.close()
        return columns, fetched

    def is_timeout(self, error: BaseException) -> bool:
        """Whether a driver error means the statement timeout cancelled the query."""
        text = str(error).lower()
        return any(s in text for s in ("interrupted", "statement timeout", "max_statement_time", "canceling statement"))

    def message_of(self, error: BaseException) -> str:
        """The driver's own message (the caller cuts quoted parts from it)."""
        return str(error)

    # -- connection problems (`maskwire check`) ----------------------------------------------------

    def connect_problem(self, error: BaseException) -> str | None:
        """A reason, safe to show, for a failed connection; None when this engine does not recognise it."""
        return None

    # -- the token vault ---------------------------------------------------------------------------

    def insert_if_absent(self, table: sa.Table) -> sa.Insert:
        """An INSERT that leaves a row whose primary key already exists as it is."""
        raise NotImplementedError
