"""`kind = "pgdocs"`: rows of a PostgreSQL table or view as documents, searched with PostgreSQL full-text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from mcp_server.sources.registry import Deployment, SourceKind, register
from mcp_server.sources.settings import SourceSettings

if TYPE_CHECKING:
    from connectors.pgdocs import PgDocStore


class PgDocsSource(SourceSettings):
    """Rows of a PostgreSQL table or view served as documents (search with PostgreSQL full-text)."""

    kind: Literal["pgdocs"]
    url: str
    table: str
    id_column: str = "id"
    title_column: str | None = "title"
    body_column: str = "body"
    db_schema: str | None = Field(default=None, alias="schema")
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 15.0


def open_pgdocs(_config: Deployment, source: PgDocsSource) -> PgDocStore:
    from connectors.pgdocs import PgDocStore

    return PgDocStore(
        source.name,
        source.url,
        table=source.table,
        id_column=source.id_column,
        title_column=source.title_column,
        body_column=source.body_column,
        schema=source.db_schema,
        statement_timeout_ms=int(source.timeout_seconds * 1000),
    )


def _where(_config: Deployment, source: PgDocsSource) -> str:
    from connectors.sql import redacted_url

    return redacted_url(source.url)


def _precheck(_config: Deployment, source: PgDocsSource) -> str | None:
    from mcp_server.diagnose import sql_problem

    return sql_problem(source.url)


PGDOCS = register(SourceKind("pgdocs", PgDocsSource, "document", open_pgdocs, _where, _precheck))
