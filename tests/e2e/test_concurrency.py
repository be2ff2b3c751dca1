"""Many calls in flight at once through one server: every call answered, masked and recorded once."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import TextContent

from mcp_server.config import load_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.ledger.store import Ledger

pytestmark = pytest.mark.e2e

CALLS = [
    (
        "query",
        {
            "source": "crm",
            "sql": "SELECT c.id, email, body FROM customers c JOIN support_tickets t ON t.customer_id = c.id",
        },
    ),
    ("query", {"source": "crm", "sql": "SELECT first_name, last_name, phone FROM customers"}),
    ("search", {"query": "refund"}),
    ("describe", {"source": "crm"}),
    ("query", {"source": "crm", "sql": "DELETE FROM customers"}),
]


async def test_parallel_calls_are_all_answered_masked_and_recorded(tmp_path: Path) -> None:
    workspace = prepare_demo(tmp_path)
    config = tmp_path / "maskwire.toml"
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server.cli", "serve", "--config", str(config), "--agent", "parallel"]
    )
    results: list[tuple[str, bool, str]] = []
    async with Client(server) as client:

        async def one(tool: str, arguments: dict[str, object]) -> None:
            result = await client.call_tool(tool, arguments)
            text = "\n".join(b.text for b in result.content if isinstance(b, TextContent))
            results.append((tool, result.is_error, text))

        async with anyio.create_task_group() as group:
            for _ in range(4):
                for tool, arguments in CALLS:
                    group.start_soon(one, tool, arguments)

    assert len(results) == 4 * len(CALLS)
    assert sum(1 for _, error, _ in results if error) == 4  # only the DELETEs
    seeded = workspace.seeded.must_not_leak()
    for _, _, text in results:
        assert not [v for v in seeded if v.casefold() in text.casefold()]
    ledger = Ledger(load_config(config).ledger_url)
    try:
        entries = list(ledger.entries(agent="parallel"))
        assert len(entries) == len(results)
        assert ledger.verify() == (len(results), [])
    finally:
        ledger.dispose()
