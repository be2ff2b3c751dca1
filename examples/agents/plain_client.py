"""A plain MCP client session against `maskwire serve` (stdio), using the official Python SDK.

    .venv/bin/python examples/agents/plain_client.py [path/to/maskwire.toml]

Without an argument it serves the demo workspace (`--demo`: built on first use).
"""

from __future__ import annotations

import sys

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import TextContent


async def main(config: str | None) -> None:
    args = ["-m", "mcp_server", "serve", "--agent", "plain-client-example"]
    args += ["--config", config] if config else ["--demo"]
    async with Client(StdioServerParameters(command=sys.executable, args=args)) as client:
        for tool, arguments in [
            ("list_sources", {}),
            ("query", {"source": "crm", "sql": "SELECT first_name, email, city FROM customers LIMIT 3"}),
        ]:
            result = await client.call_tool(tool, arguments)
            print(f"--- {tool}")
            print("\n".join(b.text for b in result.content if isinstance(b, TextContent)))


if __name__ == "__main__":
    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
