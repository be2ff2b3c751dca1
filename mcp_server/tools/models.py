"""Structured results of the tools (published as each tool's outputSchema)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema

SourceKind = str
"""A registered source kind (`sql`, `files`, `pgdocs`, ...; see `mcp_server/sources/`)."""
CELLS = "Cells in the order of `columns`: strings (tokens, masked or clear text), numbers, booleans or null"


class SourceInfo(BaseModel):
    name: str
    kind: SourceKind
    description: str = ""
    dialect: str | None = None
    tables: int | None = None
    documents: int | None = None
    status: str = "ok"


class ListSourcesResult(BaseModel):
    sources: list[SourceInfo]


class ColumnDescription(BaseModel):
    name: str
    type: str
    masking: Literal["pii", "text", "clear"] = Field(
        description="pii: every value replaced by a token; text: personal data inside values is masked; clear: as is"
    )
    entity: str | None = None
    predicates: Literal["none", "equality", "any"]
    reason: str


class TableDescription(BaseModel):
    name: str
    columns: list[ColumnDescription]


class DocumentStats(BaseModel):
    documents: int
    chunks: int | None = None
    skipped: int = 0
    types: dict[str, int] = Field(default_factory=dict)
    last_refresh: str | None = None


class DescribeResult(BaseModel):
    source: str
    kind: SourceKind
    dialect: str | None = None
    tables: list[TableDescription] = Field(default_factory=list)
    documents: DocumentStats | None = None


# A cell as a client receives it: masked values and tokens are strings; clear numbers and flags keep their type.
Cell = str | int | float | bool | None
# Rows are published as an array without a schema per row or cell: clients validate the structured result
# against the outputSchema, and the SDK's jsonschema walks every row it is given a schema for (with pydantic's
# `anyOf` per cell ~200 ms of a 1,000-row page; with `type: array` per row still ~3.5 ms, ~0.3 ms at 100 rows).
# The server validates every cell with pydantic; the descriptions say what a row and a cell are.
Rows = Annotated[
    list[list[Cell]],
    WithJsonSchema({"type": "array", "description": f"One list per row. {CELLS}"}),
]


MASKING_KINDS = (
    "pii: personal values as tokens; redacted: values computed from personal data, shown as <ENTITY>; text: personal"
    " data inside values masked; withheld: free text the query transformed; clear: as is"
)


class QueryColumn(BaseModel):
    name: str
    masking: Literal["pii", "redacted", "text", "withheld", "clear"] = Field(description=MASKING_KINDS)
    entity: str | None = None


# The columns too: a client's jsonschema checking eleven column objects (three properties, an `anyOf` for the
# entity) took 0.3 ms of every call, four times the check of the rest of the page. The description says what a
# column object holds; the server validates them with pydantic.
COLUMN_FIELDS = (
    'One object per output column, in order: {"name": the column\'s name, "masking": how its values are masked'
    f' ({MASKING_KINDS}), "entity": the entity type of pii and redacted columns, else null}}.'
)
Columns = Annotated[list[QueryColumn], WithJsonSchema({"type": "array", "description": COLUMN_FIELDS})]


class QueryResult(BaseModel):
    source: str
    columns: Columns
    rows: Rows
    row_count: int
    truncated: bool = Field(description="True when the page was cut by the row or token budget")
    more: bool = Field(description="True when more rows exist after this page")
    cursor: str | None = Field(default=None, description="Pass back as `cursor` with the same SQL for the next page")
    entities_masked: dict[str, int]


class SearchHit(BaseModel):
    source: str
    ref: str = Field(description="Opaque document reference for read()")
    title: str
    score: float
    snippet: str


class SearchResult(BaseModel):
    hits: list[SearchHit]
    truncated: bool = Field(default=False, description="True when lower-ranked hits were left out to fit the budget")
    entities_masked: dict[str, int]


class ReadResult(BaseModel):
    source: str
    ref: str
    title: str
    media_type: str
    text: str
    more: bool
    cursor: str | None = Field(default=None, description="Pass back with the same ref for the next page")
    entities_masked: dict[str, int]


def as_json(result: BaseModel) -> dict[str, Any]:
    """A tool's structured result as JSON values. A query's rows are JSON values already (the read pipeline checks
    every cell, `pipeline/sql.py` `_check_cells`): they are passed as they are, not copied cell by cell."""
    if isinstance(result, QueryResult):
        dumped = result.model_dump(mode="json", exclude={"rows"})
        return {name: result.rows if name == "rows" else dumped[name] for name in QueryResult.model_fields}
    return result.model_dump(mode="json")
