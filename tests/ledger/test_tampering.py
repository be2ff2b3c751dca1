"""Every way of tampering with the ledger that an auditor must see, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mcp_server.ledger.chain import GENESIS, keyed_hash, legacy_hash
from mcp_server.ledger.checkpoints import CheckpointFile, write_checkpoint
from mcp_server.ledger.keys import LedgerKey
from mcp_server.ledger.store import Ledger, LedgerEntry
from mcp_server.ledger.verify import VerifyReport, verify_ledger
from tests.ledger.conftest import KEY

ROWS = 10


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    ledger = Ledger(ledger_url, key=KEY)
    for i in range(ROWS):
        ledger.append(LedgerEntry(agent=f"agent-{i % 3}", tool="query", status="ok", rows=i, tokens_out=10 * i))
    yield ledger
    ledger.dispose()


@pytest.fixture
def checkpoints(tmp_path: Path, ledger: Ledger) -> CheckpointFile:
    file = CheckpointFile(tmp_path / "checkpoints.jsonl")
    write_checkpoint(ledger, file)
    return file


def _sql(ledger: Ledger, statement: str) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(sa.text(statement))


def _verify(ledger: Ledger, file: CheckpointFile) -> VerifyReport:
    """As `maskwire ledger verify` does: a fresh look at the database, creating nothing."""
    fresh = Ledger(ledger.engine.url.render_as_string(hide_password=False), key=KEY, create_tables=False)
    try:
        return verify_ledger(fresh, file.lines())
    finally:
        fresh.dispose()


def test_untouched_ledger_is_intact(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    report = _verify(ledger, checkpoints)
    assert report.intact and report.rows == ROWS and report.checkpoints == 1 and report.first_bad_id is None
    # rows after the checkpoint are intact too, and said to be anchored by the next one
    ledger.append(LedgerEntry(agent="a", tool="query", status="ok"))
    report = _verify(ledger, checkpoints)
    assert report.intact and any("after the latest checkpoint" in n for n in report.notes)


def test_edit_is_found_at_its_row(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    _sql(ledger, "UPDATE maskwire_calls SET tokens_out = 0 WHERE id = 4")
    report = _verify(ledger, checkpoints)
    assert not report.intact and report.first_bad_id == 4
    assert any("row 4" in p and "keyed hash" in p for p in report.problems)


def test_delete_in_the_middle(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    _sql(ledger, "DELETE FROM maskwire_calls WHERE id IN (5, 6)")
    report = _verify(ledger, checkpoints)
    assert report.first_bad_id == 5
    assert any("rows 5 to 6 missing" in p for p in report.problems)
    assert any("row 7" in p and "does not follow" in p for p in report.problems)


def test_delete_last_rows_is_truncation(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    _sql(ledger, "DELETE FROM maskwire_calls WHERE id > 7")
    report = _verify(ledger, checkpoints)
    assert not report.intact and report.first_bad_id == 8
    assert any("ends at row 7" in p and "truncated" in p for p in report.problems)


def test_delete_all_rows(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    _sql(ledger, "DELETE FROM maskwire_calls")
    report = _verify(ledger, checkpoints)
    assert not report.intact and report.rows == 0
    assert any("empty" in p for p in report.problems)


def test_drop_table(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    _sql(ledger, "DROP TABLE maskwire_calls")
    report = _verify(ledger, checkpoints)
    assert not report.intact
    assert any("dropped" in p for p in report.problems)
    assert any(f"row {ROWS}" in p for p in report.problems)


def test_dropped_and_recreated_table_is_seen(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    """A server started after the drop makes a new, valid chain: the checkpoint still says rows are gone."""
    _sql(ledger, "DROP TABLE maskwire_calls")
    again = Ledger(ledger.engine.url.render_as_string(hide_password=False), key=KEY)
    again.append(LedgerEntry(agent="a", tool="query", status="ok"))
    again.dispose()
    report = _verify(ledger, checkpoints)
    assert not report.intact and any("ends at row" in p for p in report.problems)


def test_recomputed_chain_without_the_key(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    """Whoever can write the database edits row 3 and recomputes every hash after it (plain SHA-256, or with a
    key of their own): the first recomputed row is named."""
    forger = LedgerKey(b"not-the-ledger-key-but-long-enough!!")
    _recompute_from(ledger, 3, lambda prev, row: keyed_hash(forger, prev, row))
    report = _verify(ledger, checkpoints)
    assert report.first_bad_id == 3
    _recompute_from(ledger, 3, legacy_hash)
    assert _verify(ledger, checkpoints).first_bad_id == 3


def test_recomputed_chain_with_the_key_is_caught_by_the_checkpoint(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    """Someone holding the ledger key rewrites history: only the checkpoint kept elsewhere can tell."""
    _recompute_from(ledger, 3, lambda prev, row: keyed_hash(KEY, prev, row))
    report = _verify(ledger, checkpoints)
    assert not report.intact and report.first_bad_id == ROWS
    assert any("rewritten" in p for p in report.problems)


def test_reordered_rows(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    _sql(ledger, f"UPDATE maskwire_calls SET id = {ROWS + 100} WHERE id = 3")
    _sql(ledger, "UPDATE maskwire_calls SET id = 3 WHERE id = 4")
    _sql(ledger, f"UPDATE maskwire_calls SET id = 4 WHERE id = {ROWS + 100}")
    report = _verify(ledger, checkpoints)
    assert report.first_bad_id == 3 and any("reordered" in p for p in report.problems)


def test_inserted_row(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    """A forged row appended at the end, chained correctly but without the key."""
    row = LedgerEntry(agent="ghost", tool="query", status="ok").record()
    with ledger.engine.begin() as conn:
        last = conn.execute(sa.text("SELECT hash FROM maskwire_calls WHERE id = :i"), {"i": ROWS}).scalar_one()
    row.update(id=ROWS + 1, prev_hash=last)
    row["hash"] = legacy_hash(last, row)
    with ledger.engine.begin() as conn:
        conn.execute(sa.table("maskwire_calls", *[sa.column(k) for k in row]).insert().values(**row))
    assert _verify(ledger, checkpoints).first_bad_id == ROWS + 1


def test_forged_or_edited_checkpoint(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    text = checkpoints.path.read_text()
    checkpoints.path.write_text(text.replace(f'"count":{ROWS}', f'"count":{ROWS - 2}'))
    report = _verify(ledger, checkpoints)
    assert any("bad signature" in p for p in report.problems)
    checkpoints.path.write_text(text + "{not json\n")
    assert any("not a checkpoint" in p for p in _verify(ledger, checkpoints).problems)


def test_keyed_marker_moved(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    """Moving the keyed-chain marker (to pass keyed rows off as the old unkeyed chain) is seen."""
    _sql(ledger, f"UPDATE maskwire_ledger_meta SET value = '{ROWS + 1}' WHERE name = 'keyed_from'")
    _recompute_from(ledger, 1, legacy_hash)
    report = _verify(ledger, checkpoints)
    assert any("marker was changed" in p for p in report.problems)


def _recompute_from(ledger: Ledger, start: int, hasher) -> None:  # type: ignore[no-untyped-def]
    """Edit row `start` and recompute the chain from it, as an attacker with write access would."""
    with ledger.engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(sa.text("SELECT * FROM maskwire_calls ORDER BY id")).mappings()]
        prev = GENESIS
        for row in rows:
            if row["id"] == start:
                row["tokens_out"] = 0
            if row["id"] >= start:
                row["prev_hash"] = prev
                row["hash"] = hasher(prev, row)
                conn.execute(
                    sa.text("UPDATE maskwire_calls SET tokens_out = :t, prev_hash = :p, hash = :h WHERE id = :i"),
                    {"t": row["tokens_out"], "p": row["prev_hash"], "h": row["hash"], "i": row["id"]},
                )
            prev = row["hash"]


def test_edited_usage_rollup(ledger: Ledger, checkpoints: CheckpointFile) -> None:
    """`usage` reads the daily rollup: editing it to hide calls is caught even though the chain is intact."""
    _sql(ledger, "UPDATE maskwire_usage_daily SET calls = calls - 1 WHERE entity = '' AND agent = 'agent-1'")
    report = _verify(ledger, checkpoints)
    assert not report.intact and any("rollup differs" in p and "agent-1" in p for p in report.problems)


def test_edited_usage_rollup_found_by_the_database_too(
    ledger: Ledger, checkpoints: CheckpointFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger too spread to tally in memory is compared by the database: the same finding."""
    import mcp_server.ledger.verify as verify

    monkeypatch.setattr(verify, "MAX_TALLY", 0)
    assert _verify(ledger, checkpoints).intact
    _sql(ledger, "UPDATE maskwire_usage_daily SET tokens_out = tokens_out + 5 WHERE entity = '' AND agent = 'agent-2'")
    report = _verify(ledger, checkpoints)
    assert any("rollup differs" in p and "agent-2" in p for p in report.problems)


def test_a_server_checkpoints_on_a_schedule_and_when_it_stops(tmp_path: Path) -> None:
    import time

    from mcp_server.config import load_config
    from mcp_server.ledger.checkpoints import Checkpointer
    from mcp_server.ledger.deployment import checkpoint_file, open_ledger

    (tmp_path / "maskwire.toml").write_text('[server]\nstate_dir = "state"\n')
    config = load_config(tmp_path / "maskwire.toml")
    ledger = open_ledger(config, serving=True)
    assert (config.state_dir / "ledger.sqlite").stat().st_mode & 0o777 == 0o600
    file = checkpoint_file(config)
    ticker = Checkpointer(ledger, file, 0.05).start()
    ledger.append(LedgerEntry(agent="a", tool="query", status="ok"))
    deadline = time.monotonic() + 10
    while file.latest() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert file.latest() is not None and file.latest().last_id == 1  # on the schedule
    ticker.stop()
    ledger.append(LedgerEntry(agent="a", tool="query", status="ok"))
    ledger.dispose()  # the server's own checkpointer writes the last one
    latest = file.latest()
    assert latest is not None and latest.last_id == 2 and latest.count == 2
    assert file.path.stat().st_mode & 0o777 == 0o600
    reader = open_ledger(config, create_tables=False)
    assert verify_ledger(reader, file.lines()).intact
    reader.dispose()


def test_a_ledger_without_its_meta_table_is_read_not_crashed_on(ledger: Ledger, tmp_path: Path) -> None:
    """A ledger written before it kept facts about itself has no meta table: verify reads the rows (here they are
    keyed, so without the marker they do not verify as the unkeyed chain: a problem, not a crash)."""
    _sql(ledger, "DROP TABLE maskwire_ledger_meta")
    report = _verify(ledger, CheckpointFile(tmp_path / "none.jsonl"))
    assert report.rows == ROWS
    assert not report.intact
