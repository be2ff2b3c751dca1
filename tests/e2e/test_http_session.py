"""End to end over HTTP: `maskwire serve --transport http` in a subprocess, driven by the official MCP client.

Agents and their tokens are made with the real `maskwire agents` commands (one more is declared in the config
file by its token's SHA-256). The tests check that results are masked, that the ledger names the agent the
token belongs to whatever the client says about itself, that a request without a valid token gets HTTP 401
and runs nothing, that quotas refuse calls as tool errors recorded as denied, and that no token or token
hash reaches the ledger, the server's log or `agents list`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
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
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, Implementation, TextContent

from mcp_server.config import load_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.ledger.store import Ledger, LedgerEntry
from mcp_server.server import TOOL_NAMES

pytestmark = pytest.mark.e2e

CONFIG_TOKEN = "mw_config-declared-token-for-the-e2e-test-0123456789"
READY = re.compile(r"serving MCP over streamable HTTP at (\S+)")
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}
HTTP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@dataclass
class HttpServer:
    url: str
    config: Path
    tokens: dict[str, str]
    seeded: tuple[str, ...]
    stderr: list[str] = field(default_factory=list)

    def entries(self, agent: str | None = None) -> list[LedgerEntry]:
        ledger = Ledger(load_config(self.config).ledger_url)
        try:
            return list(ledger.entries(agent=agent))
        finally:
            ledger.dispose()

    def client(self, agent: str, *, name: str = "e2e-http-client", mode: str = "auto") -> Client:
        return _client(self.url, self.tokens[agent], name=name, mode=mode)


def _client(url: str, token: str, *, name: str = "e2e-http-client", mode: str = "auto") -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
    transport = streamable_http_client(url, http_client=http)
    return Client(transport, client_info=Implementation(name=name, version="1.0"), mode=mode)  # type: ignore[arg-type]


def maskwire(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server.cli", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )


def _add_agent(config: Path, name: str, *quota: str) -> str:
    done = maskwire("agents", "add", name, "--role", "default", *quota, config=config)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("mw_") and "\n" not in token
    return token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    root = tmp_path_factory.mktemp("http-workspace")
    workspace = prepare_demo(root)
    config = root / "maskwire.toml"
    digest = hashlib.sha256(CONFIG_TOKEN.encode()).hexdigest()
    with config.open("a", encoding="utf-8") as out:
        out.write(
            f'\n[[agents]]\nname = "config-bot"\nrole = "default"\ntoken_sha256 = "{digest}"\n'
            "quotas = { tokens_out_per_day = 1 }\n"
        )
    tokens = {
        "http-agent": _add_agent(config, "http-agent"),
        "limited": _add_agent(config, "limited", "--calls-per-hour", "2"),
        "doomed": _add_agent(config, "doomed"),
        "config-bot": CONFIG_TOKEN,
    }
    env = {"MASKWIRE_LOG_LEVEL": "INFO", "MASKWIRE_AGENT": "env-agent"}  # the variable is for stdio
    handle = HttpServer("", config, tokens, workspace.seeded.must_not_leak())
    with serving_http(config, env, handle.stderr) as url:
        handle.url = url
        yield handle


@contextmanager
def serving_http(config: Path, env: dict[str, str], stderr: list[str]) -> Iterator[str]:
    """`maskwire serve --transport http --port 0` in a subprocess; yields its MCP URL once it listens, collecting
    its stderr lines into `stderr`, and stops it afterwards."""
    serve = ["serve", "--config", str(config), "--transport", "http", "--port", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_server.cli", *serve],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    found: list[str] = []
    ready = threading.Event()

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            stderr.append(line)
            match = READY.search(line)
            if match:
                found.append(match.group(1))
                ready.set()
        ready.set()  # the process ended

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


def _text(result: CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, TextContent))


def _everything(result: CallToolResult) -> str:
    return _text(result) + json.dumps(result.structured_content or {}, ensure_ascii=False)


def _leaks(text: str, seeded: tuple[str, ...]) -> list[str]:
    folded = text.casefold()
    return [value for value in seeded if value.casefold() in folded]


async def _post(url: str, headers: dict[str, str]) -> httpx2.Response:
    async with httpx2.AsyncClient(timeout=60) as http:
        return await http.post(url, json=INITIALIZE, headers={**HTTP_HEADERS, **headers})


async def test_tools_are_masked_and_recorded_under_the_tokens_agent(server: HttpServer) -> None:
    before = len(server.entries())
    results: list[CallToolResult] = []
    # the client calls itself something else: the ledger must still name the token's agent
    async with server.client("http-agent", name="config-bot") as client:
        tools = await client.list_tools()
        assert {t.name for t in tools.tools} == TOOL_NAMES
        for tool, arguments in [
            ("list_sources", {}),
            ("describe", {"source": "crm", "table": "customers"}),
            ("query", {"source": "crm", "sql": "SELECT * FROM customers"}),
            ("query", {"source": "crm", "sql": "SELECT email AS remark, ssn AS x FROM customers"}),
            ("query", {"source": "crm", "sql": "SELECT id, subject, body FROM support_tickets"}),
            ("search", {"query": "refund"}),
        ]:
            results.append(await client.call_tool(tool, arguments))
        ref = results[-1].structured_content["hits"][0]["ref"]  # type: ignore[index]
        results.append(await client.call_tool("read", {"source": "docs", "ref": ref}))
    async with server.client("http-agent", mode="legacy") as client:  # the handshake-era protocol too
        results.append(await client.call_tool("query", {"source": "crm", "sql": "SELECT email FROM customers"}))

    for result in results:
        assert not result.is_error, _text(result)
        assert not _leaks(_everything(result), server.seeded)
    star = results[2].structured_content
    assert star is not None
    email = [c["name"] for c in star["columns"]].index("email")
    assert all(row[email].startswith("<EMAIL_ADDRESS:") for row in star["rows"])

    new = server.entries()[before:]
    assert len(new) == len(results)
    assert {e.agent for e in new} == {"http-agent"}
    assert {e.status for e in new} == {"ok"}
    assert new[0].client_name == "config-bot"  # what the client said, kept apart from who it is
    assert not _leaks(json.dumps([e.record() for e in new], ensure_ascii=False), server.seeded)


async def test_no_or_bad_token_is_refused_with_401_and_runs_nothing(server: HttpServer) -> None:
    url = server.url
    # a token that works until it is revoked
    async with server.client("doomed") as client:
        assert not (await client.call_tool("list_sources", {})).is_error
    revoked = maskwire("agents", "revoke", "doomed", config=server.config)
    assert revoked.returncode == 0, revoked.stderr

    before = server.entries()
    assert [e.agent for e in before].count("doomed") == 1
    doomed = server.tokens["doomed"]
    refused = [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {server.tokens['http-agent']}"},
        {"Authorization": f"Bearer {hashlib.sha256(server.tokens['http-agent'].encode()).hexdigest()}"},
        {"Authorization": f"Bearer {server.tokens['http-agent']}x"},
        {"Authorization": f"Bearer {doomed}"},
    ]
    for headers in refused:
        response = await _post(url, headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
        for token in server.tokens.values():
            assert token not in response.text
    for token in (doomed, "mw_not-a-token"):  # the SDK client gets an error, not a session
        with pytest.raises(ExceptionGroup) as refused_by_client:
            async with _client(url, token) as client:
                await client.call_tool("query", {"source": "crm", "sql": "SELECT email FROM customers"})
        assert refused_by_client.group_contains(MCPError, depth=None)
    assert server.entries() == before  # nothing ran, nothing was recorded

    response = await _post(url, {"Authorization": f"bearer {server.tokens['http-agent']}"})
    assert response.status_code == 200  # the scheme is case-insensitive; the token is what counts


async def test_bodies_that_do_not_parse_are_answered_and_recorded(server: HttpServer) -> None:
    """Broken JSON, JSON that is not JSON-RPC, nesting too deep, a lone surrogate: each gets a JSON-RPC error
    that never quotes the body, and a ledger row under the token's agent; without a token, 401 and no row."""
    seeded = server.seeded[0]
    bodies = [
        (
            b'{"jsonrpc": "2.0", "id": 41, "method": "tools/call", "params": {"name": "query", "arguments": {"sql": "'
            + seeded.encode()
            + b'"',
            41,
        ),
        (json.dumps({"jsonrpc": "2.0", "id": 42, "method": "tools/call", "params": seeded}).encode(), 42),
        (json.dumps({seeded: 1, "id": 43}).encode(), 43),
        (json.dumps([{"jsonrpc": "2.0", "id": 44, "method": "tools/list"}]).encode(), None),
        (b'{"jsonrpc": "2.0", "id": 45, "method": "tools/call", "params": ' + b"[" * 5000 + b"]" * 5000 + b"}", 45),
        (b'{"jsonrpc": "2.0", "id": 46, "method": "tools/call", "params": {"name": "q\\ud800", "arguments": {}}}', 46),
        (b"\xff\xfe" + seeded.encode(), None),
        (b'{"jsonrpc": "2.0", "id": 47, "method": "' + seeded.encode() + b'", "params": [', 47),
    ]
    before = len(server.entries())
    headers = {**HTTP_HEADERS, "Authorization": f"Bearer {server.tokens['http-agent']}"}
    async with httpx2.AsyncClient(timeout=30) as http:
        for body, request_id in bodies:
            response = await http.post(server.url, content=body, headers=headers)
            assert response.status_code == 400, body[:80]
            answer = response.json()
            assert answer["jsonrpc"] == "2.0" and answer["id"] == request_id
            assert answer["error"]["code"] in (-32700, -32600) and answer["error"]["message"]
            assert not _leaks(response.text, server.seeded)
        for body, _ in bodies[:2]:  # no token: the SDK refuses it, nothing is recorded
            response = await http.post(server.url, content=body, headers=HTTP_HEADERS)
            assert response.status_code == 401
    new = server.entries()[before:]
    assert len(new) == len(bodies)
    assert {e.agent for e in new} == {"http-agent"}
    assert {(e.status, e.error_class) for e in new} == {("error", "MalformedRequest")}
    assert not _leaks(json.dumps([e.record() for e in new], ensure_ascii=False), server.seeded)


async def test_calls_over_quota_are_tool_errors_recorded_as_denied(server: HttpServer) -> None:
    # calls_per_hour = 2: the third call of a clock hour is refused (a call made across the hour's end
    # starts a new count, hence the loop rather than exactly three calls)
    async with server.client("limited") as client:
        for _ in range(7):
            result = await client.call_tool("list_sources", {})
            if result.is_error:
                break
    assert result.is_error
    text = _text(result)
    assert "calls_per_hour" in text and "resets at" in text and "limited" in text
    last = server.entries(agent="limited")[-1]
    assert (last.status, last.error_class) == ("denied", "QuotaExceeded")
    assert last.error_message == text

    # tokens_out_per_day = 1, declared in the config file: the first call spends it, the next is refused
    async with server.client("config-bot") as client:
        for _ in range(3):
            result = await client.call_tool("list_sources", {})
            if result.is_error:
                break
    assert result.is_error and "tokens_out_per_day" in _text(result)
    bot = server.entries(agent="config-bot")
    assert bot[0].status == "ok"
    assert (bot[-1].status, bot[-1].error_class) == ("denied", "QuotaExceeded")

    usage = maskwire("usage", "--agent", "limited", "--format", "json", config=server.config)
    [summary] = json.loads(usage.stdout)
    assert summary["denied"] >= 1 and summary["over_quota"] == summary["denied"]


def test_tokens_and_hashes_never_appear_in_ledger_log_or_agents_list(server: HttpServer) -> None:
    secrets = [*server.tokens.values()]
    secrets += [hashlib.sha256(token.encode()).hexdigest() for token in server.tokens.values()]
    listing = maskwire("agents", "list", config=server.config)
    listing_json = maskwire("agents", "list", "--format", "json", config=server.config)
    assert listing.returncode == listing_json.returncode == 0
    assert "http-agent" in listing.stdout and "config-bot" in listing.stdout
    agents = {a["name"]: a for a in json.loads(listing_json.stdout)}
    assert agents["doomed"]["revoked"] and agents["limited"]["calls_per_hour"] == 2
    assert agents["config-bot"]["declared_in"] == "config"

    state = load_config(server.config).state_dir
    with sqlite3.connect(state / "ledger.sqlite") as conn:
        rows = conn.execute("SELECT * FROM maskwire_calls").fetchall()
    assert rows
    ledger_dump = json.dumps(rows, ensure_ascii=False)
    log = "".join(server.stderr)
    assert "serving MCP over streamable HTTP" in log
    for secret in secrets:
        for where, text in [
            ("ledger", ledger_dump),
            ("server log", log),
            ("agents list", listing.stdout + listing.stderr + listing_json.stdout),
        ]:
            assert secret not in text, f"a token or token hash appears in the {where}"
    assert not _leaks(log, server.seeded)
    assert "env-agent" not in ledger_dump  # $MASKWIRE_AGENT names stdio agents only


def test_http_refuses_to_start_while_no_agent_has_a_token(tmp_path: Path) -> None:
    prepare_demo(tmp_path)
    config = tmp_path / "maskwire.toml"
    refused = maskwire("serve", "--transport", "http", "--port", "0", config=config)
    assert refused.returncode == 2 and "no agent has a token" in refused.stderr
    assert maskwire("serve", "--transport", "http", "--agent", "x", config=config).returncode == 2

    assert maskwire("agents", "add", "bot", "--role", "no-such-role", config=config).returncode == 2
    _add_agent(config, "bot")
    again = maskwire("agents", "add", "bot", "--role", "default", config=config)
    assert again.returncode == 1 and "already exists" in again.stderr and "mw_" not in again.stdout
    assert maskwire("agents", "revoke", "bot", config=config).returncode == 0
    assert maskwire("agents", "revoke", "bot", config=config).returncode == 1
    refused = maskwire("serve", "--transport", "http", "--port", "0", config=config)  # its only agent is revoked
    assert refused.returncode == 2 and "no agent has a token" in refused.stderr
