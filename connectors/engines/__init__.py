"""One backend class per SQL engine (SQLite, PostgreSQL, MySQL/MariaDB); `backend_named` picks it by the
SQLAlchemy backend name of a URL.

A new engine is one module with an `EngineBackend` subclass, added to `BACKENDS`."""

from __future__ import annotations

from connectors.engines.base import EngineBackend
from connectors.engines.mysql import MysqlBackend
from connectors.engines.postgres import PostgresBackend
from connectors.engines.sqlite import SqliteBackend

BACKENDS: tuple[EngineBackend, ...] = (SqliteBackend(), PostgresBackend(), MysqlBackend())
_BY_NAME = {name: backend for backend in BACKENDS for name in backend.names}


def backend_named(name: str) -> EngineBackend | None:
    """The backend for a SQLAlchemy backend name ("postgresql", "mariadb"...), None when unsupported."""
    return _BY_NAME.get(name)


__all__ = [
    "BACKENDS",
    "EngineBackend",
    "MysqlBackend",
    "PostgresBackend",
    "SqliteBackend",
    "backend_named",
]
