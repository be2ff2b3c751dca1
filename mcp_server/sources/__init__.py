"""Source kinds and their registry; importing this package registers the built-in kinds (sql, files, pgdocs)."""

from mcp_server.sources import sql

# isort: split
from mcp_server.sources import files, pgdocs
from mcp_server.sources.files import FilesSource
from mcp_server.sources.pgdocs import PgDocsSource
from mcp_server.sources.registry import SourceKind, kind, kinds, register, shape_of, unregister
from mcp_server.sources.settings import ColumnOverride, SourceSettings
from mcp_server.sources.sql import SqlSource

__all__ = [
    "ColumnOverride",
    "FilesSource",
    "PgDocsSource",
    "SourceKind",
    "SourceSettings",
    "SqlSource",
    "files",
    "kind",
    "kinds",
    "pgdocs",
    "register",
    "shape_of",
    "sql",
    "unregister",
]
