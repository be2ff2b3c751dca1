"""Messages the server cannot serve, in-process (no subprocess: part of `make test-fast`): what `unservable` says of
each, the stdio guard answering and recording them before the SDK reads them, and the SDK's own "Method not found"
going out without the method. The same shapes over a real stdio and HTTP server: `test_malformed_requests.py`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, JSONRPCError

from mcp_server.config import load_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.ledger.malformed import (
    BAD_ID,
    BAD_PARAMS,
    BATCH,
    MALFORMED,
    UNKNOWN_METHOD,
    UNKNOWN_NOTIFICATION,
    UNPARSED_TOOL,
    WRONG_VERSION,
    GuardedLines,
    MalformedRequests,
    unservable,
)
from mcp_server.runtime import Runtime
from mcp_server.server import TOOL_NAMES, build_server

SEEDED = "536-22-8194"
CALL = {"name": "list_sources", "arguments": {}}

REFUSED = {
    "an object id": (
        {"jsonrpc": "2.0", "id": {"x": SEEDED}, "method": "tools/call", "params": CALL},
        None,
        INVALID_REQUEST,
        BAD_ID,
    ),
    "a null id": (
        {"jsonrpc": "2.0", "id": None, "method": "tools/call", "params": CALL},
        None,
        INVALID_REQUEST,
        BAD_ID,
    ),
    "a boolean id": ({"jsonrpc": "2.0", "id": True, "method": "ping"}, None, INVALID_REQUEST, BAD_ID),
    "a fractional id": ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, None, INVALID_REQUEST, BAD_ID),
    "params a string": (
        {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": SEEDED},
        7,
        INVALID_REQUEST,
        BAD_PARAMS,
    ),
    "params an array": (
        {"jsonrpc": "2.0", "id": "a", "method": "tools/call", "params": [SEEDED]},
        "a",
        INVALID_REQUEST,
        BAD_PARAMS,
    ),
    "a batch": (
        [{"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": {"name": SEEDED}}],
        None,
        INVALID_REQUEST,
        BATCH,
    ),
    "an empty batch": ([], None, INVALID_REQUEST, BATCH),
    "jsonrpc 1.0": (
        {"jsonrpc": "1.0", "id": 13, "method": "tools/call", "params": {"name": SEEDED}},
        13,
        INVALID_REQUEST,
        WRONG_VERSION,
    ),
    "no jsonrpc": ({"id": 14, "method": "ping"}, 14, INVALID_REQUEST, WRONG_VERSION),
    "a bare string": (SEEDED, None, INVALID_REQUEST, "it is a JSON string"),
    "a bare number": (536228194, None, INVALID_REQUEST, "it is a JSON number"),
    "null": (None, None, INVALID_REQUEST, "it is JSON null"),
    "a method that is a number": ({"jsonrpc": "2.0", "id": 3, "method": 5}, 3, INVALID_REQUEST, '"method" must be'),
    "no method": ({"jsonrpc": "2.0", "id": 4, "params": {"name": SEEDED}}, 4, INVALID_REQUEST, 'has no "method"'),
    "an unknown method": ({"jsonrpc": "2.0", "id": 2, "method": SEEDED, "params": {}}, 2, METHOD_NOT_FOUND, ""),
    "a notification sent as a request": (
        {"jsonrpc": "2.0", "id": 5, "method": "notifications/initialized"},
        5,
        METHOD_NOT_FOUND,
        UNKNOWN_METHOD,
    ),
}


@pytest.mark.parametrize("shape", list(REFUSED))
def test_what_cannot_be_served_is_named_in_maskwires_words(shape: str) -> None:
    message, request_id, code, words = REFUSED[shape]
    found = unservable(json.dumps(message))
    assert found is not None
    raw, salvaged = found
    assert raw == json.dumps(message) and salvaged.reply
    assert (salvaged.request_id, salvaged.code) == (request_id, code)
    assert words in salvaged.problem and SEEDED not in salvaged.problem and "536228194" not in salvaged.problem
    if code == METHOD_NOT_FOUND:
        assert salvaged.problem == UNKNOWN_METHOD


def test_a_notification_of_no_mcp_method_is_recorded_not_answered() -> None:
    for method in (SEEDED, "tools/call"):  # a call without an id: nothing runs, and JSON-RPC allows no answer
        found = unservable(json.dumps({"jsonrpc": "2.0", "method": method, "params": {"x": SEEDED}}))
        assert found is not None and not found[1].reply
        assert found[1].problem == UNKNOWN_NOTIFICATION and found[1].code == METHOD_NOT_FOUND


def test_what_is_not_json_keeps_its_parse_error() -> None:
    found = unservable(b'{"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"sql": "' + SEEDED.encode())
    assert found is not None
    assert (found[1].request_id, found[1].code) == (6, PARSE_ERROR) and "not valid JSON" in found[1].problem
    deep = unservable('{"jsonrpc":"2.0","id":8,"method":"tools/call","params":' + "[" * 5000 + "]" * 5000 + "}")
    assert deep is not None and deep[1].request_id == 8 and "nested deeper" in deep[1].problem


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}},
        {"jsonrpc": "2.0", "id": "x-1", "method": "tools/call", "params": CALL},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "prompts/list", "params": None},  # MCP's: the server answers it
        {"jsonrpc": "2.0", "id": 9, "result": {}},  # a response to a request of the server's
    ],
)
def test_what_the_server_can_serve_passes(message: dict[str, object]) -> None:
    assert unservable(json.dumps(message) + "\n") is None


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    prepare_demo(tmp_path)
    runtime = Runtime.start(load_config(tmp_path / "maskwire.toml"), agent="guard-agent")
    yield runtime
    runtime.close()


async def test_the_stdio_guard_answers_and_records_before_the_sdk_reads(runtime: Runtime) -> None:
    guard = MalformedRequests(
        runtime.ledger, runtime.counter, runtime.masker.literal, lambda: "guard-agent", TOOL_NAMES
    )
    good = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}) + "\n"
    notification = json.dumps({"jsonrpc": "2.0", "method": SEEDED}) + "\n"
    bad = [json.dumps(REFUSED[shape][0]) + "\n" for shape in ("an object id", "a batch", "an unknown method")]

    async def lines() -> AsyncIterator[str]:
        for line in [bad[0], good, bad[1], notification, bad[2]]:
            yield line

    guarded = GuardedLines(lines(), guard)
    send, receive = anyio.create_memory_object_stream[SessionMessage](10)
    guarded.attach(send)
    passed = [line async for line in guarded]
    answers = []
    while True:
        try:
            answers.append(receive.receive_nowait().message)
        except anyio.WouldBlock:
            break
    send.close()
    receive.close()

    assert passed == [good, notification]  # the SDK reads what it can serve, and the notification it ignores
    assert all(isinstance(a, JSONRPCError) for a in answers)
    assert [(a.id, a.error.code) for a in answers] == [(None, INVALID_REQUEST), (None, INVALID_REQUEST), (2, -32601)]  # type: ignore[union-attr]
    rows = list(runtime.ledger.entries())
    assert [(r.agent, r.error_class) for r in rows[-4:]] == [("guard-agent", MALFORMED)] * 4
    assert rows[-4].tool == "list_sources" and rows[-1].tool == UNPARSED_TOOL
    everything = json.dumps([r.record() for r in rows], ensure_ascii=False) + repr(answers)
    assert SEEDED not in everything and "536228194" not in everything


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_sdks_method_not_found_goes_out_without_the_method(runtime: Runtime, mode: str) -> None:
    """In-process there is no transport guard: the SDK answers an unknown method itself, with the method in
    `data`; the tools-only middleware sends it without."""
    async with Client(build_server(runtime), mode=mode) as client:  # type: ignore[arg-type]
        with pytest.raises(MCPError) as refused:
            await client.session.send_request(types.Request(method=SEEDED, params={}), types.EmptyResult)
    assert refused.value.error.code == METHOD_NOT_FOUND
    assert refused.value.error.data is None and SEEDED not in refused.value.error.message
