"""A tool call the client cancels while it runs is recorded, and recorded as what it was: cancelled, with nothing
delivered (red team round 5, finding 7: such a call was recorded as `ok` with its rows and tokens out).

The call is made slow without a clock: a document source registered here blocks its search on an event the test
sets. The official client, in-process, cancels the call while the search is blocked, over JSON-RPC framing (the
`notifications/cancelled` of stdio) and over the SDK's direct dispatch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import anyio
import anyio.to_thread
import pytest
from mcp import Client

from connectors.base import DocumentStats
from connectors.documents import Document, DocumentHit
from mcp_server.config import Config, load_config
from mcp_server.ledger.recorder import CANCELLED
from mcp_server.runtime import Runtime
from mcp_server.server import build_server
from mcp_server.sources import SourceKind, SourceSettings, register, unregister

NOTE = "Refund approved for Maria Gonzalez after the second complaint; contact maria.gonzalez@example.org."


class GatedNotes(SourceSettings):
    kind: Literal["gated-notes"]


class GatedStore:
    """One note; a search waits until `release` is set, and says it has started (`entered`)."""

    entered = threading.Event()
    release = threading.Event()

    def __init__(self, name: str) -> None:
        self.name = name

    def search(self, query: str, limit: int = 10) -> list[DocumentHit]:
        self.entered.set()
        self.release.wait()
        return [DocumentHit("n1", "note n1", NOTE, 0, 1.0)]

    def read(self, ref: str) -> Document:
        return Document(ref, "note n1", NOTE, "text/plain")

    def stats(self) -> DocumentStats:
        return DocumentStats(documents=1, where="in memory")

    def close(self) -> None:
        pass


def _open(_config: Config, source: GatedNotes) -> GatedStore:
    return GatedStore(source.name)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    kind = register(SourceKind("gated-notes", GatedNotes, "document", _open, lambda _c, _s: "in memory"))
    GatedStore.entered.clear()
    GatedStore.release.clear()
    path = tmp_path / "maskwire.toml"
    path.write_text(f'[masking]\nkey = "{"ab" * 32}"\n\n[[sources]]\nname = "notes"\nkind = "gated-notes"\n')
    runtime = Runtime.start(load_config(path), agent="cancel-agent")
    try:
        yield runtime
    finally:
        GatedStore.release.set()  # never leave a worker thread blocked
        runtime.close()
        unregister(kind.name)


async def test_a_call_cancelled_by_notification_is_recorded_as_cancelled(runtime: Runtime) -> None:
    async with Client(build_server(runtime), mode="legacy") as client:  # JSON-RPC framing, as over stdio
        async with anyio.create_task_group() as calls:
            calls.start_soon(client.call_tool, "search", {"query": "refund"})
            await anyio.to_thread.run_sync(GatedStore.entered.wait)  # the search runs, blocked
            calls.cancel_scope.cancel()  # the client gives up: it sends notifications/cancelled
        # The server reads messages in order: once this request is answered, the cancel has reached the call.
        await client.list_tools()
        GatedStore.release.set()  # the search returns its hit, to a call that was cancelled
        after = await client.call_tool("search", {"query": "refund"})  # the next call is not touched
    # Leaving the client joined the server's tasks: the cancelled call's row is written.
    assert not after.is_error
    rows = list(runtime.ledger.entries())
    assert runtime.ledger.verify()[1] == []
    cancelled = [r for r in rows if r.error_class == CANCELLED]
    assert len(cancelled) == 1 and len(rows) == 2
    row = cancelled[0]
    assert (row.tool, row.status, row.agent) == ("search", "error", "cancel-agent")
    assert (row.rows, row.tokens_out, row.entities) == (0, 0, {})  # nothing was delivered
    assert row.error_message is not None and "nothing was delivered" in row.error_message
    assert "the tool had finished: ok" in row.error_message  # the search did complete, unseen
    assert row.arguments["query"].startswith("<LITERAL:") and row.tokens_in > 0  # recorded like any call
    [ok] = [r for r in rows if r.status == "ok"]
    assert ok.rows == 1 and ok.tokens_out > 0
    assert "Maria" not in repr(rows) and "gonzalez" not in repr(rows).casefold()


async def test_a_call_cancelled_by_the_caller_in_process_is_recorded_as_cancelled(runtime: Runtime) -> None:
    # The SDK's direct dispatch: the caller's cancel reaches the call itself.
    async with Client(build_server(runtime)) as client, anyio.create_task_group() as calls:
        calls.start_soon(client.call_tool, "search", {"query": "refund"})
        await anyio.to_thread.run_sync(GatedStore.entered.wait)
        calls.cancel_scope.cancel()
        GatedStore.release.set()  # joined below: the call ends once its worker thread returns
    [row] = list(runtime.ledger.entries())
    assert (row.status, row.error_class, row.rows, row.tokens_out) == ("error", CANCELLED, 0, 0)
