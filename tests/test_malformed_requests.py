"""Requests the server cannot parse, sent to a real `maskwire serve` over stdio: each gets a JSON-RPC error
within a second, none is echoed, and each leaves a ledger row without the values it carried."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcp_server.config import load_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.ledger.malformed import MALFORMED, UNPARSED_TOOL
from mcp_server.ledger.store import Ledger

EMAIL = "quentin.okonkwo@example.org"
SSN = "219-09-9999"

pytestmark = pytest.mark.e2e


class StdioServer:
    def __init__(self, config: Path, stderr: Path) -> None:
        env = {**os.environ, "MASKWIRE_LOG_LEVEL": "INFO"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mcp_server.cli", "serve", "--config", str(config), "--agent", "malformed-agent"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr.open("wb"),
            env=env,
        )

    def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode("utf-8", "surrogatepass") + b"\n")
        self.process.stdin.flush()

    def receive(self, timeout: float) -> dict | None:  # type: ignore[type-arg]
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        return json.loads(self.process.stdout.readline()) if ready else None

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _call(request_id: int, name: str, arguments: str) -> str:
    params = f'{{"name":"{name}","arguments":{arguments}}}'
    return f'{{"jsonrpc":"2.0","id":{request_id},"method":"tools/call","params":{params}}}'


CASES = {
    "lone surrogate in the tool name": (_call(2, "que\\ud800ry", "{}"), -32600, "lone surrogate"),
    "lone surrogate in an argument": (
        _call(3, "query", f'{{"source":"crm","sql":"SELECT * FROM customers WHERE ssn = \'{SSN}\\udc80\'"}}'),
        -32600,
        "lone surrogate",
    ),
    "arguments nested 10,000 deep": (
        _call(4, "query", '{"source":' + "[" * 10_000 + f'"{EMAIL}"' + "]" * 10_000 + "}"),
        -32600,
        "nested deeper",
    ),
    "a 1 MB unknown tool name": (_call(5, EMAIL + "x" * 1_000_000, "{}"), -32602, "tool names have at most 128"),
    "broken JSON": (
        '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"query", "arguments": {"sql": "' + EMAIL,
        -32700,
        "not valid JSON",
    ),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, tuple[float, dict | None]], Path, Path]:  # type: ignore[type-arg]
    root = tmp_path_factory.mktemp("malformed")
    prepare_demo(root)
    stderr = root / "stderr.log"
    server = StdioServer(root / "maskwire.toml", stderr)
    answers: dict[str, tuple[float, dict | None]] = {}  # type: ignore[type-arg]
    try:
        server.send(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-06-18",
                        "capabilities": {},
                        "clientInfo": {"name": "t", "version": "1"},
                    },
                }
            )
        )
        assert server.receive(120) is not None
        server.send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
        for name, (line, _code, _words) in CASES.items():
            started = time.perf_counter()
            server.send(line)
            answers[name] = (time.perf_counter() - started, server.receive(5))
            answers[name] = (time.perf_counter() - started, answers[name][1])
        server.send(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 99,
                    "method": "tools/call",
                    "params": {"name": "list_sources", "arguments": {}},
                }
            )
        )
        still = server.receive(30)
        assert still is not None and still["id"] == 99 and "result" in still  # the session goes on
    finally:
        server.close()
    return answers, root / "maskwire.toml", stderr


@pytest.mark.parametrize("case", list(CASES))
def test_answered_with_a_json_rpc_error_within_a_second(served, case: str) -> None:  # type: ignore[no-untyped-def]
    answers, _, _ = served
    seconds, answer = answers[case]
    _line, code, words = CASES[case]
    assert answer is not None, f"no answer to {case}"
    assert seconds < 1.0
    assert answer["error"]["code"] == code and words in answer["error"]["message"]
    assert answer["id"] == int(CASES[case][0].split('"id":')[1].split(",")[0])
    text = json.dumps(answer)
    assert len(text) < 500 and EMAIL not in text and SSN not in text  # nothing echoed


def test_each_is_recorded_without_its_values(served) -> None:  # type: ignore[no-untyped-def]
    _, config, stderr = served
    ledger = Ledger(load_config(config).ledger_url)
    try:
        entries = list(ledger.entries())
        assert ledger.verify()[1] == []
    finally:
        ledger.dispose()
    bad = [e for e in entries if e.status == "error"]
    assert len(bad) == len(CASES)
    assert all(e.agent == "malformed-agent" for e in bad)
    assert sum(e.error_class == MALFORMED for e in bad) == 4  # the long name is parsed, then refused
    assert {e.tool for e in bad if e.error_class == MALFORMED} <= {"query", UNPARSED_TOOL} | {
        e.tool for e in bad if e.tool.startswith("<LITERAL:")
    }
    assert all(len(e.tool) <= 100 for e in bad)
    dump = str([e.record() for e in entries]) + stderr.read_text()
    assert all(e.tool in ("query", "list_sources", UNPARSED_TOOL) or e.tool.startswith("<LITERAL:") for e in entries)
    for raw in (EMAIL, SSN, "quentin"):
        assert raw not in dump, raw
