"""Calls refused because the ledger could not be written: spooled on local disk, then recorded, marked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from mcp import Client
from mcp_types import TextContent

from mcp_server.config import load_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.ledger.spool import LEDGER_UNAVAILABLE, Spool
from mcp_server.ledger.store import Ledger, LedgerEntry
from mcp_server.runtime import Runtime
from mcp_server.server import build_server
from tests.ledger.conftest import KEY

SEEDED = "zelda.quartermaine@example.net"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    prepare_demo(tmp_path)
    runtime = Runtime.start(load_config(tmp_path / "maskwire.toml"), agent="spool-agent")
    yield runtime
    runtime.close()


def _text(result) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(b.text for b in result.content if isinstance(b, TextContent))


def _set_table_name(runtime: Runtime, old: str, new: str) -> None:
    with runtime.ledger.engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_refused_calls_are_spooled_and_recorded_when_the_ledger_is_back(runtime: Runtime) -> None:
    sql = f"SELECT name FROM customers WHERE email = '{SEEDED}'"
    _set_table_name(runtime, "maskwire_calls", "maskwire_calls_away")  # the ledger cannot be written
    async with Client(build_server(runtime)) as client:
        refused = await client.call_tool("query", {"source": "crm", "sql": sql})
        also_refused = await client.call_tool("list_sources", {})
    assert refused.is_error and "could not record" in _text(refused) and refused.structured_content is None
    assert also_refused.is_error
    spool = runtime.config.spool_dir
    files = list(spool.iterdir())
    assert files and all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    spooled_text = "".join(f.read_text() for f in files)
    assert SEEDED not in spooled_text and "zelda" not in spooled_text  # masked like any ledger row

    _set_table_name(runtime, "maskwire_calls_away", "maskwire_calls")  # back
    async with Client(build_server(runtime)) as client:
        answered = await client.call_tool("list_sources", {})
    assert not answered.is_error
    entries = list(runtime.ledger.entries())
    assert [e.tool for e in entries] == ["query", "list_sources", "list_sources"]
    late = entries[:2]
    assert all(e.status == "error" and e.error_class == LEDGER_UNAVAILABLE for e in late)
    assert "had ended denied" in late[0].error_message or "had ended ok" in late[0].error_message
    assert "recorded later from the spool" in late[0].error_message
    assert entries[2].status == "ok" and entries[2].error_class is None
    assert not any(p.suffix == ".jsonl" for p in spool.iterdir())
    assert runtime.ledger.verify()[1] == []
    assert SEEDED not in str([e.record() for e in entries])


def test_spool_is_moved_in_by_another_process_and_only_once(tmp_path: Path) -> None:
    """Two writers share a spool folder: each spooled entry lands in the ledger exactly once."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    first = Ledger(url, key=KEY, spool=Spool(tmp_path / "spool"))
    second = Ledger(url, key=KEY, spool=Spool(tmp_path / "spool"))
    for n in range(5):
        first.refused(LedgerEntry(agent="a", tool="query", status="ok", rows=n))
    second.append(LedgerEntry(agent="b", tool="query", status="ok"))
    first.append(LedgerEntry(agent="a", tool="query", status="ok", rows=99))
    rows = [(e.agent, e.rows, e.error_class) for e in first.entries()]
    assert rows == [*[("a", n, LEDGER_UNAVAILABLE) for n in range(5)], ("b", 0, None), ("a", 99, None)]
    assert first.verify()[1] == []
    first.dispose()
    second.dispose()


def test_a_damaged_spool_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", key=KEY, spool=spool)
    ledger.refused(LedgerEntry(agent="a", tool="query", status="ok"))
    [path] = list((tmp_path / "spool").iterdir())
    with path.open("a") as handle:
        handle.write('{"agent": "cut by a cra')  # a crash mid-write
    assert ledger.drain_spool() == 1
    assert [e.error_class for e in ledger.entries()] == [LEDGER_UNAVAILABLE]
    ledger.dispose()


async def test_agents_table_unreachable_is_a_recorded_tool_error(runtime: Runtime) -> None:
    _set_table_name(runtime, "maskwire_agents", "maskwire_agents_away")
    try:
        async with Client(build_server(runtime)) as client:
            result = await client.call_tool("query", {"source": "crm", "sql": f"SELECT 1 WHERE '{SEEDED}' = ''"})
    finally:
        _set_table_name(runtime, "maskwire_agents_away", "maskwire_agents")
    assert result.is_error and "agents table" in _text(result)  # a tool result, not a JSON-RPC error
    [entry] = list(runtime.ledger.entries())
    assert entry.agent == "spool-agent" and entry.tool == "query" and entry.error_class == "AgentStoreError"
    assert SEEDED not in str(entry.record())
