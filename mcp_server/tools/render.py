"""The compact text a model reads for each tool result (the structured result carries the same data)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcp_server.tools.models import DescribeResult, ListSourcesResult, QueryColumn, QueryResult


def render_sources(result: ListSourcesResult) -> str:
    if not result.sources:
        return "No sources are configured."
    lines = ["Sources (name, kind, details):"]
    for s in result.sources:
        details = []
        if s.dialect:
            details.append(s.dialect)
        if s.tables is not None:
            details.append(f"{s.tables} tables")
        if s.documents is not None:
            details.append(f"{s.documents} documents")
        if s.status != "ok":
            details.append(s.status)
        description = f" - {s.description}" if s.description else ""
        lines.append(f"- {s.name} ({s.kind}; {', '.join(details) or 'ok'}){description}")
    lines.append("Use describe(source) for tables and columns; query(source, sql) runs one SELECT.")
    return "\n".join(lines)


def render_describe(result: DescribeResult) -> str:
    if result.documents is not None:
        d = result.documents
        types = ", ".join(f"{k} {v}" for k, v in sorted(d.types.items()))
        return (
            f"Source {result.source} ({result.kind}): {d.documents} documents"
            + (f" in {d.chunks} indexed chunks" if d.chunks is not None else "")
            + (f"; types: {types}" if types else "")
            + (f"; {d.skipped} files skipped (unreadable or too large)" if d.skipped else "")
            + (f"; index refreshed {d.last_refresh}" if d.last_refresh else "")
            + ".\nUse search(query, sources) to find passages and read(source, ref) for a whole document; "
            "personal data in them comes back as tokens."
        )
    lines = [f"Source {result.source} ({result.dialect}). Columns: name type [masking]."]
    for table in result.tables:
        cols = []
        for c in table.columns:
            tag = f"masked {c.entity}" if c.masking == "pii" else ("scanned" if c.masking == "text" else "clear")
            cols.append(f"{c.name} {c.type or '?'} [{tag}]")
        lines.append(f"{table.name}: " + ", ".join(cols))
    lines.append(
        "Masked columns return tokens like <EMAIL_ADDRESS:…>; the same value always gives the same "
        "token, so you can join, group and count by them, and use a token as a literal in WHERE col = '<token>'. "
        "Filters on masked columns allow equality only."
    )
    return "\n".join(lines)


def cell(value: Any) -> str:
    if value is None:
        return "NULL"
    text = str(value)
    return text.replace("\r", "").replace("\n", "\\n")


def render_header(columns: Sequence[QueryColumn]) -> str:
    return " | ".join(c.name for c in columns)


def render_row(row: Sequence[Any]) -> str:
    line = " | ".join([v if type(v) is str else cell(v) for v in row])
    if "\n" in line or "\r" in line:  # rare: a cell holds a line break, shown as \n
        return " | ".join([cell(v) for v in row])
    return line


def render_footer(row_count: int, entities_masked: Mapping[str, int], more: bool, cursor: str | None) -> str:
    masked = ", ".join(f"{k} {v}" for k, v in sorted(entities_masked.items()))
    parts = [f"{row_count} row{'s' if row_count != 1 else ''}"]
    parts.append(f"masked: {masked}" if masked else "nothing masked")
    if more and cursor:
        parts.append(f'more rows exist: call query again with the same sql and cursor="{cursor}"')
    return "(" + "; ".join(parts) + ")"


FOOTER_CHARS = 240
"""Characters the footer (counts, cursor) takes at most, for estimates made before it is written."""


def render_query(result: QueryResult) -> str:
    lines = [render_header(result.columns)]
    lines.extend(render_row(r) for r in result.rows)
    lines.append(render_footer(result.row_count, result.entities_masked, result.more, result.cursor))
    return "\n".join(lines)
