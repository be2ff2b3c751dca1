"""MySQL and MariaDB: `TRANSACTION READ ONLY` sessions with `max_statement_time`; PyMySQL does not enable
multi-statements."""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa

from connectors.engines import reasons
from connectors.engines.base import EngineBackend

_CONNECT_CODES = {
    1049: reasons.DATABASE_MISSING,
    1045: reasons.LOGIN_REFUSED,
    1698: reasons.LOGIN_REFUSED,
    1044: reasons.NOT_ALLOWED,
    2003: reasons.HOST_REFUSED,
    2005: reasons.HOST_UNKNOWN,
    2013: reasons.HOST_TIMEOUT,
}


class MysqlBackend(EngineBackend):
    names: ClassVar[tuple[str, ...]] = ("mysql", "mariadb")
    dialect: ClassVar[str] = "mysql"
    bundled_driver: ClassVar[str | None] = "pymysql"

    def session_setup(self, timeout_seconds: float) -> tuple[str, ...]:
        return ("SET SESSION TRANSACTION READ ONLY", f"SET SESSION max_statement_time = {timeout_seconds:.3f}")

    def transaction_setup(self, timeout_seconds: float) -> tuple[str, ...]:
        return ("START TRANSACTION READ ONLY",)

    def message_of(self, error: BaseException) -> str:
        args: tuple[Any, ...] = tuple(getattr(error, "args", ()))
        # PyMySQL: (code, message); the message is the useful part
        return str(args[1]) if len(args) == 2 and isinstance(args[0], int) else str(error)

    def connect_problem(self, error: BaseException) -> str | None:
        code = error.args[0] if error.args and isinstance(error.args[0], int) else None
        return _CONNECT_CODES.get(code) if code is not None else None

    def insert_if_absent(self, table: sa.Table) -> sa.Insert:
        return table.insert().prefix_with("IGNORE")
