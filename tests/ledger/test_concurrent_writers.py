"""Many server processes, one chain: 4 real processes append 200 calls each, at the same time, through the
ledger's own code, on SQLite and on PostgreSQL; the chain must then verify with no fork and no gap."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mcp_server.ledger.checkpoints import CheckpointFile, write_checkpoint
from mcp_server.ledger.store import Ledger, LedgerEntry
from mcp_server.ledger.verify import verify_ledger
from tests.ledger.conftest import KEY

pytestmark = pytest.mark.slow  # four writer processes

PROCESSES = 4
APPENDS = 200


def _writer(url: str, n: int, start: Any) -> None:
    ledger = Ledger(url, key=KEY)
    try:
        start.wait(60)
        for i in range(APPENDS):
            ledger.append(LedgerEntry(agent=f"process-{n}", tool="query", status="ok", rows=i, tokens_out=i))
    finally:
        ledger.dispose()


def test_four_processes_keep_one_chain(ledger_url: str, tmp_path: Path) -> None:
    Ledger(ledger_url, key=KEY).dispose()  # tables exist before the race (as after a first server start)
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Event()
    workers = [spawn.Process(target=_writer, args=(ledger_url, n, start)) for n in range(PROCESSES)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(240)
    assert [w.exitcode for w in workers] == [0] * PROCESSES

    ledger = Ledger(ledger_url, key=KEY)
    try:
        file = CheckpointFile(tmp_path / "checkpoints.jsonl")
        write_checkpoint(ledger, file)
        report = verify_ledger(ledger, file.lines())
        assert report.intact, report.problems[:5]
        assert report.rows == PROCESSES * APPENDS and report.last_id == PROCESSES * APPENDS
        with ledger.engine.connect() as conn:
            forks = conn.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT prev_hash FROM maskwire_calls "
                    "GROUP BY prev_hash HAVING count(*) > 1) f"
                )
            ).scalar_one()
            per_process = dict(conn.execute(sa.text("SELECT agent, count(*) FROM maskwire_calls GROUP BY agent")).all())
        assert forks == 0
        assert per_process == {f"process-{n}": APPENDS for n in range(PROCESSES)}
    finally:
        ledger.dispose()
