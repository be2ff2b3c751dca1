"""Agents, tokens and quotas: config validation, token lookup, and quotas enforced through the real server."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client
from mcp_types import Implementation, TextContent

from mcp_server import quotas
from mcp_server.config import ConfigError, load_config, parse_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.identity import Agent, Identities, IdentityError, Quotas, new_token, token_sha256
from mcp_server.ledger.agents import AgentStore
from mcp_server.ledger.store import Ledger, LedgerEntry
from mcp_server.quotas import check_quotas
from mcp_server.runtime import Runtime
from mcp_server.server import build_server

CONFIG_TOKEN = "mw_a-token-declared-in-the-config-file"
CONFIG = f"""
[roles.analyst]
sources = ["*"]

[[agents]]
name = "declared"
role = "analyst"
token_sha256 = "{hashlib.sha256(CONFIG_TOKEN.encode()).hexdigest()}"
quotas = {{ calls_per_hour = 10, tokens_out_per_day = 5000 }}

[[agents]]
name = "stdio-only"
role = "analyst"
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AgentStore]:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    yield AgentStore(ledger.engine)
    ledger.dispose()


def test_tokens_are_random_and_hashed() -> None:
    token = new_token()
    assert token.startswith("mw_") and len(token) > 40 and token != new_token()
    assert token_sha256(token) == hashlib.sha256(token.encode()).hexdigest()


def test_agent_config_is_validated_without_echoing_values() -> None:
    config = parse_config(CONFIG)
    declared = config.agent("declared")
    assert declared is not None and declared.quotas.calls_per_hour == 10
    bad_hash = "ABCDEF" + "0" * 58
    for text, key in [
        (CONFIG.replace('name = "stdio-only"', 'name = "declared"'), "two agents"),
        (f'[[agents]]\nname = "x"\nrole = "default"\ntoken_sha256 = "{bad_hash}"\n', 'agents["x"].token_sha256'),
        ('[[agents]]\nname = "x"\nrole = "default"\ntoken_sha256 = "abc"\n', "token_sha256"),
        ('[[agents]]\nname = "x"\nrole = "default"\nquotas = { calls_per_hour = 0 }\n', "quotas.calls_per_hour"),
        ('[[agents]]\nname = "x"\nrole = "default"\nquotas = { per_minute = 3 }\n', "unknown key"),
        ('[[agents]]\nname = "x"\nrole = "default"\ntoken = "plain"\n', "unknown key"),
    ]:
        with pytest.raises(ConfigError) as error:
            parse_config(text)
        assert key in str(error.value)
        assert bad_hash not in str(error.value) and "plain" not in str(error.value)


def test_identities_from_config_and_store(store: AgentStore) -> None:
    identities = Identities(parse_config(CONFIG), store)
    assert not store.has_active() and identities.have_tokens()  # the config declares a token
    token = new_token()
    store.add("stored", "analyst", token_sha256(token), tokens_out_per_day=7)

    assert identities.by_token(CONFIG_TOKEN) == Agent("declared", "analyst", Quotas(10, 5000))
    assert identities.by_token(token) == Agent("stored", "analyst", Quotas(None, 7))
    for wrong in ["", token + "x", token_sha256(token), CONFIG_TOKEN.upper(), "x" * 10_000]:
        assert identities.by_token(wrong) is None
    store.revoke("stored")
    assert identities.by_token(token) is None

    # stdio: a name, not a credential; unlisted names act in the default role without quotas
    assert identities.named("stdio-only") == Agent("stdio-only", "analyst")
    assert identities.named("declared").quotas == Quotas(10, 5000)
    assert identities.named("stranger") == Agent("stranger", "default")
    assert identities.named("stored") == Agent("stored", "default")  # revoked: no longer in the table


def test_a_stored_agent_whose_role_is_gone_is_refused(store: AgentStore) -> None:
    token = new_token()
    store.add("orphan", "retired-role", token_sha256(token))
    identities = Identities(parse_config(CONFIG), store)
    with pytest.raises(IdentityError, match="retired-role"):
        identities.by_token(token)


def test_config_agent_wins_over_a_stored_agent_of_the_same_name(store: AgentStore) -> None:
    token = new_token()
    store.add("declared", "default", token_sha256(token))
    identities = Identities(parse_config(CONFIG), store)
    assert identities.by_token(token) is None  # the table's token does not speak for the config's agent
    assert identities.by_token(CONFIG_TOKEN) == Agent("declared", "analyst", Quotas(10, 5000))


def test_quota_windows_and_reset_times(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    now = dt.datetime(2026, 5, 6, 14, 30, tzinfo=dt.UTC)
    agent = Agent("q", "default", Quotas(calls_per_hour=2, tokens_out_per_day=100))
    try:
        assert check_quotas(ledger, Agent("free", "default"), now) is None
        assert check_quotas(ledger, agent, now) is None
        ledger.append(LedgerEntry(agent="q", tool="query", status="ok", tokens_out=10, ts="2026-05-06T14:01:00+00:00"))
        assert check_quotas(ledger, agent, now) is None
        ledger.append(LedgerEntry(agent="q", tool="query", status="ok", tokens_out=10, ts="2026-05-06T14:02:00+00:00"))
        over = check_quotas(ledger, agent, now)
        assert over is not None and (over.quota, over.limit, over.used) == ("calls_per_hour", 2, 2)
        assert over.resets == dt.datetime(2026, 5, 6, 15, 0, tzinfo=dt.UTC)
        assert "resets at 2026-05-06T15:00:00Z" in over.message()
        assert check_quotas(ledger, agent, now.replace(hour=15, minute=0)) is None  # a new hour

        ledger.append(LedgerEntry(agent="q", tool="query", status="ok", tokens_out=80, ts="2026-05-06T09:00:00+00:00"))
        over = check_quotas(ledger, agent, now)  # both quotas reached: the one that resets last is reported
        assert over is not None and (over.quota, over.used) == ("tokens_out_per_day", 100)
        assert over.resets == dt.datetime(2026, 5, 7, tzinfo=dt.UTC)
        assert check_quotas(ledger, agent, dt.datetime(2026, 5, 7, 0, 0, 1, tzinfo=dt.UTC)) is None
    finally:
        ledger.dispose()


@pytest.fixture
def quota_runtime(tmp_path: Path) -> Iterator[Runtime]:
    prepare_demo(tmp_path)
    config = tmp_path / "maskwire.toml"
    with config.open("a", encoding="utf-8") as out:
        out.write('\n[[agents]]\nname = "capped"\nrole = "default"\nquotas = { calls_per_hour = 2 }\n')
    runtime = Runtime.start(load_config(config), agent="capped")
    yield runtime
    runtime.close()


async def test_quota_over_stdio_style_transport_is_a_recorded_tool_error(
    quota_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The named agent's quota holds without HTTP too; the refused call is a tool error recorded as denied."""
    fixed = dt.datetime.now(dt.UTC).replace(minute=30)  # one clock hour for the whole test
    monkeypatch.setattr(quotas, "utc_now", lambda: fixed)
    async with Client(build_server(quota_runtime), client_info=Implementation(name="someone-else", version="1")) as c:
        results = [await c.call_tool("list_sources", {}) for _ in range(3)]
    assert [r.is_error for r in results] == [False, False, True]
    text = "\n".join(b.text for b in results[2].content if isinstance(b, TextContent))
    assert "calls_per_hour" in text and "resets at" in text
    entries = list(quota_runtime.ledger.entries())
    assert [e.agent for e in entries] == ["capped"] * 3
    assert [(e.status, e.error_class) for e in entries] == [("ok", None), ("ok", None), ("denied", "QuotaExceeded")]


async def test_a_stdio_agent_whose_role_is_gone_is_recorded_and_denied(tmp_path: Path) -> None:
    prepare_demo(tmp_path)
    config = load_config(tmp_path / "maskwire.toml")
    ledger = Ledger(config.ledger_url)
    AgentStore(ledger.engine).add("orphan", "retired-role", token_sha256(new_token()))
    ledger.dispose()
    runtime = Runtime.start(config, agent="orphan")
    try:
        async with Client(build_server(runtime)) as client:
            result = await client.call_tool("query", {"source": "crm", "sql": "SELECT email FROM customers"})
        assert result.is_error and result.structured_content is None
        assert "retired-role" in "\n".join(b.text for b in result.content if isinstance(b, TextContent))
        [entry] = list(runtime.ledger.entries())
        assert (entry.agent, entry.tool, entry.status, entry.error_class) == (
            "orphan",
            "query",
            "denied",
            "AgentRefused",
        )
    finally:
        runtime.close()


@pytest.mark.parametrize(
    ("name", "version", "stored_as_sent"),
    [
        ("claude-ai", "0.7.1", True),
        ("Visual Studio Code", "1.96.2", True),
        ("langchain-mcp-adapters", "0.1.0", True),
        ("Quentin Vandermolen 555-31-4592", "Hunter2Secret!", False),
        ("ysolde.b@quuxpost.org", "555-31-4592", False),
    ],
)
async def test_the_clients_own_name_is_kept_only_when_it_reads_like_software(
    tmp_path: Path, name: str, version: str, stored_as_sent: bool
) -> None:
    """A client describes itself in the handshake with any text it likes; the ledger stores it as sent only when
    it is made of English words and words of known clients, else as keyed tokens."""
    prepare_demo(tmp_path)
    runtime = Runtime.start(load_config(tmp_path / "maskwire.toml"), agent="reviewer")
    try:
        async with Client(build_server(runtime), client_info=Implementation(name=name, version=version)) as client:
            await client.call_tool("list_sources", {})
        [entry] = list(runtime.ledger.entries())
    finally:
        runtime.close()
    if stored_as_sent:
        assert (entry.client_name, entry.client_version) == (name, version)
    else:
        assert entry.client_name.startswith("<LITERAL:") and entry.client_version.startswith("<LITERAL:")
        for secret in ("Vandermolen", "555-31-4592", "4592", "Hunter2", "quuxpost"):
            assert secret not in entry.client_name + entry.client_version
