"""Over stdio an answer waits for its ledger row in the writer (`ledger/commit_gates.py`): it never leaves before
the row is committed, and a call whose row cannot be written gets the refusal, with nothing of its result."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
import sqlalchemy as sa

from mcp_server.config import load_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.ledger.commit_gates import WITHHELD, CommitGates, GatedWriter
from mcp_server.runtime import Runtime
from mcp_server.server import build_server

SQL = "SELECT first_name, last_name, email FROM customers ORDER BY id LIMIT 5"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    prepare_demo(tmp_path)
    runtime = Runtime.start(load_config(tmp_path / "maskwire.toml"), agent="gate-agent")
    yield runtime
    runtime.close()


class Lines:
    """What the server reads (sent one by one) and what it wrote (parsed, by id)."""

    def __init__(self) -> None:
        self.send, self.receive = anyio.create_memory_object_stream[str](10)
        self.written: list[str] = []
        self.arrived = anyio.Event()

    async def __aiter__(self) -> AsyncIterator[str]:
        async for line in self.receive:
            yield line

    async def write(self, text: str) -> None:
        self.written.append(text)
        self.arrived.set()

    async def flush(self) -> None:
        pass

    def answer(self, request_id: int) -> dict[str, Any] | None:
        found = [m for m in map(json.loads, self.written) if m.get("id") == request_id]
        return found[0] if found else None

    async def wait_for(self, request_id: int) -> dict[str, Any]:
        with anyio.fail_after(30):
            while (found := self.answer(request_id)) is None:
                self.arrived = anyio.Event()
                await self.arrived.wait()
        return found


def _message(request_id: int | None, method: str, params: dict[str, Any]) -> str:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    if request_id is not None:
        body["id"] = request_id
    return json.dumps(body) + "\n"


async def _session(runtime: Runtime, lines: Lines, body: Any) -> None:
    server = build_server(runtime)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(server._serve_lines, lines, lines)
        hello = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "gates", "version": "1"}}
        await lines.send.send(_message(1, "initialize", hello))
        await lines.wait_for(1)
        await lines.send.send(_message(None, "notifications/initialized", {}))
        await body()
        await lines.send.aclose()


def _call(request_id: int) -> str:
    return _message(request_id, "tools/call", {"name": "query", "arguments": {"source": "crm", "sql": SQL}})


async def test_an_answer_leaves_only_once_its_row_is_committed(runtime: Runtime, monkeypatch: Any) -> None:
    entered, release = threading.Event(), threading.Event()
    append = runtime.ledger.append

    def slow_append(entry: Any) -> None:
        entered.set()
        release.wait(30)
        append(entry)

    monkeypatch.setattr(runtime.ledger, "append", slow_append)
    lines = Lines()

    async def body() -> None:
        await lines.send.send(_call(2))
        await anyio.to_thread.run_sync(entered.wait, 30)  # the row is being written: the answer is ready or near
        await anyio.sleep(0.3)
        assert lines.answer(2) is None
        release.set()
        answer = await lines.wait_for(2)
        assert not answer["result"].get("isError")
        assert [e.tool for e in runtime.ledger.entries()] == ["query"]

    await _session(runtime, lines, body)


async def test_a_call_whose_row_cannot_be_written_gets_the_refusal(runtime: Runtime) -> None:
    raw = runtime.sources.catalogs["crm"].database.execute(
        "SELECT first_name, email FROM customers ORDER BY id LIMIT 5", {}, max_rows=5
    )
    seeded = [value for row in raw.rows for value in row]
    with runtime.ledger.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE maskwire_calls"))
    lines = Lines()

    async def body() -> None:
        await lines.send.send(_call(2))
        answer = await lines.wait_for(2)
        assert answer["result"] == {"content": [{"type": "text", "text": WITHHELD}], "isError": True}

    await _session(runtime, lines, body)
    written = "".join(lines.written)
    assert seeded and not any(value in written for value in seeded)
    assert lines.answer(2) == {
        "jsonrpc": "2.0",
        "id": 2,
        "result": {"content": [{"type": "text", "text": WITHHELD}], "isError": True},
    }


class Out:
    def __init__(self) -> None:
        self.lines: list[str] = []

    async def write(self, text: str) -> None:
        self.lines.append(text)

    async def flush(self) -> None:
        pass


def _fail() -> None:
    raise RuntimeError("ledger down")


async def test_a_line_without_a_readable_id_waits_behind_every_commit_and_is_dropped_if_one_failed() -> None:
    async with anyio.create_task_group() as tasks:
        gates = CommitGates(tasks)
        out = Out()
        writer = GatedWriter(out, gates)
        assert gates.start(5, lambda: None) and gates.start(6, _fail)
        assert not gates.start(5, lambda: None)  # an id already waiting is not gated twice
        await writer.write('{"jsonrpc":"2.0","method":"notifications/message","params":{}}\n')
        await writer.write('{"id":5,"jsonrpc":"2.0","result":{"content":[]}}\n')  # not the SDK's field order
        await writer.write('{"jsonrpc":"2.0","id":5,"result":{"content":[]}}\n')
        await writer.write('{"jsonrpc":"2.0","id":6,"result":{"content":[{"type":"text","text":"rows"}]}}\n')
    assert out.lines[0].startswith('{"jsonrpc":"2.0","method"')  # a notification answers no call
    assert len(out.lines) == 3  # the line in another field order was dropped: a commit in flight had failed
    assert out.lines[1] == '{"jsonrpc":"2.0","id":5,"result":{"content":[]}}\n'
    assert json.loads(out.lines[2])["result"]["content"][0]["text"] == WITHHELD and "rows" not in out.lines[2]
