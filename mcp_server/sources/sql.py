"""`kind = "sql"`: a database through SQLAlchemy (SQLite, PostgreSQL, MySQL/MariaDB), served by describe and query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator

from mcp_server.masking.presets import PresetName
from mcp_server.sources.registry import Deployment, SourceKind, register
from mcp_server.sources.settings import ColumnOverride, SourceSettings

if TYPE_CHECKING:
    from connectors.sql import SqlDatabase


class SqlSource(SourceSettings):
    kind: Literal["sql"]
    url: str
    max_rows: Annotated[int, Field(ge=1, le=100_000)] = 500
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 15.0
    columns: dict[str, ColumnOverride] = Field(default_factory=dict)
    """Overrides keyed "table.column"."""
    allow_functions: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]{0,127}$")]] = Field(
        default_factory=list
    )
    """Functions beyond the built-in allow-list that queries may call (e.g. your own pure UDFs). They are treated
    as opaque: no protected column may be passed to them, and their output is scanned as free text."""
    preset: PresetName | None = None
    """A regime's classification rules (masking/presets.py); default: `[masking] preset`."""

    @field_validator("columns")
    @classmethod
    def _keys_are_table_dot_column(cls, value: dict[str, ColumnOverride]) -> dict[str, ColumnOverride]:
        for key in value:
            if key.count(".") != 1 or not all(key.split(".")):
                raise ValueError(f'column override key "{key}" must be "table.column"')
        return value


def open_sql(config: Deployment, source: SqlSource) -> SqlDatabase:
    from connectors.sql import SqlDatabase

    return SqlDatabase(
        source.name,
        config.sql_url(source),
        timeout_seconds=source.timeout_seconds,
        own_transactions=bool(source.allow_functions),
    )


def _where(config: Deployment, source: SqlSource) -> str:
    from connectors.sql import redacted_url

    return redacted_url(config.sql_url(source))


def _precheck(config: Deployment, source: SqlSource) -> str | None:
    from mcp_server.diagnose import sql_problem

    return sql_problem(config.sql_url(source))


SQL = register(SourceKind("sql", SqlSource, "tabular", open_sql, _where, _precheck))
