from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
from pathlib import Path

import pytest
import sqlalchemy as sa

from mcp_server.ledger.chain import GENESIS
from mcp_server.ledger.keys import KEY_FILE, LedgerKey, LedgerKeyError
from mcp_server.ledger.report import parse_since, percentile, render_calls, render_summary, summarise, write_calls
from mcp_server.ledger.store import Filters, Ledger, LedgerEntry
from mcp_server.ledger.summary import call_widths, totals, usage_by_agent
from tests.ledger.conftest import KEY


def _ledger(tmp_path: Path) -> Ledger:
    return Ledger(f"sqlite:///{tmp_path / 'state' / 'ledger.sqlite'}")


def test_append_and_read_back(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    entry = ledger.append(
        LedgerEntry(
            agent="a",
            tool="query",
            status="ok",
            source="crm",
            rows=3,
            tokens_in=10,
            tokens_out=40,
            entities={"PERSON": 2},
            duration_ms=12.5,
            arguments={"sql": "SELECT '<LITERAL:0123456789ab>'"},
        )
    )
    assert entry.id == 1
    [back] = list(ledger.entries())
    assert back.entities == {"PERSON": 2} and back.arguments["sql"].startswith("SELECT")
    assert ledger.verify() == (1, [])
    key_file = tmp_path / "state" / KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600 and len(key_file.read_text().strip()) == 64


def test_chain_detects_edit_and_delete(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    for i in range(4):
        ledger.append(LedgerEntry(agent="a", tool="query", status="ok", rows=i))
    assert ledger.verify() == (4, [])
    with ledger.engine.begin() as conn:
        conn.execute(sa.text("UPDATE maskwire_calls SET rows = 99 WHERE id = 2"))
    count, problems = ledger.verify()
    assert count == 4 and any("row 2" in p and "edited" in p for p in problems)
    with ledger.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM maskwire_calls WHERE id = 2"))
    _, problems = ledger.verify()
    assert any("row 2 missing" in p for p in problems) and any("row 3" in p and "follow" in p for p in problems)


def test_another_ledger_key_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    Ledger(url, key=KEY).append(LedgerEntry(agent="a", tool="query", status="ok"))
    with pytest.raises(LedgerKeyError, match="not the key this ledger is chained with"):
        Ledger(url, key=LedgerKey(b"some-other-key-that-is-long-enough!!"))
    # the default key file next to the ledger is missing: not silently replaced by a new one
    assert not (tmp_path / KEY_FILE).exists()
    with pytest.raises(LedgerKeyError, match="missing"):
        Ledger(url)
    assert not (tmp_path / KEY_FILE).exists()


def test_another_masking_key_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    Ledger(url, key=KEY, masking_key_fingerprint="aaaa").append(LedgerEntry(agent="a", tool="q", status="ok"))
    Ledger(url, key=KEY, masking_key_fingerprint="aaaa").dispose()
    with pytest.raises(LedgerKeyError, match=r"masking key .* is not the key this deployment has used"):
        Ledger(url, key=KEY, masking_key_fingerprint="bbbb")


def test_legacy_unkeyed_ledger_still_reads_and_verifies(tmp_path: Path) -> None:
    """A ledger written by an earlier version (SQLite AUTOINCREMENT ids, plain SHA-256 chain, no meta table)."""
    path = tmp_path / "ledger.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    columns = (
        "id INTEGER PRIMARY KEY, ts VARCHAR(32) NOT NULL, agent VARCHAR(200) NOT NULL, client_name VARCHAR(200) NOT "
        "NULL, client_version VARCHAR(100) NOT NULL, tool VARCHAR(100) NOT NULL, source VARCHAR(200), arguments TEXT "
        "NOT NULL, status VARCHAR(16) NOT NULL, error_class VARCHAR(100), error_message TEXT, rows INTEGER NOT NULL, "
        "tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL, entities TEXT NOT NULL, duration_ms FLOAT NOT NULL, "
        "prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL"
    )
    prev = GENESIS
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE maskwire_calls ({columns})")
        for i in range(3):
            row = LedgerEntry(agent="old", tool="query", status="ok", rows=i).record()
            body = {k: row[k] for k in sorted(row)}
            digest = hashlib.sha256((prev + json.dumps(body, sort_keys=True, ensure_ascii=False)).encode()).hexdigest()
            row.update(prev_hash=prev, hash=digest)
            conn.execute(sa.table("maskwire_calls", *[sa.column(k) for k in row]).insert().values(**row))
            prev = digest
    engine.dispose()
    ledger = Ledger(f"sqlite:///{path}", key=KEY)
    assert [e.rows for e in ledger.entries()] == [0, 1, 2]
    ledger.append(LedgerEntry(agent="new", tool="query", status="ok"))
    assert ledger.verify() == (4, [])
    from mcp_server.ledger.verify import verify_ledger

    report = verify_ledger(ledger, [])
    assert report.unkeyed_rows == 3 and any("unkeyed SHA-256 chain" in n for n in report.notes)
    with ledger.engine.begin() as conn:
        conn.execute(sa.text("UPDATE maskwire_calls SET rows = 7 WHERE id = 2"))
    assert verify_ledger(ledger, []).first_bad_id == 2


def _random_entries(n: int, seed: int = 7) -> list[LedgerEntry]:
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    out = []
    for i in range(n):
        status = rng.choice(["ok", "ok", "ok", "denied", "error"])
        out.append(
            LedgerEntry(
                agent=rng.choice(["alpha", "beta", "gamma"]),
                tool=rng.choice(["query", "search", "describe"]),
                status=status,
                error_class="QuotaExceeded" if status == "denied" and rng.random() < 0.3 else None,
                rows=rng.randrange(50),
                tokens_in=rng.randrange(100),
                tokens_out=rng.randrange(1000),
                entities={e: rng.randrange(1, 5) for e in rng.sample(["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER"], 2)}
                if rng.random() < 0.5
                else {},
                duration_ms=rng.random() * 500,
                ts=(start + dt.timedelta(minutes=i)).isoformat(timespec="milliseconds"),
            )
        )
    return out


def test_summary_in_the_database_matches_the_calls(ledger_url: str) -> None:
    entries = _random_entries(400)
    ledger = Ledger(ledger_url, key=KEY)
    try:
        ledger.append_many(entries)
        since = dt.datetime(2026, 1, 1, 3, tzinfo=dt.UTC)

        def at(hour: int, minute: int) -> dt.datetime:
            return dt.datetime(2026, 1, 1, hour, minute, tzinfo=dt.UTC)

        for filters, chosen in [
            (Filters(), entries),
            (
                Filters(agent="beta", since=since),
                [e for e in entries if e.agent == "beta" and e.ts >= since.isoformat()],
            ),
            (
                Filters(tool="search", status="denied"),
                [e for e in entries if e.tool == "search" and e.status == "denied"],
            ),
            (Filters(status="over_quota"), [e for e in entries if e.error_class == "QuotaExceeded"]),
            (Filters(since=at(2, 30), until=at(5, 45)), [e for e in entries if at(2, 30) <= _when(e) < at(5, 45)]),
            (Filters(since=at(2, 10), until=at(2, 50)), [e for e in entries if at(2, 10) <= _when(e) < at(2, 50)]),
            (Filters(until=at(1, 0)), [e for e in entries if _when(e) < at(1, 0)]),
        ]:
            in_db = [u.as_dict() for u in usage_by_agent(ledger, filters)]
            in_python = [u.as_dict() for u in summarise(chosen)]
            assert in_db == in_python
            assert totals(ledger, filters).calls == len(chosen)
    finally:
        ledger.dispose()


def _when(entry: LedgerEntry) -> dt.datetime:
    return dt.datetime.fromisoformat(entry.ts)


def test_rendering_escapes_and_totals(tmp_path: Path) -> None:
    entries = [
        LedgerEntry(agent="a", tool="query", status="ok", tokens_in=5, tokens_out=50, entities={"PERSON": 1}),
        LedgerEntry(agent="a", tool="query", status="denied", tokens_in=5, tokens_out=8, duration_ms=2),
        LedgerEntry(agent="b", tool="describe", status="error", tokens_in=1, tokens_out=3, duration_ms=30),
    ]
    usage = {u.agent: u.as_dict() for u in summarise(entries)}
    assert usage["a"]["calls"] == 2 and usage["a"]["ok"] == 1 and usage["a"]["denied"] == 1
    assert usage["a"]["tokens_out"] == 58 and usage["a"]["entities_masked"] == {"PERSON": 1}
    table = render_summary(summarise(entries), "table")
    assert "PERSON 1" in table and "3 calls (1 ok, 1 denied, 1 error)" in table
    assert render_summary(summarise(entries), "csv").splitlines()[0].startswith("agent,calls")
    assert [a["calls"] for a in json.loads(render_summary(summarise(entries), "json"))] == [2, 1]
    hostile = LedgerEntry(
        agent="<script>alert(1)</script>",
        tool="query",
        status="error",
        error_class="SqlDenied",
        error_message="<img src=x onerror=alert(1)>",
        arguments={"sql": "SELECT '</code><script>'"},
    )
    page = render_summary(summarise([*entries, hostile]), "html")
    assert page.startswith("<!doctype html>") and "&lt;script&gt;" in page and "<script>" not in page
    calls_page = render_calls([*entries, hostile], "html")
    assert "<script>" not in calls_page and "<img" not in calls_page and "&lt;/code&gt;&lt;script&gt;" in calls_page
    assert "http" not in calls_page.replace("http-equiv", "")  # self-contained: nothing loaded from elsewhere


def test_call_listing_streams_every_format(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    ledger.append_many(_random_entries(50))
    ledger.append(
        LedgerEntry(
            agent="a",
            tool="query",
            status="denied",
            error_class="SqlDenied",
            error_message="writes are not allowed",
            arguments={"sql": "SELECT name FROM t WHERE email = '<EMAIL_ADDRESS:0123456789ab>' LIMIT 5"},
        )
    )
    filters = Filters(agent="a")
    for fmt in ("json", "csv", "html", "table"):
        out = io.StringIO()
        n = write_calls(
            ledger.entries(filters=filters),
            fmt,
            out,
            totals=totals(ledger, filters),
            widths=call_widths(ledger, filters),
        )
        assert n == 1
        text = out.getvalue()
        assert "<EMAIL_ADDRESS:0123456789ab>" in text or "&lt;EMAIL_ADDRESS:0123456789ab&gt;" in text
        assert "LIMIT 5" in text and "SqlDenied" in text
    listed = json.loads(_written(ledger, "json", Filters()))
    assert len(listed) == 51 and [e["id"] for e in listed] == list(range(1, 52))
    assert json.loads(_written(ledger, "json", Filters(agent="nobody"))) == []


def _written(ledger: Ledger, fmt: str, filters: Filters) -> str:
    out = io.StringIO()
    write_calls(ledger.entries(filters=filters), fmt, out)
    return out.getvalue()


def test_percentile_and_since() -> None:
    assert percentile([], 50) == 0
    assert percentile([1, 2, 3, 4], 50) == 2
    assert percentile(list(range(1, 101)), 95) == 95
    now = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    assert parse_since("7d", now) == dt.datetime(2026, 1, 3, tzinfo=dt.UTC)
    assert parse_since("2026-01-01", now) == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_since_filter(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    ledger.append(LedgerEntry(agent="a", tool="q", status="ok", ts="2020-01-01T00:00:00.000+00:00"))
    ledger.append(LedgerEntry(agent="a", tool="q", status="ok"))
    recent = list(ledger.entries(since=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)))
    assert len(recent) == 1


def test_appends_keep_the_rollup_equal_to_the_calls(ledger_url: str, tmp_path: Path) -> None:
    """Calls appended one by one and in batches (the prepared insert and upsert) give the rollup that the
    stored rows give, on every engine; an integer duration is stored and hashed as the same float."""
    from mcp_server.ledger import rollup
    from mcp_server.ledger.store import usage_daily

    ledger = Ledger(ledger_url, key=KEY)
    rng = random.Random(5)
    days = ("2026-11-30T23:59:59.999+00:00", "2026-12-01T00:00:00.000+00:00", "2026-12-01T12:00:00.000+00:00")

    def entry(i: int) -> LedgerEntry:
        status = rng.choice(("ok", "ok", "denied", "error"))
        return LedgerEntry(
            agent=rng.choice(("a", "b")),
            tool=rng.choice(("query", "read")),
            status=status,
            error_class="QuotaExceeded" if status == "denied" and i % 2 else None,
            rows=rng.randint(0, 100),
            tokens_in=rng.randint(1, 50),
            tokens_out=rng.randint(0, 5000),
            entities=rng.choice(({}, {"PERSON": 3}, {"PERSON": 1, "EMAIL_ADDRESS": 2})),
            duration_ms=rng.choice((7, 1.23456)),
            ts=days[i % len(days)],
        )

    for i in range(12):
        ledger.append(entry(i))
    ledger.append_many([entry(i) for i in range(12, 30)])
    try:
        with ledger.engine.connect() as conn:
            assert rollup.differences(conn, usage_daily) == []
            stored = conn.execute(sa.select(sa.func.count()).select_from(usage_daily)).scalar_one()
        assert stored > 10
        assert ledger.verify() == (30, [])
        assert [e.id for e in ledger.entries()] == list(range(1, 31))
    finally:
        ledger.dispose()


def test_an_in_memory_ledger_is_one_database_for_every_thread() -> None:
    """The server appends from worker threads: an in-memory ledger must not be one database per thread."""
    import threading

    ledger = Ledger("sqlite://", key=KEY)

    def append() -> None:
        for _ in range(25):
            ledger.append(LedgerEntry(agent="a", tool="query", status="ok"))

    threads = [threading.Thread(target=append) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ledger.append(LedgerEntry(agent="a", tool="query", status="ok"))
    try:
        assert ledger.verify() == (101, [])
    finally:
        ledger.dispose()
