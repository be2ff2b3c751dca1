"""PostgreSQL: READ ONLY sessions with `statement_timeout`, queries sent as server-side prepared statements
(extended protocol), so a string holding several statements cannot run.

A query is one round trip: connections are in autocommit, so each statement is a transaction of its own, which
the session makes read-only. Before every statement the session's `default_transaction_read_only` is read from
what the server reports on its own (PostgreSQL 14 and later report it with every change, so reading it costs no
round trip); a session that no longer says `on`, a server that does not report it, and a source whose queries may
call functions the SQL guard cannot see into (`allow_functions`) get a transaction of their own instead
(`BEGIN READ ONLY` with `SET LOCAL statement_timeout`, then `ROLLBACK`). The session of such a source is closed
after every query: a rollback undoes what a function set, but not a session's advisory locks or the connections
it opened. Connections
are not pinged before use: a query that finds its connection gone at once runs once more on a new one. A query
still running after its timeout (a session whose timeout was changed) is cancelled by `watchdog.py`, and its
session ended if it outlives the cancel too (an allowed function that catches cancels).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from connectors.base import QueryTimeout
from connectors.engines import reasons
from connectors.engines.base import EngineBackend, Rows
from connectors.engines.watchdog import WATCHDOG

CANCEL_SECONDS = 2.0
"""How long the watchdog waits for the server to take a cancel request."""

# (text in the driver's message, reason); PostgreSQL reports connection failures without an SQLSTATE.
_CONNECT_PATTERNS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("password authentication failed", 'role "', "no password supplied", "no pg_hba.conf entry"),
        reasons.LOGIN_REFUSED,
    ),
    (("permission denied for database",), reasons.NOT_ALLOWED),
    (("connection refused",), reasons.HOST_REFUSED),
    (("failed to resolve host", "could not translate host name", "name or service not known"), reasons.HOST_UNKNOWN),
    (("timeout expired", "timed out"), reasons.HOST_TIMEOUT),
)


class PostgresBackend(EngineBackend):
    names: ClassVar[tuple[str, ...]] = ("postgresql",)
    dialect: ClassVar[str] = "postgres"
    bundled_driver: ClassVar[str | None] = "psycopg"

    def engine_options(self) -> dict[str, Any]:
        return {"isolation_level": "AUTOCOMMIT", "pool_pre_ping": False}

    def session_setup(self, timeout_seconds: float) -> tuple[str, ...]:
        return (
            "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
            f"SET statement_timeout = {round(timeout_seconds * 1000)}",
        )

    def transaction_setup(self, timeout_seconds: float) -> tuple[str, ...]:
        # One round trip: sent without parameters, the two statements go as one simple query (our text only).
        return (f"BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = {round(timeout_seconds * 1000)}",)

    @contextmanager
    def read_scope(self, conn: Connection, timeout_seconds: float, *, own_transaction: bool) -> Iterator[None]:
        dbapi = conn.connection.dbapi_connection
        if own_transaction:  # functions the guard cannot see into: a session of their own, closed after the query
            try:
                with super().read_scope(conn, timeout_seconds, own_transaction=True):
                    yield
            finally:
                if not conn.invalidated:  # what survives a rollback (advisory locks, dblink sessions) goes with it
                    conn.invalidate()
            return
        ready = _session_read_only(dbapi)
        try:
            if ready:
                yield
            else:  # not read-only (changed, or not reported): this query in a transaction of its own
                with super().read_scope(conn, timeout_seconds, own_transaction=True):
                    yield
        finally:
            if not (ready and _session_read_only(dbapi)) and not conn.invalidated:  # never used again
                conn.invalidate()

    @contextmanager
    def deadline(self, conn: Connection, timeout_seconds: float) -> Iterator[None]:
        # The session's statement_timeout ends a query; the watchdog cancels one that outlived it anyway, and ends
        # the session of one that outlives the cancel too.
        dbapi: Any = conn.connection.dbapi_connection
        cancel = partial(dbapi.cancel_safe, timeout=CANCEL_SECONDS)
        end = partial(_end_session, conn.engine, dbapi.info.backend_pid)
        with WATCHDOG.watch(timeout_seconds, cancel, end) as watch:
            try:
                yield
            except sa.exc.DBAPIError:
                if not watch.ended:
                    raise
                if not conn.invalidated:
                    conn.invalidate()
                raise QueryTimeout("") from None

    def connection_lost(self, dbapi: Any) -> bool:
        return bool(dbapi.broken)  # lost, not closed by `read_scope` (`closed` is set then, `broken` is not)

    def run(self, conn: Connection, sql: str, params: Mapping[str, Any], max_rows: int, skip: int) -> Rows | None:
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
            raise QueryTimeout("") from None
        except psycopg.Error as exc:
            raise sa.exc.DBAPIError(sql, None, exc) from None

    def connect_problem(self, error: BaseException) -> str | None:
        text = str(error).lower()
        if 'database "' in text and "does not exist" in text:
            return reasons.DATABASE_MISSING
        return next((reason for needles, reason in _CONNECT_PATTERNS if any(n in text for n in needles)), None)

    def insert_if_absent(self, table: sa.Table) -> sa.Insert:
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[c.name for c in table.primary_key])


def _end_session(engine: sa.Engine, pid: int) -> None:
    """End the session `pid` from a connection of its own (a backend cannot catch this, unlike a cancel)."""
    import psycopg

    args, options = engine.dialect.create_connect_args(engine.url)
    options = {**options, "connect_timeout": max(1, round(CANCEL_SECONDS)), "autocommit": True}
    with psycopg.connect(*args, **options) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _session_read_only(dbapi: Any) -> bool:
    """The session's `default_transaction_read_only` is `on`, as the server last reported it (None when it does
    not report it, before PostgreSQL 14), on a connection in autocommit (each statement its own transaction)."""
    if dbapi.closed or dbapi.broken or not dbapi.autocommit:
        return False
    return bool(dbapi.pgconn.parameter_status(b"default_transaction_read_only") == b"on")
