"""PostgreSQL: READ ONLY sessions and transactions with `statement_timeout`, queries sent as server-side prepared
statements (extended protocol), so a string holding several statements cannot run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from connectors.base import QueryTimeout
from connectors.engines import reasons
from connectors.engines.base import EngineBackend, Rows

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

    def session_setup(self, timeout_seconds: float) -> tuple[str, ...]:
        return (
            "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
            f"SET statement_timeout = {round(timeout_seconds * 1000)}",
        )

    def transaction_setup(self, timeout_seconds: float) -> tuple[str, ...]:
        # One round trip: sent without parameters, the two statements go as one simple query (our text only).
        return (f"SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = {round(timeout_seconds * 1000)}",)

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
