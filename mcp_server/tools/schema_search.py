"""`search_schema`: find tables and columns by name or pattern in large schemas, without listing everything.

A pattern without `*` or `?` matches part of a name ("email" finds `customer_email`); with them it is a glob
over the whole name ("cust*", "*_id"); with a dot it matches table and column ("orders.*", "*.created_at").
Matches are case-insensitive. A table whose name matches is returned as one hit (with its column count: call
describe for its columns); a matching column comes with its masking decision. Only tables the caller's role may
read are searched, and only the tables of the page returned are classified.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field

from mcp_server.catalog import SqlCatalog
from mcp_server.pipeline.budget import BudgetFitter
from mcp_server.pipeline.errors import source_errors
from mcp_server.pipeline.sources import SourceSet
from mcp_server.pipeline.sql import column_predicates
from mcp_server.policy import Policy
from mcp_server.tokens import TokenCounter
from mcp_server.tools.problems import ToolOutput, ToolProblem

MAX_PATTERN_CHARS = 200
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
Masking = Literal["pii", "text", "clear"]


class SchemaMatch(BaseModel):
    source: str
    table: str
    column: str | None = Field(default=None, description="None when the table's own name matched")
    type: str | None = None
    columns: int | None = Field(default=None, description="For a matching table: how many columns it has")
    masking: Masking | None = Field(
        default=None, description="pii: every value replaced by a token; text: scanned for personal data; clear"
    )
    entity: str | None = None
    predicates: Literal["none", "equality", "any"] | None = None
    reason: str | None = None


class SchemaSearchResult(BaseModel):
    matches: list[SchemaMatch]
    total: int = Field(description="Matches in all, over every page")
    next_offset: int | None = Field(default=None, description="Pass as offset for the next page; None at the end")


def name_matcher(pattern: str) -> tuple[Callable[[str], bool] | None, Callable[[str], bool]]:
    """(table matcher or None, name matcher) for a pattern; see the module docstring."""

    def compile_part(part: str) -> Callable[[str], bool]:
        if "*" in part or "?" in part:
            regex = re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in part), re.I)
            return lambda name: regex.fullmatch(name) is not None
        folded = part.casefold()
        return lambda name: folded in name.casefold()

    if "." in pattern:
        table_part, column_part = pattern.split(".", 1)
        return compile_part(table_part or "*"), compile_part(column_part or "*")
    return None, compile_part(pattern)


def search_schema(
    sources_in: SourceSet,
    counter: TokenCounter,
    budget: int,
    pattern: str,
    sources: list[str] | None,
    masking: Masking | None,
    limit: int | None,
    offset: int | None,
    policy: Policy,
) -> ToolOutput:
    if not isinstance(pattern, str) or not pattern.strip():
        raise ToolProblem("`pattern` is empty: send part of a table or column name, or a glob like cust* or *.email")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ToolProblem(f"`pattern` is {len(pattern):,} characters; the limit is {MAX_PATTERN_CHARS}")
    limit = DEFAULT_LIMIT if limit is None else limit
    offset = 0 if offset is None else offset
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ToolProblem(f"`limit` is 1 to {MAX_LIMIT} and `offset` 0 or more")
    catalogs = _catalogs(sources_in, sources, policy)
    table_matches, name_matches = name_matcher(pattern.strip())

    # Names first (cheap, from the cached schema); the decisions only for the page returned.
    hits: list[tuple[str, str, str | None]] = []
    with source_errors():
        for catalog in catalogs:
            for table in catalog.tables().values():
                if not policy.may_read_table(catalog.name, table.name):
                    continue
                if table_matches is None and masking is None and name_matches(table.name):
                    hits.append((catalog.name, table.name, None))
                if table_matches is not None and not table_matches(table.name):
                    continue
                hits.extend((catalog.name, table.name, c.name) for c in table.columns if name_matches(c.name))
        if masking is not None:  # a filter on the decision needs the decisions of every candidate
            by_name = sources_in.catalogs
            hits = [h for h in hits if h[2] is not None and by_name[h[0]].classify(h[1], h[2]).kind == masking]
        matches = [_match(sources_in, hit) for hit in hits[offset : offset + limit]]
    return _fit(counter, budget, matches, offset, len(hits))


def _fit(counter: TokenCounter, budget: int, matches: list[SchemaMatch], offset: int, total: int) -> ToolOutput:
    """The page, cut to the per-call output budget ([tokens] max_output_tokens); the rest is on the next page."""
    sizes = [len(matches)]
    while sizes[-1] > 1:
        sizes.append(max(1, sizes[-1] * 3 // 4))
    results: dict[int, SchemaSearchResult] = {}
    texts: dict[int, str] = {}

    def text(i: int) -> str:
        if i not in texts:
            end = offset + sizes[i]
            results[i] = SchemaSearchResult(
                matches=matches[: sizes[i]], total=total, next_offset=end if end < total else None
            )
            texts[i] = render(results[i])
        return texts[i]

    fitted = BudgetFitter(counter, budget).largest(len(sizes), text, lambda i: len(text(i)))
    return ToolOutput(results[fitted.index], fitted.text, tokens=fitted.tokens)


def _catalogs(sources_in: SourceSet, sources: list[str] | None, policy: Policy) -> list[SqlCatalog]:
    if sources is None:
        return [c for name, c in sources_in.catalogs.items() if policy.may_use_source(name)]
    chosen = []
    for name in sources:
        configured = sources_in.config.source(name) if isinstance(name, str) else None
        if configured is None:
            known = ", ".join(sorted(sources_in.catalogs)) or "none"
            raise ToolProblem(f"unknown source in `sources`; SQL sources: {known}")
        if not policy.may_use_source(configured.name):
            raise ToolProblem(f'role "{policy.role}" may not use source "{configured.name}"')
        problem = sources_in.unavailable(configured.name, "tabular")
        if problem is not None:
            raise problem
        if configured.name not in sources_in.catalogs:
            raise ToolProblem(f'source "{configured.name}" is a {configured.kind} source: it has no schema to search')
        chosen.append(sources_in.catalogs[configured.name])
    return chosen


def _match(sources_in: SourceSet, hit: tuple[str, str, str | None]) -> SchemaMatch:
    source, table, column = hit
    catalog = sources_in.catalogs[source]
    info = catalog.table(table)
    if column is None:
        return SchemaMatch(source=source, table=table, columns=len(info.columns) if info else None)
    decision = catalog.classify(table, column)
    sql_type = next((c.type for c in info.columns if c.name == column), None) if info else None
    return SchemaMatch(
        source=source,
        table=table,
        column=column,
        type=sql_type,
        masking=decision.kind,
        entity=decision.entity,
        predicates=column_predicates(catalog, table, column, decision),
        reason=decision.reason,
    )


def render(result: SchemaSearchResult) -> str:
    if not result.matches:
        return "No table or column matches. Try part of a name (email), or a glob such as cust* or *.created_at."
    lines = [f"{result.total} matches" + (f"; showing {len(result.matches)}" if result.next_offset is not None else "")]
    for m in result.matches:
        if m.column is None:
            lines.append(f"{m.source}.{m.table} (table, {m.columns} columns)")
            continue
        tag = f"masked {m.entity}" if m.masking == "pii" else ("scanned" if m.masking == "text" else "clear")
        lines.append(f"{m.source}.{m.table}.{m.column} {m.type or '?'} [{tag}]")
    if result.next_offset is not None:
        lines.append(f"More: call again with offset={result.next_offset}.")
    lines.append("describe(source, table) gives a table's columns; masked columns allow equality filters only.")
    return "\n".join(lines)
