"""`maskwire ledger verify`: walk the chain and hold it against the signed checkpoints.

What each finding means:
- a row whose keyed hash does not match: edited, or the chain was recomputed without the ledger key;
- a row that does not follow the one before it: rows removed, inserted or reordered;
- a missing id (ids have no gaps in the keyed chain): deleted rows;
- a checkpoint whose row is missing, differs, or counts other rows: truncation, an emptied or dropped table,
  or a chain rewritten by someone holding the key;
- a daily usage rollup that the rows do not give: the figures of `maskwire usage` were edited.
Rows after the latest checkpoint are protected by the chain only: deleting them is seen at the next checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from mcp_server.ledger import rollup
from mcp_server.ledger.chain import GENESIS, keyed_hash, legacy_hash
from mcp_server.ledger.checkpoints import Checkpoint, CheckpointLine
from mcp_server.ledger.errors import LedgerError
from mcp_server.ledger.store import KEYED_FROM, LEDGER_KEY, ROLLUP, Ledger, usage_daily

MAX_TALLY = 500_000
"""Rollup keys (agent, day, tool, entity) tallied in memory during the walk; past that SQL compares."""
MAX_LISTED = 50
"""Problems listed one by one; past that they are counted (a recomputed chain breaks every row after it)."""


@dataclass
class VerifyReport:
    rows: int = 0
    unkeyed_rows: int = 0
    """Rows of the unkeyed chain of earlier versions (checked with plain SHA-256)."""
    last_id: int = 0
    checkpoints: int = 0
    latest_checkpoint: Checkpoint | None = None
    problems: list[str] = field(default_factory=list)
    unlisted: int = 0
    first_bad_id: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def problem(self, text: str, row_id: int | None = None) -> None:
        if row_id is not None and (self.first_bad_id is None or row_id < self.first_bad_id):
            self.first_bad_id = row_id
        if len(self.problems) < MAX_LISTED:
            self.problems.append(text)
        else:
            self.unlisted += 1


def verify_ledger(ledger: Ledger, lines: Sequence[CheckpointLine | Checkpoint]) -> VerifyReport:
    report = VerifyReport()
    checkpoints = _valid_checkpoints(ledger, lines, report)
    try:
        exists = ledger.table_exists()
    except LedgerError as exc:
        report.problem(str(exc))
        return report
    if not exists:
        report.problem("the ledger table maskwire_calls does not exist: it was dropped (or this is not the ledger)")
        _unseen_checkpoints(checkpoints, {}, report)
        return report
    recorded = ledger.meta()
    keyed_from = int(recorded[KEYED_FROM]) if KEYED_FROM in recorded else None
    key = ledger.key
    if key is not None and recorded.get(LEDGER_KEY) not in (None, key.fingerprint):
        report.problem("the ledger key given is not the key the ledger is chained with: no keyed row can be checked")
        return report
    latest = report.latest_checkpoint
    if latest is not None and latest.keyed_from != keyed_from:
        report.problem(
            f"the keyed-chain marker says rows from id {keyed_from} are keyed, the checkpoint of {latest.time} "
            f"says from id {latest.keyed_from}: the marker was changed"
        )
    by_id = {c.last_id: c for c in checkpoints}
    tally: rollup.Tally | None = rollup.Tally() if ROLLUP in recorded else None
    seen: dict[int, tuple[str, int]] = {}
    prev_hash, prev_id = GENESIS, 0
    first_keyed = keyed_from if keyed_from is not None else math.inf
    try:
        for row in ledger.rows(batch=5000):
            row_id = int(row["id"])
            report.rows += 1
            keyed = row_id >= first_keyed
            if keyed and prev_id and row_id != prev_id + 1 and prev_id + 1 >= first_keyed:
                gap = f"row {prev_id + 1}" if row_id == prev_id + 2 else f"rows {prev_id + 1} to {row_id - 1}"
                report.problem(f"{gap} missing: deleted", prev_id + 1)
            if row["prev_hash"] != prev_hash:
                report.problem(
                    f"row {row_id}: does not follow row {prev_id or '(start)'} (rows before it were removed, "
                    "inserted, reordered or changed)",
                    row_id,
                )
            if keyed:
                if key is None:
                    report.problem(f"row {row_id}: cannot be checked without the ledger key", row_id)
                elif keyed_hash(key, row["prev_hash"], row) != row["hash"]:
                    report.problem(
                        f"row {row_id}: contents do not match its keyed hash (edited, moved, or the chain was "
                        "recomputed without the ledger key)",
                        row_id,
                    )
            else:
                report.unkeyed_rows += 1
                if legacy_hash(row["prev_hash"], row) != row["hash"]:
                    report.problem(f"row {row_id}: contents do not match its hash (edited)", row_id)
            if row_id in by_id:
                seen[row_id] = (str(row["hash"]), report.rows)
            if tally is not None:
                tally.add(row)
                if len(tally.rows) > MAX_TALLY:  # an unusually spread ledger: the database compares instead
                    tally = None
            prev_hash, prev_id = str(row["hash"]), row_id
    except (LedgerError, sa.exc.SQLAlchemyError) as exc:
        report.problem(f"the ledger could not be read to the end ({type(exc).__name__})")
    report.last_id = prev_id
    _unseen_checkpoints(checkpoints, seen, report)
    _check_rollup(ledger, recorded, tally, report)
    if keyed_from is None and report.rows:
        report.notes.append("no keyed-chain marker: every row carries the unkeyed chain of earlier versions")
    elif report.unkeyed_rows:
        report.notes.append(
            f"{report.unkeyed_rows} rows before id {keyed_from} carry the unkeyed SHA-256 chain of earlier versions: "
            "edits are found, but whoever could write the database could have recomputed them"
        )
    if latest is None:
        report.notes.append(
            "no checkpoint: deleting the last rows or the whole table cannot be detected "
            "(write one with `maskwire ledger checkpoint`)"
        )
    elif report.last_id > latest.last_id:
        report.notes.append(
            f"rows {latest.last_id + 1} to {report.last_id} came after the latest checkpoint ({latest.time}): "
            "the chain protects them, the next checkpoint anchors them"
        )
    return report


def _valid_checkpoints(
    ledger: Ledger, lines: Sequence[CheckpointLine | Checkpoint], report: VerifyReport
) -> list[Checkpoint]:
    valid: list[Checkpoint] = []
    public = ledger.key.public_key if ledger.key is not None else None
    for n, item in enumerate(lines, 1):
        line = item if isinstance(item, CheckpointLine) else CheckpointLine(n, item)
        if line.checkpoint is None:
            report.problem(line.problem or f"checkpoint line {line.number}: unreadable")
            continue
        checkpoint = line.checkpoint
        if public is None:
            report.problem(f"checkpoint line {line.number}: cannot be checked without the ledger key")
            continue
        if not checkpoint.signed_by(public):
            report.problem(f"checkpoint line {line.number}: bad signature, or signed by another key (forged or edited)")
            continue
        valid.append(checkpoint)
    report.checkpoints = len(valid)
    report.latest_checkpoint = max(valid, key=lambda c: (c.last_id, c.time)) if valid else None
    return valid


def _unseen_checkpoints(checkpoints: list[Checkpoint], seen: dict[int, tuple[str, int]], report: VerifyReport) -> None:
    """Every checkpoint must find its row, with its hash, and the same number of rows up to it."""
    for checkpoint in checkpoints:
        found = seen.get(checkpoint.last_id)
        if checkpoint.count == 0 and checkpoint.last_id == 0:
            continue
        if found is None:
            if report.rows == 0:
                what = "the ledger is empty (emptied, or the table was dropped and created again)"
            elif report.last_id < checkpoint.last_id:
                what = f"the ledger ends at row {report.last_id}: rows after it were deleted (truncated)"
            else:
                what = "that row is missing (deleted)"
            report.problem(
                f"the checkpoint of {checkpoint.time} names row {checkpoint.last_id} ({checkpoint.count} rows); "
                + what,
                min(checkpoint.last_id, report.last_id + 1) if report.rows else checkpoint.last_id,
            )
            continue
        row_hash, count = found
        if row_hash != checkpoint.head:
            report.problem(
                f"row {checkpoint.last_id}: its hash differs from the checkpoint of {checkpoint.time}: the chain up "
                "to it was rewritten",
                checkpoint.last_id,
            )
        elif count != checkpoint.count:
            report.problem(
                f"the checkpoint of {checkpoint.time} counted {checkpoint.count} rows up to row {checkpoint.last_id}, "
                f"the ledger has {count}: rows were removed or inserted",
                checkpoint.last_id,
            )


def _check_rollup(ledger: Ledger, recorded: dict[str, str], tally: rollup.Tally | None, report: VerifyReport) -> None:
    """The daily rollup `usage` reads must be what the chained rows give."""
    if ROLLUP not in recorded:
        return
    try:
        with ledger.engine.connect() as conn:
            if tally is not None:
                found = rollup.compare(conn, usage_daily, tally)
            else:
                found = rollup.differences(conn, usage_daily)
    except sa.exc.SQLAlchemyError as exc:
        report.problem(f"the usage rollup could not be compared with the calls ({type(exc).__name__})")
        return
    for agent, day, tool, entity in found:
        what = f"entity {entity}" if entity else "calls"
        report.problem(
            f"the usage rollup differs from the calls for agent {agent}, day {day} (UTC), tool {tool}, {what}: "
            "`maskwire usage` would report other figures than the ledger holds"
        )
