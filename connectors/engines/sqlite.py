"""SQLite: files opened read-only (`mode=ro`, `PRAGMA query_only`), the timeout enforced by a progress handler."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, Connection

from connectors.base import Paramstyle, SourceUnavailable
from connectors.engines.base import EngineBackend


class SqliteBackend(EngineBackend):
    names: ClassVar[tuple[str, ...]] = ("sqlite",)
    dialect: ClassVar[str] = "sqlite"
    paramstyle: ClassVar[Paramstyle] = "named"

    def create_engine(self, source: str, url: URL, timeout_seconds: float) -> sa.Engine:
        path = url.database
        if not path or path == ":memory:":
            raise SourceUnavailable(f'source "{source}": a SQLite source needs a database file')
        if path.startswith("file:"):
            raise SourceUnavailable(f'source "{source}": give a plain SQLite file path, not a file: URI')

        def connect() -> sqlite3.Connection:
            try:
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            except sqlite3.Error as exc:
                raise SourceUnavailable(f'source "{source}": cannot open SQLite file ({exc})') from None
            conn.execute("PRAGMA query_only = 1")
            return conn

        return sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.QueuePool, pool_size=4)

    @contextmanager
    def deadline(self, conn: Connection, timeout_seconds: float) -> Iterator[None]:
        raw = conn.connection.dbapi_connection
        deadline = time.monotonic() + timeout_seconds
        raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)  # type: ignore[union-attr]
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)  # type: ignore[union-attr]

    def insert_if_absent(self, table: sa.Table) -> sa.Insert:
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=[c.name for c in table.primary_key])
