"""Requests the server cannot parse or serve, sent to a real `maskwire serve` over stdio (and HTTP): each gets a
JSON-RPC error (where JSON-RPC allows one), none is echoed, and each leaves a ledger row without the values it
carried."""

from __future__ import annotations

import base64
import json
import os
import re
import select
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest

from mcp_server.config import load_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.ledger.malformed import MALFORMED, UNPARSED_TOOL
from mcp_server.ledger.store import Ledger, LedgerEntry

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


ANSWER_SECONDS = 30
"""How long a malformed line may wait for its answer before the server counts as hung (not a speed bound:
benchmarks measure speed)."""

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
    answers: dict[str, dict | None] = {}  # type: ignore[type-arg]
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
            server.send(line)
            answers[name] = server.receive(ANSWER_SECONDS)
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
def test_answered_with_a_json_rpc_error(served, case: str) -> None:  # type: ignore[no-untyped-def]
    answers, _, _ = served
    answer = answers[case]
    _line, code, words = CASES[case]
    assert answer is not None, f"no answer to {case} within {ANSWER_SECONDS} s"
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


# -- messages that parse but cannot be served (red team round 5, finding 6) -----------------------------------

SEEDED = "536-22-8194"
"""An SSN put in every part of a message an agent controls; it must come back nowhere."""


def _encodings(value: str) -> list[str]:
    """Every form the code could write a value in: as sent, digits only, base64 (either alphabet), hex, JSON
    escapes."""
    raw = value.encode()
    return [
        value,
        re.sub(r"\D", "", value),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        "".join(f"\\u{ord(c):04x}" for c in value),
    ]


def _leaked(text: str) -> list[str]:
    folded = text.casefold()
    return [form for form in _encodings(SEEDED) if form.casefold() in folded]


def _seeded(template: str) -> str:
    return template.replace("@@", SEEDED)


@dataclass(frozen=True)
class Shape:
    line: str
    request_id: int | None
    code: int
    words: str
    tool: str
    """The ledger's tool: a Maskwire tool, UNPARSED_TOOL, or "<LITERAL:" for a tokenised name."""


SHAPES = {
    "an object id": Shape(
        _seeded(
            '{"jsonrpc":"2.0","id":{"x":"@@"},"method":"tools/call","params":{"name":"list_sources","arguments":{}}}'
        ),
        None,
        -32600,
        "id must be a string or an integer",
        "list_sources",
    ),
    "params a string": Shape(
        _seeded('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":"@@"}'),
        7,
        -32600,
        '"params" must be a JSON object',
        UNPARSED_TOOL,
    ),
    "a batch array": Shape(
        _seeded('[{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"@@","arguments":{}}}]'),
        None,
        -32600,
        "batches are not supported",
        "<LITERAL:",
    ),
    "jsonrpc 1.0": Shape(
        _seeded('{"jsonrpc":"1.0","id":13,"method":"tools/call","params":{"name":"@@"}}'),
        13,
        -32600,
        '"jsonrpc" must be "2.0"',
        "<LITERAL:",
    ),
    "a bare JSON string": Shape(f'"{SEEDED}"', None, -32600, "it is a JSON string", UNPARSED_TOOL),
    "an unknown method": Shape(
        _seeded('{"jsonrpc":"2.0","id":2,"method":"@@","params":{}}'), 2, -32601, "Method not found", UNPARSED_TOOL
    ),
    "a null id": Shape(
        _seeded('{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"query","arguments":{"sql":"@@"}}}'),
        None,
        -32600,
        "id must be a string or an integer",
        "query",
    ),
}
UNKNOWN_NOTIFICATION = _seeded('{"jsonrpc":"2.0","method":"@@","params":{"x":"@@"}}')
"""A notification (no id) of no MCP method: JSON-RPC allows no answer; it is recorded all the same."""


@dataclass
class Served:
    answers: dict[str, dict]  # type: ignore[type-arg]
    rows: list[LedgerEntry]
    """The rows the shapes left, in the order they were sent, then the unknown notification's."""
    dump: str
    """Everything stored (every table of the ledger database, the spool) and every log line."""
    extra: dict[str, object] = field(default_factory=dict)


def _stored(config: Path) -> str:
    state = load_config(config).state_dir
    with sqlite3.connect(state / "ledger.sqlite") as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = [conn.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables]
    spooled = (
        [p.read_text(errors="replace") for p in (state / "ledger-spool").glob("*")]
        if (state / "ledger-spool").is_dir()
        else []
    )
    return json.dumps(rows, ensure_ascii=False, default=str) + "".join(spooled)


def _entries(config: Path) -> list[LedgerEntry]:
    ledger = Ledger(load_config(config).ledger_url)
    try:
        assert ledger.verify()[1] == []
        return list(ledger.entries())
    finally:
        ledger.dispose()


@pytest.fixture(scope="module")
def over_stdio(tmp_path_factory: pytest.TempPathFactory) -> Served:
    root = tmp_path_factory.mktemp("unservable-stdio")
    prepare_demo(root)
    config, stderr = root / "maskwire.toml", root / "stderr.log"
    server = StdioServer(config, stderr)
    answers: dict[str, dict] = {}  # type: ignore[type-arg]
    try:
        server.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INITIALIZE_PARAMS}))
        assert server.receive(120) is not None
        server.send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
        before = len(_entries(config))
        for name, shape in SHAPES.items():
            server.send(shape.line)
            answer = server.receive(60)  # a bound on a hang, not on speed
            assert answer is not None, f"no answer to {name}"
            answers[name] = answer
        server.send(UNKNOWN_NOTIFICATION)
        server.send('{"jsonrpc":"2.0","id":98,"method":"ping"}')
        after_notification = server.receive(60)  # the next answer is the ping's: the notification got none
        server.send(json.dumps({"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": LIST_SOURCES}))
        still = server.receive(60)
    finally:
        server.close()
    rows = _entries(config)[before:]
    return Served(
        answers,
        [r for r in rows if r.error_class == MALFORMED],
        _stored(config) + stderr.read_text(errors="replace"),
        {"after_notification": after_notification, "still": still, "all_rows": rows},
    )


INITIALIZE_PARAMS = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
LIST_SOURCES = {"name": "list_sources", "arguments": {}}
HTTP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
READY = re.compile(r"serving MCP over streamable HTTP at (\S+)")


@contextmanager
def serving_http(config: Path, stderr: list[str]) -> Iterator[str]:
    """`maskwire serve --transport http --port 0`; yields its MCP URL, collecting its stderr lines."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mcp_server.cli",
            "serve",
            "--config",
            str(config),
            "--transport",
            "http",
            "--port",
            "0",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MASKWIRE_LOG_LEVEL": "INFO"},
    )
    found: list[str] = []
    ready = threading.Event()

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            stderr.append(line)
            if match := READY.search(line):
                found.append(match.group(1))
                ready.set()
        ready.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        ready.wait(timeout=300)  # start-up loads the NLP pipeline; not an assertion on speed
        assert found, "server did not start:\n" + "".join(stderr)
        yield found[0]
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=30)


@pytest.fixture(scope="module")
def over_http(tmp_path_factory: pytest.TempPathFactory) -> Served:
    root = tmp_path_factory.mktemp("unservable-http")
    prepare_demo(root)
    config = root / "maskwire.toml"
    added = subprocess.run(
        [
            sys.executable,
            "-m",
            "mcp_server.cli",
            "agents",
            "add",
            "http-agent",
            *("--role", "default", "--config", str(config)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    token = added.stdout.strip()
    stderr: list[str] = []
    answers: dict[str, dict] = {}  # type: ignore[type-arg]
    statuses: dict[str, int] = {}
    headers = {**HTTP_HEADERS, "Authorization": f"Bearer {token}"}
    with serving_http(config, stderr) as url, httpx2.Client(timeout=60) as http:
        before = len(_entries(config))
        for name, shape in SHAPES.items():
            response = http.post(url, content=shape.line.encode(), headers=headers)
            statuses[name] = response.status_code
            assert response.headers["content-type"].startswith("application/json"), name
            assert not _leaked(response.text), name
            answers[name] = response.json()
        notification = http.post(url, content=UNKNOWN_NOTIFICATION.encode(), headers=headers)
        anonymous = [http.post(url, content=s.line.encode(), headers=HTTP_HEADERS).status_code for s in SHAPES.values()]
        rows = _entries(config)[before:]
    return Served(
        answers,
        [r for r in rows if r.error_class == MALFORMED],
        _stored(config) + "".join(stderr),
        {"statuses": statuses, "notification": notification, "anonymous": anonymous, "all_rows": rows},
    )


@pytest.fixture(scope="module", params=["stdio", "http"])
def served_both(request: pytest.FixtureRequest) -> tuple[str, Served]:
    return request.param, request.getfixturevalue(f"over_{request.param}")


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_shape_is_answered_with_a_json_rpc_error_naming_the_problem(
    served_both: tuple[str, Served], shape: str
) -> None:
    transport, served = served_both
    answer, expected = served.answers[shape], SHAPES[shape]
    assert answer["jsonrpc"] == "2.0" and "result" not in answer
    assert "id" in answer and answer["id"] == expected.request_id, (transport, answer)
    assert answer["error"]["code"] == expected.code and expected.words in answer["error"]["message"]
    assert "data" not in answer["error"]  # nothing of the request rides along
    assert not _leaked(json.dumps(answer)) and not _leaked(json.dumps(answer, ensure_ascii=False))
    if transport == "http":
        assert served.extra["statuses"][shape] == (200 if expected.code == -32601 else 400)  # type: ignore[index]


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_shape_leaves_one_row_without_its_values(served_both: tuple[str, Served], shape: str) -> None:
    transport, served = served_both
    assert len(served.rows) == len(SHAPES) + 1  # one per shape, and the unknown notification's
    row, expected = served.rows[list(SHAPES).index(shape)], SHAPES[shape]
    assert (row.status, row.error_class) == ("error", MALFORMED)
    assert row.agent == ("malformed-agent" if transport == "stdio" else "http-agent")
    assert row.arguments == {"_not_stored": "the request could not be parsed"}
    assert row.tool.startswith(expected.tool), (shape, row.tool)
    assert row.error_message is not None and expected.words in row.error_message
    if shape == "an unknown method":
        assert "(method <LITERAL:" in row.error_message  # the method is agent input: a keyed token
    assert row.rows == 0 and row.tokens_out == 0 and row.tokens_in > 0
    assert not _leaked(json.dumps(row.record(), ensure_ascii=False))


def test_nothing_stored_or_logged_holds_the_seeded_value(served_both: tuple[str, Served]) -> None:
    _transport, served = served_both
    assert "MalformedRequest" in served.dump  # the dump is the real one
    assert not _leaked(served.dump)


def test_an_unknown_notification_is_recorded_but_not_answered(served_both: tuple[str, Served]) -> None:
    transport, served = served_both
    row = served.rows[-1]
    assert row.tool == UNPARSED_TOOL and row.error_message is not None
    assert "no MCP notification" in row.error_message and "(method <LITERAL:" in row.error_message
    if transport == "stdio":
        assert served.extra["after_notification"] == {"jsonrpc": "2.0", "id": 98, "result": {}}
    else:
        response = served.extra["notification"]
        assert isinstance(response, httpx2.Response) and response.status_code == 202 and not response.content


def test_the_session_goes_on_and_runs_nothing_that_was_refused(over_stdio: Served) -> None:
    still = over_stdio.extra["still"]
    assert isinstance(still, dict) and still["id"] == 99 and "result" in still
    rows = over_stdio.extra["all_rows"]
    assert isinstance(rows, list)
    assert [r.tool for r in rows if r.error_class != MALFORMED] == ["list_sources"]  # the object id ran nothing


def test_without_a_token_nothing_is_recorded(over_http: Served) -> None:
    assert over_http.extra["anonymous"] == [401] * len(SHAPES)
    rows = over_http.extra["all_rows"]
    assert isinstance(rows, list) and len(rows) == len(SHAPES) + 1  # the token's rows only
