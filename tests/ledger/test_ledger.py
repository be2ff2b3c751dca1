import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from mcp_server.ledger.report import parse_since, percentile, render_calls, render_summary, summarise
from mcp_server.ledger.store import Ledger, LedgerEntry


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
    assert any("row 3" in p and "link" in p for p in problems)


def test_summary_per_agent(tmp_path: Path) -> None:
    entries = [
        LedgerEntry(
            agent="a",
            tool="query",
            status="ok",
            tokens_in=5,
            tokens_out=50,
            entities={"PERSON": 1},
            duration_ms=10,
        ),
        LedgerEntry(agent="a", tool="query", status="denied", tokens_in=5, tokens_out=8, duration_ms=2),
        LedgerEntry(agent="b", tool="describe", status="error", tokens_in=1, tokens_out=3, duration_ms=30),
    ]
    usage = {u.agent: u.as_dict() for u in summarise(entries)}
    assert usage["a"]["calls"] == 2 and usage["a"]["ok"] == 1 and usage["a"]["denied"] == 1
    assert usage["a"]["tokens_out"] == 58 and usage["a"]["entities_masked"] == {"PERSON": 1}
    assert usage["b"]["error"] == 1
    table = render_summary(summarise(entries), "table")
    assert "agent" in table and "PERSON 1" in table
    assert render_summary(summarise(entries), "csv").splitlines()[0].startswith("agent,calls")
    assert '"agent": "b"' in render_summary(summarise(entries), "json")
    assert "describe" in render_calls(entries, "table")
    page = render_summary(summarise([*entries, LedgerEntry(agent="<script>", tool="q", status="ok")]), "html")
    assert page.startswith("<!doctype html>") and "&lt;script&gt;" in page and "<script>" not in page
    assert "<td>describe</td>" in render_calls(entries, "html")


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


def test_ledger_on_postgresql(postgres_url: str) -> None:
    """Several replicas share one PostgreSQL ledger: appends are serialised and the chain holds."""
    import threading
    import uuid

    schema = f"mw_ledger_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.engine.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    replicas = [Ledger(url.render_as_string(hide_password=False)) for _ in range(3)]
    try:

        def work(ledger: Ledger, n: int) -> None:
            for i in range(10):
                ledger.append(LedgerEntry(agent=f"replica-{n}", tool="query", status="ok", rows=i))

        threads = [threading.Thread(target=work, args=(ledger, n)) for n, ledger in enumerate(replicas)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert replicas[0].verify() == (30, [])
    finally:
        for ledger in replicas:
            ledger.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
