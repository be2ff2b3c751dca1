"""The source contract: what every connector offers, and the one error hierarchy every store raises.

Two kinds of source exist. A tabular source (a SQL database) has a schema and runs checked statements; a
document source (a folder of files, rows of a document table) is searched and read by ref. Connectors return
raw values plus provenance and know nothing about MCP or masking; the read pipeline (`mcp_server/pipeline/`)
masks what they return.

Error messages name the source and the kind of problem, never a data value: they reach clients and the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from connectors.documents import Document, DocumentHit, IndexReport, SkippedFile

Paramstyle = Literal["named", "pyformat"]
Progress = Callable[[int, int, str], None]
"""(done, total, ref) while an index is refreshed."""

# -- errors ----------------------------------------------------------------------------------------


class ConnectorError(Exception):
    """A data source failed. The message names the source and the problem, never a data value."""


class SourceUnavailable(ConnectorError):
    """The source cannot be reached or opened, or its configuration does not fit what it holds."""


class QueryTimeout(ConnectorError):
    """The query ran longer than the source's timeout and was cancelled."""


class InvalidRequest(ConnectorError):
    """The caller asked for something the source cannot answer (an empty query, a limit below one)."""


class DocumentNotFound(ConnectorError):
    """The ref names no document."""


class DocumentUnreadable(DocumentNotFound):
    """The ref names a file whose text cannot be extracted (encrypted, corrupt, too large...).

    A DocumentNotFound subclass so a caller handling only "not found" still answers cleanly.
    """


class RefDenied(ConnectorError):
    """The ref tries traversal, is absolute, leaves the root, or names an excluded/hidden file."""


# -- tabular sources -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    nullable: bool
    primary_key: bool


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[ColumnInfo, ...]

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class ResultPage:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    more: bool
    """True when the database had more rows after this page."""


@runtime_checkable
class TabularSource(Protocol):
    """A database: a schema of tables, and checked read-only statements run against it."""

    name: str
    dialect: str
    """The sqlglot dialect the SQL guard parses this source's statements in."""
    paramstyle: Paramstyle

    def schema(self, refresh: bool = False) -> dict[str, TableInfo]: ...

    def column_map(self) -> dict[str, list[str]]: ...

    def execute(self, sql: str, params: Mapping[str, Any], *, max_rows: int, skip: int = 0) -> ResultPage: ...

    def sample(
        self, table: str, columns: Sequence[str], limit: int, *, distinct: bool = True
    ) -> dict[str, list[Any]]: ...

    def dispose(self) -> None: ...


# -- document sources ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentStats:
    """What a document source holds, the same fields for every kind (None: the kind has no such notion)."""

    documents: int
    chunks: int | None = None
    skipped: int | None = None
    types: dict[str, int] = field(default_factory=dict)
    """Documents per file type (".md": 3)."""
    last_refresh: str | None = None
    index_bytes: int | None = None
    where: str | None = None
    """Where the documents live, safe to show ("rows of public.notes")."""


@runtime_checkable
class DocumentSource(Protocol):
    """Documents searched by words and read by ref. Refs are the source's own; callers never show them raw."""

    name: str

    def search(self, query: str, limit: int = 10) -> list[DocumentHit]: ...

    def read(self, ref: str) -> Document: ...

    def stats(self) -> DocumentStats: ...

    def close(self) -> None: ...


@runtime_checkable
class IndexedSource(DocumentSource, Protocol):
    """A document source searched through an index it keeps itself, refreshed from the documents."""

    def needs_refresh(self) -> bool: ...

    def refresh(self, progress: Progress | None = None) -> IndexReport: ...

    def indexed_refs(self) -> list[str]: ...

    def skipped(self) -> list[SkippedFile]: ...


__all__ = [
    "ColumnInfo",
    "ConnectorError",
    "Document",
    "DocumentHit",
    "DocumentNotFound",
    "DocumentSource",
    "DocumentStats",
    "DocumentUnreadable",
    "IndexReport",
    "IndexedSource",
    "InvalidRequest",
    "Paramstyle",
    "Progress",
    "QueryTimeout",
    "RefDenied",
    "ResultPage",
    "SkippedFile",
    "SourceUnavailable",
    "TableInfo",
    "TabularSource",
]
