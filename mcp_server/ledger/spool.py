"""The spool: calls refused because the ledger could not be written, kept on local disk until it can be.

Such a call is refused (its result withheld), but it happened, so it must not vanish. Its entry, marked
`LedgerUnavailable`, is appended to a file of this process in the spool folder (0600, fsync'd), and the next
process that writes to the ledger moves it in. A file is claimed by renaming it, so two processes never
move the same file; a process that dies while moving one leaves it claimed, and it is taken again after
`STALE_CLAIM_S`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from mcp_server.ledger.entry import LedgerEntry
from mcp_server.ledger.errors import LedgerError

log = logging.getLogger(__name__)

LEDGER_UNAVAILABLE = "LedgerUnavailable"
STALE_CLAIM_S = 600.0
_CLAIMED = ".claimed-"


def spooled(entry: LedgerEntry) -> LedgerEntry:
    """The entry as the refused call it became: its outcome is kept in the message."""
    outcome = entry.status if entry.error_class is None else f"{entry.status} ({entry.error_class})"
    entry.error_message = (
        f"the ledger could not be written, so the result was withheld; the call had ended {outcome}; "
        "recorded later from the spool"
    )
    entry.status = "error"
    entry.error_class = LEDGER_UNAVAILABLE
    return entry


class Spool:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._file = folder / f"spool-{os.getpid()}-{uuid.uuid4().hex[:12]}.jsonl"
        self._lock = threading.Lock()

    def put(self, entry: LedgerEntry) -> None:
        """Append one entry durably (raises OSError when even the local disk refuses)."""
        new_folder = not self.folder.exists()
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = (json.dumps(asdict(entry), sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            while True:
                fd = os.open(self._file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    if not _still_named(fd, self._file):  # claimed by a drain between open and lock: reopen
                        continue
                    os.write(fd, line)
                    os.fsync(fd)
                    break
                finally:
                    os.close(fd)
        if new_folder:
            _fsync_dir(self.folder.parent)
        _fsync_dir(self.folder)

    def pending(self) -> bool:
        try:
            with os.scandir(self.folder) as found:
                return any(e.name.endswith(".jsonl") or _CLAIMED in e.name for e in found)
        except FileNotFoundError:
            return False

    def drain(self, append_many: Callable[[Sequence[LedgerEntry]], None]) -> int:
        """Move every spooled entry into the ledger (oldest file first); the number moved."""
        moved = 0
        with self._lock:
            for path in self._claimable():
                claimed = self.folder / f"spool{_CLAIMED}{os.getpid()}-{uuid.uuid4().hex[:12]}"
                try:
                    os.rename(path, claimed)
                except FileNotFoundError:  # another process took it
                    continue
                entries = _read_locked(claimed)
                try:
                    if entries:
                        append_many(entries)
                except LedgerError:  # still pending, under a new name (its writer may have made a new file)
                    os.rename(claimed, self.folder / f"spool-returned-{uuid.uuid4().hex[:12]}.jsonl")
                    raise
                claimed.unlink(missing_ok=True)
                moved += len(entries)
        if moved:
            log.warning("moved %d calls refused while the ledger was unavailable into the ledger", moved)
        return moved

    def _claimable(self) -> list[Path]:
        try:
            paths = list(self.folder.iterdir())
        except FileNotFoundError:
            return []
        now = time.time()
        out = []
        for path in paths:
            if path.name.endswith(".jsonl"):
                out.append(path)
            elif _CLAIMED in path.name:
                try:
                    if now - path.stat().st_mtime > STALE_CLAIM_S:
                        out.append(path)
                except FileNotFoundError:
                    continue
        return sorted(out, key=lambda p: _mtime(p))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _still_named(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _read_locked(path: Path) -> list[LedgerEntry]:
    """The entries of a claimed file, once its writer (if any) has finished its line."""
    entries = []
    try:
        with path.open("rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        log.error("cannot read spool file %s (%s)", path.name, type(exc).__name__)
        return []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            data.pop("id", None)
            entries.append(LedgerEntry(**data))
        except (ValueError, TypeError):  # a line cut by a crash mid-write
            log.error("spool file %s line %d is damaged and was skipped", path.name, number)
    return entries


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
