"""PostgreSQL's one-round-trip reads: the session is what makes a query read-only and bounded, so a session
that stopped being read-only, or lost its timeout, must not serve a query as it is (`connectors/engines/postgres.py`).

The statements that change the session here are sent past the SQL guard, which refuses them: this is the wall
behind it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from connectors.base import QueryTimeout, SourceUnavailable
from connectors.sql import RERUN_WITHIN_SECONDS, DatabaseRejected, SqlDatabase


@pytest.fixture
def table(postgres_url: str) -> Iterator[str]:
    name = f"mw_session_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, email VARCHAR(100))")
        conn.exec_driver_sql(f"INSERT INTO {name} VALUES (1, 'ann@example.com')")
    yield name
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    engine.dispose()


@pytest.fixture
def db(postgres_url: str) -> Iterator[SqlDatabase]:
    database = SqlDatabase("s", postgres_url, timeout_seconds=5)
    yield database
    database.dispose()


def _rows(db: SqlDatabase, table: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in db.execute(f"SELECT id, email FROM {table} ORDER BY id", {}, max_rows=10).rows]


def _pooled(db: SqlDatabase) -> psycopg.Connection:
    """The connection the next query will use (the pool holds one after a query)."""
    with db._engine.connect() as conn:
        return conn.connection.dbapi_connection  # type: ignore[return-value]


@pytest.mark.parametrize("own_transactions", [False, True])
def test_writes_fail_and_no_transaction_is_left_open(postgres_url: str, table: str, own_transactions: bool) -> None:
    db = SqlDatabase("s", postgres_url, timeout_seconds=5, own_transactions=own_transactions)
    try:
        assert _rows(db, table) == [(1, "ann@example.com")]
        with pytest.raises(DatabaseRejected, match="ReadOnlySqlTransaction"):
            db.execute(f"INSERT INTO {table} VALUES (2, 'eve@example.net')", {}, max_rows=1)
        with pytest.raises(DatabaseRejected):
            db.execute(f"SELECT 1; DELETE FROM {table}", {}, max_rows=1)
        assert _pooled(db).pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert _rows(db, table) == [(1, "ann@example.com")]
    finally:
        db.dispose()


def test_a_session_made_writable_is_not_trusted(db: SqlDatabase, table: str) -> None:
    _rows(db, table)
    pooled = _pooled(db)
    pooled.execute("SET default_transaction_read_only = off")  # behind the pool's back
    with pytest.raises(DatabaseRejected, match="ReadOnlySqlTransaction"):
        db.execute(f"DELETE FROM {table}", {}, max_rows=1)
    assert pooled.closed  # dropped, not handed out again
    assert _rows(db, table) == [(1, "ann@example.com")]


def test_a_statement_that_makes_its_session_writable_ends_it(db: SqlDatabase, table: str) -> None:
    db.execute("SELECT set_config('default_transaction_read_only', 'off', false)", {}, max_rows=1)
    with pytest.raises(DatabaseRejected, match="ReadOnlySqlTransaction"):
        db.execute(f"UPDATE {table} SET email = 'x'", {}, max_rows=1)
    assert _rows(db, table) == [(1, "ann@example.com")]


def test_a_session_without_its_timeout_is_still_cancelled(postgres_url: str) -> None:
    db = SqlDatabase("s", postgres_url, timeout_seconds=0.3)
    try:
        db.execute("SELECT set_config('statement_timeout', '0', false)", {}, max_rows=1)
        with pytest.raises(QueryTimeout, match=r"longer than 0\.3s"):
            db.execute("SELECT pg_sleep(30)", {}, max_rows=1)  # the watchdog cancels it after about 1.5 s
    finally:
        db.dispose()


def test_a_lost_connection_is_replaced(postgres_url: str, db: SqlDatabase, table: str) -> None:
    ((pid,),) = db.execute("SELECT pg_backend_pid()", {}, max_rows=1).rows
    with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert _rows(db, table) == [(1, "ann@example.com")]
    ((new_pid,),) = db.execute("SELECT pg_backend_pid()", {}, max_rows=1).rows
    assert new_pid != pid


def test_a_source_with_opaque_functions_gets_a_session_per_query(postgres_url: str) -> None:
    """What a function may leave in a session past the rollback (an advisory lock here) ends with the query."""
    db = SqlDatabase("s", postgres_url, timeout_seconds=5, own_transactions=True)
    key = 424_200 + uuid.uuid4().int % 1000
    try:
        ((first,),) = db.execute("SELECT pg_backend_pid()", {}, max_rows=1).rows
        db.execute(f"SELECT pg_advisory_lock({key})", {}, max_rows=1)
        ((second,),) = db.execute("SELECT pg_backend_pid()", {}, max_rows=1).rows
        assert first != second
        with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as other:
            got = other.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            assert got == (True,)  # no session holds it any more
            other.execute("SELECT pg_advisory_unlock(%s)", (key,))
    finally:
        db.dispose()


def test_a_query_whose_connection_is_ended_while_it_runs_is_not_run_again(postgres_url: str, db: SqlDatabase) -> None:
    """An administrator ending a heavy query (or a database restarting under it) would see it start again."""
    marker = f"mw_rerun_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as admin:

        def end_it() -> None:
            for _ in range(100):
                found = admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()", (f"%{marker}%",)
                ).fetchall()
                if found:
                    time.sleep(RERUN_WITHIN_SECONDS + 0.2)  # it has run for longer than a dropped connection takes
                    admin.execute("SELECT pg_terminate_backend(%s)", (found[0][0],))
                    return
                time.sleep(0.05)

        ender = threading.Thread(target=end_it)
        ender.start()
        try:
            with pytest.raises(SourceUnavailable, match="not run again"):
                db.execute(f"SELECT pg_sleep(4) AS {marker}", {}, max_rows=1)
        finally:
            ender.join()
        running = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()", (f"%{marker}%",)
        )
        assert running.fetchone() == (0,)


def test_a_query_that_catches_the_cancel_has_its_session_ended(postgres_url: str) -> None:
    """A function an operator allowed may catch `query_canceled` in a loop: the timeout's cancel and the
    watchdog's both fail, so the watchdog ends the session, which no PL/pgSQL handler can catch."""
    name = f"mw_stubborn_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE FUNCTION {name}() RETURNS int LANGUAGE plpgsql AS $$\n"
            "DECLARE started timestamptz := clock_timestamp();\n"
            "BEGIN\n"
            "  WHILE clock_timestamp() < started + interval '30 seconds' LOOP\n"
            "    BEGIN PERFORM pg_sleep(0.05); EXCEPTION WHEN query_canceled THEN NULL; END;\n"
            "  END LOOP;\n"
            "  RETURN 1;\n"
            "END $$"
        )
    db = SqlDatabase("s", postgres_url, timeout_seconds=0.5, own_transactions=True)
    try:
        with pytest.raises(QueryTimeout, match=r"longer than 0\.5s"):
            db.execute(f"SELECT {name}()", {}, max_rows=1)  # ended about 3.5 s past its timeout, not after 30 s
        with engine.connect() as conn:
            running = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE %(q)s AND pid <> pg_backend_pid()",
                {"q": f"%{name}()%"},
            ).scalar()
        assert running == 0
        assert db.execute("SELECT 1", {}, max_rows=1).rows == [(1,)]  # the source goes on, on a new connection
    finally:
        db.dispose()
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}()")
        engine.dispose()
