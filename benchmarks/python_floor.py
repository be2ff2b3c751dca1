"""The floor of a Python MCP server: the `mcp` SDK over stdio with one tool that runs the SQL it is sent on
PostgreSQL and returns the rows as a JSON text block, as DBHub's `execute_sql` does. No masking, no checks, no
ledger: what any server written in Python on this SDK pays before doing anything of its own (benchmarks/peers.py).

    .venv/bin/python benchmarks/python_floor.py postgresql://USER@HOST:PORT/DATABASE
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
from typing import Any

import psycopg
from mcp.server.mcpserver import MCPServer


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

    @server.tool(structured_output=False)  # text only, as DBHub answers
    def execute_sql(sql: str) -> str:
        """Run one SQL statement; the rows as JSON."""
        with conn.cursor() as cursor:
            cursor.execute(sql)
            names = [d.name for d in cursor.description or ()]
            rows = [dict(zip(names, map(_plain, row), strict=True)) for row in cursor.fetchall()]
        return json.dumps({"rows": rows}, indent=2)

    server.run("stdio")


if __name__ == "__main__":
    main()
