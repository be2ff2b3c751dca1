"""The ledger as a deployment's config describes it: database, ledger key, checkpoint file and spool."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mcp_server.config import Config
from mcp_server.ledger.errors import LedgerError
from mcp_server.ledger.keys import fingerprint
from mcp_server.ledger.spool import Spool
from mcp_server.ledger.store import Ledger

if TYPE_CHECKING:
    from mcp_server.ledger.checkpoints import CheckpointFile, CheckpointSyslog

log = logging.getLogger(__name__)


def checkpoint_file(config: Config) -> CheckpointFile:
    from mcp_server.ledger.checkpoints import CheckpointFile

    return CheckpointFile(config.checkpoint_file)


def checkpoint_sinks(config: Config) -> list[CheckpointSyslog]:
    """Where checkpoints go besides the file."""
    from mcp_server.ledger.checkpoints import CheckpointSyslog

    address = config.ledger.checkpoint_syslog
    return [CheckpointSyslog(address)] if address else []


def open_ledger(
    config: Config, *, masking_key: bytes | None = None, serving: bool = False, create_tables: bool = True
) -> Ledger:
    """The configured ledger. `serving`: a server's ledger, which creates the ledger key on first use, moves
    spooled calls in, says at once when the database no longer matches its latest checkpoint, and writes
    checkpoints while it runs and when it is disposed."""
    ledger = Ledger(
        config.ledger_url,
        key_file=config.ledger_key_file,
        create_key=serving,
        masking_key_fingerprint=fingerprint(masking_key) if masking_key is not None else None,
        spool=Spool(config.spool_dir) if serving else None,
        create_tables=create_tables or serving,
    )
    if not serving:
        return ledger
    try:
        ledger.claim_keys()
    except LedgerError:
        ledger.dispose()
        raise
    try:
        moved = ledger.drain_spool()
        if moved:
            log.warning("recorded %d calls that were refused while the ledger could not be written", moved)
    except LedgerError as exc:
        log.error("spooled calls stay in the spool for now (%s)", exc)
    from mcp_server.ledger.checkpoints import Checkpointer

    file = checkpoint_file(config)
    _warn_if_off_checkpoint(ledger, file)
    sinks = checkpoint_sinks(config)
    checkpointer = Checkpointer(ledger, file, config.ledger.checkpoint_interval_s, sinks).start()
    ledger.closers.append(checkpointer.stop)
    ledger.closers.extend(sink.close for sink in sinks)
    return ledger


def _warn_if_off_checkpoint(ledger: Ledger, file: CheckpointFile) -> None:
    """A quick look at the latest checkpoint's row (the full check is `maskwire ledger verify`)."""
    try:
        latest = file.latest()
        if latest is None or latest.count == 0:
            return
        if not ledger.holds(latest.last_id, latest.head):
            log.error(
                "the ledger does not match its latest checkpoint (row %d of %s): rows were deleted or rewritten; "
                "run `maskwire ledger verify`",
                latest.last_id,
                latest.time,
            )
    except LedgerError as exc:
        log.error("could not compare the ledger with its latest checkpoint (%s)", exc)
