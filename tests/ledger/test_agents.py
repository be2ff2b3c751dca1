"""The agents table and the quota counts, on SQLite and on PostgreSQL (the databases a ledger lives in)."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mcp_server.ledger.agents import AgentStore, AgentStoreError
from mcp_server.ledger.keys import LedgerKey
from mcp_server.ledger.store import Ledger, LedgerEntry


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """A fresh ledger database: a SQLite file, or a new schema in the PostgreSQL test database."""
    if request.param == "sqlite":
        ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
        yield ledger
        ledger.dispose()
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    schema = f"mw_agents_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.engine.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    ledger = Ledger(url.render_as_string(hide_password=False), key=LedgerKey(b"agents-test-ledger-key-32-chars-long"))
    try:
        yield ledger
    finally:
        ledger.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def test_add_find_revoke_and_reissue(ledger: Ledger) -> None:
    store = AgentStore(ledger.engine)
    assert not store.has_active() and store.all() == []
    added = store.add("bot", "analyst", _digest("t1"), calls_per_hour=5)
    assert added.active and added.calls_per_hour == 5 and added.tokens_out_per_day is None
    store.add("other", "default", _digest("t2"), tokens_out_per_day=100)

    assert store.has_active()
    assert store.active_by_hash(_digest("t1")) == added
    assert store.active_by_hash(_digest("nope")) is None
    assert store.active("bot") == added
    assert [a.name for a in store.all()] == ["bot", "other"]

    with pytest.raises(AgentStoreError, match="already exists"):
        store.add("bot", "analyst", _digest("t3"))
    with pytest.raises(AgentStoreError) as duplicate_hash:  # a hash is unique: one token, one agent
        store.add("third", "analyst", _digest("t1"))
    assert _digest("t1") not in str(duplicate_hash.value)  # the driver's message (with parameters) is dropped

    assert store.revoke("bot") is True
    assert store.revoke("bot") is False  # already revoked
    assert store.revoke("nobody") is False
    assert store.active_by_hash(_digest("t1")) is None and store.active("bot") is None
    [bot] = [a for a in store.all() if a.name == "bot"]
    assert bot.revoked is not None and not bot.active

    reissued = store.add("bot", "default", _digest("t4"))  # a revoked name can be given a new token
    assert reissued.active and store.active_by_hash(_digest("t4")) == reissued
    assert store.active_by_hash(_digest("t1")) is None


def test_a_second_store_on_the_same_database_sees_revocation(ledger: Ledger) -> None:
    """Replicas share the ledger database: a revoke on one is seen by the next lookup on another."""
    first = AgentStore(ledger.engine)
    second = AgentStore(sa.create_engine(ledger.engine.url))
    try:
        first.add("bot", "default", _digest("t"))
        assert second.active_by_hash(_digest("t")) is not None
        first.revoke("bot")
        assert second.active_by_hash(_digest("t")) is None
    finally:
        second.engine.dispose()


def test_usage_counts_calls_and_tokens_in_their_windows(ledger: Ledger) -> None:
    hour = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
    day = hour.replace(hour=0)

    def at(moment: dt.datetime) -> str:
        return moment.isoformat(timespec="milliseconds")

    for ts, agent, tokens, error_class in [
        (day - dt.timedelta(minutes=1), "a", 1000, None),  # yesterday: counts for nothing
        (day + dt.timedelta(hours=2), "a", 30, None),  # today, an earlier hour
        (hour, "a", 20, None),  # this hour
        (hour + dt.timedelta(minutes=5), "a", 10, "SqlDenied"),  # a denied call is still a call
        (hour + dt.timedelta(minutes=6), "a", 55, "QuotaExceeded"),  # refused for quota: not counted
        (hour + dt.timedelta(minutes=7), "b", 99, None),  # another agent
    ]:
        status = "ok" if error_class is None else "denied"
        ledger.append(
            LedgerEntry(agent=agent, tool="query", status=status, tokens_out=tokens, error_class=error_class, ts=at(ts))
        )
    assert ledger.usage("a", calls_since=hour, tokens_since=day) == (2, 60)
    assert ledger.usage("b", calls_since=hour, tokens_since=day) == (1, 99)
    assert ledger.usage("nobody", calls_since=hour, tokens_since=day) == (0, 0)
    assert ledger.verify()[1] == []
