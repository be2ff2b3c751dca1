"""The engine-level wall: even SQL that skipped the guard cannot write, stack statements or run forever.

Runs on SQLite, PostgreSQL and MariaDB (real servers; skipped locally when unreachable, failing in CI).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.base import QueryTimeout
from connectors.sql import DatabaseRejected, SqlDatabase

ENGINES = ["sqlite", "postgres", "mysql"]


@pytest.fixture(params=ENGINES)
def writable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wall.sqlite'}"
    return str(request.getfixturevalue("postgres_url" if request.param == "postgres" else "mysql_url"))


@pytest.fixture
def table(writable_url: str) -> Iterator[tuple[str, str]]:
    """A fresh table with two rows, created through a separate writable connection."""
    name = f"mw_wall_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(writable_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, email VARCHAR(100))")
        conn.exec_driver_sql(f"INSERT INTO {name} VALUES (1, 'ann@example.com'), (2, 'bob@example.org')")
    yield writable_url, name
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    engine.dispose()


def _state(url: str, name: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql(f"SELECT id, email FROM {name} ORDER BY id")]
    engine.dispose()
    return rows


WRITES = [
    "DELETE FROM {t}",
    "UPDATE {t} SET email = 'x'",
    "INSERT INTO {t} VALUES (3, 'eve@example.net')",
    "DROP TABLE {t}",
    "SELECT 1; DELETE FROM {t}",
    "SELECT 1 AS a; SELECT 2 AS b",
]


@pytest.mark.parametrize("statement", WRITES)
def test_writes_and_stacked_statements_fail_at_the_engine(table: tuple[str, str], statement: str) -> None:
    url, name = table
    before = _state(url, name)
    db = SqlDatabase("wall", url, timeout_seconds=5)
    try:
        with pytest.raises(DatabaseRejected) as err:
            db.execute(statement.format(t=name), {}, max_rows=10)
    finally:
        db.dispose()
    assert "ann@example.com" not in str(err.value)
    assert _state(url, name) == before


def test_reads_work_and_page(table: tuple[str, str]) -> None:
    url, name = table
    db = SqlDatabase("wall", url)
    try:
        first = db.execute(f"SELECT id FROM {name} ORDER BY id", {}, max_rows=1)
        second = db.execute(f"SELECT id FROM {name} ORDER BY id", {}, max_rows=1, skip=1)
        assert (first.rows, first.more, second.rows, second.more) == ([(1,)], True, [(2,)], False)
        assert db.column_map()[name] == ["id", "email"]
    finally:
        db.dispose()


def test_percent_signs_survive_parameter_styles(table: tuple[str, str]) -> None:
    url, name = table
    db = SqlDatabase("wall", url)
    try:
        like = "'%example.com'" if db.paramstyle == "named" else "'%%example.com'"
        page = db.execute(f"SELECT id FROM {name} WHERE email LIKE {like}", {}, max_rows=10)
        assert page.rows == [(1,)]
    finally:
        db.dispose()


def test_long_queries_are_cancelled(table: tuple[str, str]) -> None:
    db = SqlDatabase("wall", table[0], timeout_seconds=0.5)
    slow = {
        "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n",
        "postgres": "SELECT pg_sleep(5)",
        "mysql": "SELECT SLEEP(5)",
    }[db.dialect]
    try:
        with pytest.raises(QueryTimeout):
            db.execute(slow, {}, max_rows=1)
    finally:
        db.dispose()


def test_sqlite_file_is_opened_read_only(tmp_path: Path) -> None:
    path = tmp_path / "ro.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER)")
    engine.dispose()
    db = SqlDatabase("ro", f"sqlite:///{path}")
    try:
        for statement in ["PRAGMA query_only = 0", "ATTACH DATABASE ':memory:' AS x", "VACUUM"]:
            with contextlib.suppress(DatabaseRejected):  # refused or harmless: the file must stay unchanged
                db.execute(statement, {}, max_rows=1)
        with pytest.raises(DatabaseRejected):
            db.execute("INSERT INTO t VALUES (1)", {}, max_rows=1)
    finally:
        db.dispose()
    assert _state_count(path) == 0


def _state_count(path: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one()
    engine.dispose()
    return int(count)


def test_passwords_never_appear_in_errors() -> None:
    with pytest.raises(Exception) as err:
        SqlDatabase("bad", "postgresql+psycopg://app:Sup3rSecret@127.0.0.1:1/nowhere").schema()
    assert "Sup3rSecret" not in str(err.value)


def test_json_and_array_values_are_sampled_as_json_text(postgres_url: str) -> None:
    """A jsonb or array column used to break its whole table (`unhashable type: 'dict'` while sampling)."""
    name = f"mw_json_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, profile JSONB, tags TEXT[])")
        rows = """(1, '{"b": 1, "a": "x"}', ARRAY['p', 'q']), (2, '{"a": "x", "b": 1}', NULL)"""
        conn.exec_driver_sql(f"INSERT INTO {name} VALUES {rows}")
    database = SqlDatabase("pg", postgres_url)
    try:
        sample = database.sample(name, ["profile", "tags"], 10)
        assert sample["profile"] == ['{"a": "x", "b": 1}']  # one distinct document, keys sorted
        assert sample["tags"] == ['["p", "q"]']
    finally:
        database.dispose()
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        engine.dispose()
