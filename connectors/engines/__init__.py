"""One backend class per SQL engine (SQLite, PostgreSQL, MySQL/MariaDB); `backend_for` picks it from a URL.

A new engine is one module with an `EngineBackend` subclass, added to `BACKENDS`."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

from connectors.engines.base import EngineBackend
from connectors.engines.mysql import MysqlBackend
from connectors.engines.postgres import PostgresBackend
from connectors.engines.sqlite import SqliteBackend

BACKENDS: tuple[EngineBackend, ...] = (SqliteBackend(), PostgresBackend(), MysqlBackend())
_BY_NAME = {name: backend for backend in BACKENDS for name in backend.names}
DIALECTS = tuple(b.dialect for b in BACKENDS)


def backend_named(name: str) -> EngineBackend | None:
    """The backend for a SQLAlchemy backend name ("postgresql", "mariadb"...), None when unsupported."""
    return _BY_NAME.get(name)


def backend_for(url: str | URL) -> EngineBackend | None:
    """The backend for a SQLAlchemy URL, None when its engine is unsupported (ValueError-free: a bad URL raises)."""
    return backend_named(make_url(url).get_backend_name())


def backend_of_dialect(dialect: str) -> EngineBackend | None:
    """The backend whose sqlglot dialect is `dialect`."""
    return next((b for b in BACKENDS if b.dialect == dialect), None)


__all__ = [
    "BACKENDS",
    "DIALECTS",
    "EngineBackend",
    "MysqlBackend",
    "PostgresBackend",
    "SqliteBackend",
    "backend_for",
    "backend_named",
    "backend_of_dialect",
]
