"""Static SQL guard: one read-only statement, column lineage for masking, inference control.

Decisions are made on the sqlglot expression tree, never on SQL text, and are fail-closed: anything
uncertain is refused (SqlDenied) or, for lineage, reported as kind "unknown".
"""

from mcp_server.sqlguard.errors import SqlDenied
from mcp_server.sqlguard.guard import check_query
from mcp_server.sqlguard.literals import mask_literals
from mcp_server.sqlguard.model import CheckedQuery, ColumnPolicy, OutputColumn, Schema, SourceColumn
from mcp_server.vocabulary import PredicateMode

__all__ = [
    "CheckedQuery",
    "ColumnPolicy",
    "OutputColumn",
    "PredicateMode",
    "Schema",
    "SourceColumn",
    "SqlDenied",
    "check_query",
    "mask_literals",
]
