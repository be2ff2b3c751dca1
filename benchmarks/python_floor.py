"""The floor of a Python MCP server: the `mcp` SDK over stdio with one tool that runs the SQL it is sent on
PostgreSQL and returns the rows as a JSON text block, as DBHub's `execute_sql` does. No masking, no checks, no
ledger: what any server written in Python on this SDK pays before doing anything of its own (benchmarks/peers.py).

With `--structured` the tool answers as Maskwire's `query` does, with an outputSchema, `structuredContent`
(columns, rows as lists, a row count) and a compact text of the rows (one tab-separated line each): what the
SDK and its client pay for a structured result, before any work of Maskwire's own.

    .venv/bin/python benchmarks/python_floor.py postgresql://USER@HOST:PORT/DATABASE [--structured]
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
from typing import Annotated, Any

import psycopg
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, WithJsonSchema


class Column(BaseModel):
    name: str


class Rows(BaseModel):
    """The shape of Maskwire's query result, without its masking fields."""

    columns: list[Column]
    rows: Annotated[list[list[Any]], WithJsonSchema({"type": "array"})]
    row_count: int


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def main() -> None:
    conn = psycopg.connect(sys.argv[1], autocommit=True)
    conn.read_only = True
    server = MCPServer("python-floor")

    def fetch(sql: str) -> tuple[list[str], list[list[Any]]]:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            names = [d.name for d in cursor.description or ()]
            return names, [list(map(_plain, row)) for row in cursor.fetchall()]

    if "--structured" in sys.argv[2:]:

        @server.tool()
        def execute_sql(sql: str) -> Annotated[CallToolResult, Rows]:
            """Run one SQL statement; the rows as structured content and as text."""
            names, rows = fetch(sql)
            text = "\n".join(["\t".join(names), *("\t".join(map(str, row)) for row in rows)])
            structured = {"columns": [{"name": n} for n in names], "rows": rows, "row_count": len(rows)}
            return CallToolResult(content=[TextContent(text=text)], structured_content=structured)

        for tool in server._tool_manager.list_tools():  # valid by construction, as Maskwire's results are
            tool.fn_metadata.output_model = None
    else:

        @server.tool(structured_output=False)  # text only, as DBHub answers
        def execute_sql(sql: str) -> str:
            """Run one SQL statement; the rows as JSON."""
            names, rows = fetch(sql)
            return json.dumps({"rows": [dict(zip(names, row, strict=True)) for row in rows]}, indent=2)

    server.run("stdio")


if __name__ == "__main__":
    main()
