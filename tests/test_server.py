"""The MCP server in-process (official client, in-memory transport): tool metadata, ledger rules."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa
from mcp import Client
from mcp_types import TextContent

from mcp_server.catalog import SqlCatalog
from mcp_server.config import load_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.runtime import Runtime
from mcp_server.server import ARGUMENT_NAMES, TOOL_NAMES, build_server


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    prepare_demo(tmp_path)
    runtime = Runtime.start(load_config(tmp_path / "maskwire.toml"), agent="unit-agent")
    yield runtime
    runtime.close()


def _text(result) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(b.text for b in result.content if isinstance(b, TextContent))


async def test_tools_are_read_only_with_output_schemas(runtime: Runtime) -> None:
    async with Client(build_server(runtime)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"list_sources", "describe", "search_schema", "query", "search", "read"} == TOOL_NAMES
    names = {name for tool in tools.values() for name in tool.input_schema["properties"]}
    assert names == ARGUMENT_NAMES  # the ledger keeps exactly these argument names readable
    for tool in tools.values():
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.annotations.destructive_hint is False
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        assert tool.description


async def test_invalid_arguments_are_recorded(runtime: Runtime) -> None:
    async with Client(build_server(runtime)) as client:
        result = await client.call_tool("query", {"source": "crm", "sql": "SELECT 1", "max_rows": "many"})
    assert result.is_error
    [entry] = list(runtime.ledger.entries())
    assert entry.tool == "query" and entry.status == "error" and entry.error_class == "InvalidRequest"
    # the raw SQL string is not stored: every string argument became a keyed token
    assert entry.arguments["sql"].startswith("<LITERAL:")


async def test_a_call_the_ledger_cannot_record_fails(runtime: Runtime) -> None:
    with runtime.ledger.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE maskwire_calls"))
    async with Client(build_server(runtime)) as client:
        result = await client.call_tool("query", {"source": "crm", "sql": "SELECT email FROM customers"})
    assert result.is_error
    assert "ledger could not record" in _text(result)
    assert result.structured_content is None
    assert "EMAIL_ADDRESS" not in _text(result)


async def test_agent_override_and_client_identity(runtime: Runtime) -> None:
    async with Client(build_server(runtime)) as client:
        await client.call_tool("list_sources", {})
    [entry] = list(runtime.ledger.entries())
    assert entry.agent == "unit-agent" and entry.status == "ok" and entry.tokens_out > 0


async def test_unexpected_exception_is_a_clean_error(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret value 123-45-6789 in an internal message")

    monkeypatch.setattr(runtime.pipeline, "query", boom)
    async with Client(build_server(runtime)) as client:
        result = await client.call_tool("query", {"source": "crm", "sql": "SELECT 1"})
    assert result.is_error
    assert "123-45-6789" not in _text(result) and "Traceback" not in _text(result)
    [entry] = list(runtime.ledger.entries())
    assert entry.status == "error" and entry.error_class == "RuntimeError"
    assert "123-45-6789" not in str(entry.record())
    assert "RuntimeError" in caplog.text and "123-45-6789" not in caplog.text


async def test_agent_input_outside_the_schema_never_reaches_the_ledger(runtime: Runtime) -> None:
    async with Client(build_server(runtime)) as client:
        await client.call_tool("ann@example.com", {"ssn": "123-45-6789", "john.smith@example.org": 987654321})
        await client.call_tool("query", {"source": "crm", "sql": "SELECT 1", "cursor": "maria.gonzalez@example.com"})
        await client.call_tool("read", {"source": "docs", "ref": "hr/ann-smith.md", "cursor": "ann@example.com"})
    dump = str([e.record() for e in runtime.ledger.entries()])
    for raw in ("ann@example.com", "123-45-6789", "john.smith@example.org", "987654321", "maria.gonzalez", "ann-smith"):
        assert raw not in dump, raw


async def test_free_text_waits_for_the_warm_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve` answers the handshake and queries of personal columns while the known values load in the
    background; scanning free text (here a search) waits for them."""
    workspace = prepare_demo(tmp_path)
    gate = threading.Event()
    learn = SqlCatalog.known_values

    def slow_known_values(self: SqlCatalog, *args: Any, **kwargs: Any) -> Iterator[tuple[str, list[str]]]:
        gate.wait(60)
        yield from learn(self, *args, **kwargs)

    monkeypatch.setattr(SqlCatalog, "known_values", slow_known_values)
    runtime = Runtime.start(load_config(tmp_path / "maskwire.toml"), agent="unit-agent", warm_up_in_background=True)
    try:
        assert not runtime.warm.is_set()
        results: dict[str, Any] = {}
        async with Client(build_server(runtime)) as client:
            sql = "SELECT first_name, last_name, email FROM customers"
            query = await client.call_tool("query", {"source": "crm", "sql": sql})
            assert not query.is_error and "<PERSON:" in _text(query)  # personal columns: masked whole, no wait

            async def search() -> None:
                results["search"] = await client.call_tool("search", {"query": "refund"})

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(search)
                await anyio.sleep(0.3)
                assert "search" not in results  # still waiting for the known values
                gate.set()
        assert runtime.warm.is_set()
        for result in (query, results["search"]):
            text = _text(result).casefold()
            assert not result.is_error
            assert not [v for v in workspace.seeded.must_not_leak() if v.casefold() in text]
    finally:
        gate.set()
        runtime.close()


async def test_refusals_before_the_tool_quote_nothing_the_agent_sent(runtime: Runtime) -> None:
    """Invalid arguments and unknown tools are refused in the SDK's words about what is wrong, without the values
    the agent sent (`input_value='536-22-8194'`) or the name it called."""
    async with Client(build_server(runtime)) as client:
        bad = await client.call_tool("query", {"source": "crm", "sql": "SELECT 1", "max_rows": "536-22-8194"})
        listed = await client.call_tool("describe", {"source": ["ann.quattlebaum@example.com"]})
        unknown = await client.call_tool("Quentin Albrecht-Nakamura", {})
    for result in (bad, listed, unknown):
        assert result.is_error
        text = _text(result)
        for value in ("536-22-8194", "536", "quattlebaum", "Albrecht"):
            assert value not in text, text
    assert "max_rows" in _text(bad) and "integer" in _text(bad)
    assert "list_sources" in _text(unknown)
