"""Statements of the append path compiled once per dialect and run with the driver's own SQL.

SQLAlchemy compiles a core statement (and builds its cache key) on every execution; for the few statements
every tool call runs, that was most of the cost of recording the call. These are compiled once, and each
call passes its rows straight to the driver (`exec_driver_sql`: still SQLAlchemy's errors and events).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler


class Prepared:
    def __init__(self, statement: sa.ClauseElement, dialect: sa.Dialect, *, literal: bool = False) -> None:
        """`literal`: a statement without parameters (its bound values written into the SQL)."""
        compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": literal})
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self.positional = bool(compiled.positiontup)
        """The driver takes a tuple per row, in `names` order (else a mapping by name)."""
        self.names = tuple(compiled.positiontup or ())

    def run(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]] = ()) -> sa.CursorResult[Any]:
        """Execute once per row (`executemany`), or once without parameters when `rows` is empty."""
        if not rows:
            return conn.exec_driver_sql(self.sql)
        params: list[Any] = [tuple(row[n] for n in self.names) for row in rows] if self.positional else list(rows)
        return conn.exec_driver_sql(self.sql, params if len(params) > 1 else params[0])
