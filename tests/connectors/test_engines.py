"""The per-engine backends: which URL gets which backend, and the engine differences they hold."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from connectors.engines import BACKENDS, MysqlBackend, PostgresBackend, SqliteBackend, backend_named
from connectors.sql import SqlDatabase


@pytest.mark.parametrize(
    ("url", "backend", "dialect"),
    [
        ("sqlite:///x.sqlite", SqliteBackend, "sqlite"),
        ("postgresql+psycopg://u@h/db", PostgresBackend, "postgres"),
        ("postgresql://u@h/db", PostgresBackend, "postgres"),
        ("mysql+pymysql://u@h/db", MysqlBackend, "mysql"),
        ("mariadb+pymysql://u@h/db", MysqlBackend, "mysql"),
    ],
)
def test_urls_pick_their_engine(url: str, backend: type, dialect: str) -> None:
    found = backend_named(make_url(url).get_backend_name())
    assert isinstance(found, backend) and found.dialect == dialect
    assert [b.dialect for b in BACKENDS].count(dialect) == 1


def test_unsupported_engines_have_no_backend() -> None:
    assert backend_named("oracle") is None
    assert backend_named("mssql") is None


def test_quoting_follows_the_engine() -> None:
    assert PostgresBackend().quote('odd "name"') == '"odd ""name"""'
    assert MysqlBackend().quote("odd name") == "`odd name`"
    assert SqliteBackend().quote("odd name") == '"odd name"'


def test_the_connector_takes_dialect_and_paramstyle_from_its_backend(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    path = tmp_path / "t.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE t (a INTEGER)")
    db = SqlDatabase("t", f"sqlite:///{path}")
    try:
        assert isinstance(db.backend, SqliteBackend)
        assert (db.dialect, db.paramstyle) == ("sqlite", "named")
    finally:
        db.dispose()
