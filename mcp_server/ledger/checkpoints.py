"""Signed checkpoints: the ledger's head (last id, head hash, row count, time) kept outside its database.

The chain alone cannot show that its last rows, or all of them, were deleted, nor that whoever holds the
ledger key rewrote it; a checkpoint can, as long as it is kept where the database's administrator cannot
change it. Checkpoints are appended, one JSON object a line, to a file (default
`<state_dir>/ledger-checkpoints.jsonl`, 0600, fsync'd) and signed with the Ed25519 key derived from the ledger
key; `public_key` in each line lets anyone check the signature without the secret. Ship the file (or the
server log lines that repeat each checkpoint) off the machine to make a rewrite detectable.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import logging.handlers
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mcp_server.ledger.errors import LedgerError
from mcp_server.ledger.keys import LedgerKey
from mcp_server.ledger.store import Head, Ledger

log = logging.getLogger(__name__)

VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    last_id: int
    head: str
    count: int
    keyed_from: int | None
    time: str
    public_key: str
    signature: str = ""
    version: int = VERSION

    def payload(self) -> bytes:
        body = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def signed_by(self, public_key_hex: str) -> bool:
        """True when the signature is valid and made by `public_key_hex`."""
        if self.public_key != public_key_hex:
            return False
        try:
            public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key))
            public.verify(base64.b64decode(self.signature, validate=True), self.payload())
        except (InvalidSignature, ValueError):
            return False
        return True

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def sign(head: Head, key: LedgerKey, now: dt.datetime | None = None) -> Checkpoint:
    unsigned = Checkpoint(
        last_id=head.last_id,
        head=head.hash,
        count=head.count,
        keyed_from=head.keyed_from,
        time=(now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds"),
        public_key=key.public_key,
    )
    signature = base64.b64encode(key.signing_key().sign(unsigned.payload())).decode("ascii")
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


@dataclass(frozen=True)
class CheckpointLine:
    """One line of a checkpoint file: a checkpoint, or why it is not one."""

    number: int
    checkpoint: Checkpoint | None
    problem: str | None = None


def _parse(number: int, text: str) -> CheckpointLine:
    """A checkpoint line; anything before its first `{` is ignored, so a capture of the syslog messages (with
    their timestamp, host and tag in front) verifies like the file."""
    try:
        data: Any = json.loads(text[text.index("{") :])
        checkpoint = Checkpoint(
            last_id=int(data["last_id"]),
            head=str(data["head"]),
            count=int(data["count"]),
            keyed_from=None if data.get("keyed_from") is None else int(data["keyed_from"]),
            time=str(data["time"]),
            public_key=str(data["public_key"]),
            signature=str(data["signature"]),
            version=int(data.get("version", VERSION)),
        )
    except (ValueError, KeyError, TypeError):  # index() raises ValueError too
        return CheckpointLine(number, None, f"checkpoint line {number}: not a checkpoint (damaged or edited)")
    return CheckpointLine(number, checkpoint)


class CheckpointFile:
    """An append-only file of checkpoints (one JSON line each)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, checkpoint: Checkpoint) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, (checkpoint.line() + "\n").encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise LedgerError(f"cannot write the checkpoint file ({exc.strerror or type(exc).__name__})") from None

    def lines(self) -> list[CheckpointLine]:
        if not self.path.exists():
            return []
        try:
            text = self.path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LedgerError(f"cannot read the checkpoint file ({type(exc).__name__})") from None
        return [_parse(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]

    def latest(self) -> Checkpoint | None:
        found = [line.checkpoint for line in self.lines() if line.checkpoint is not None]
        return found[-1] if found else None


class _RaisingSyslogHandler(logging.handlers.SysLogHandler):
    """The standard handler reports a failed send on stderr and goes on; a checkpoint that was not sent must
    be an error its caller sees."""

    def handleError(self, record: logging.LogRecord) -> None:
        raise  # called from the handler's except block: re-raises what failed


class CheckpointSyslog:
    """Sends each checkpoint to syslog as well (`[ledger] checkpoint_syslog`), tagged `maskwire-ledger:`.

    Syslog is the usual road off the machine to a log host the database's administrator does not control."""

    TAG = "maskwire-ledger: "

    def __init__(self, address: str) -> None:
        self.address = address
        self._handler: _RaisingSyslogHandler | None = None

    def _open(self) -> _RaisingSyslogHandler:
        if self._handler is None:
            if address := self.address.partition("://")[2]:
                host, _, port = address.rpartition(":")
                kind = socket.SOCK_STREAM if self.address.startswith("tcp://") else socket.SOCK_DGRAM
                target: str | tuple[str, int] = (host.strip("[]"), int(port))
                self._handler = _RaisingSyslogHandler(target, socktype=kind)
            else:
                self._handler = _RaisingSyslogHandler(self.address)
            self._handler.ident = self.TAG
        return self._handler

    def append(self, checkpoint: Checkpoint) -> None:
        record = logging.LogRecord("maskwire.ledger", logging.INFO, __file__, 0, checkpoint.line(), None, None)
        try:
            handler = self._open()
            handler.emit(record)
        except OSError as exc:
            raise LedgerError(
                f"cannot send the checkpoint to syslog at {self.address} ({exc.strerror or exc})"
            ) from None

    def close(self) -> None:
        if self._handler is not None:
            self._handler.close()


def publish(checkpoint: Checkpoint, file: CheckpointFile, also: Sequence[CheckpointSyslog] = ()) -> None:
    """Append to the file, send to the other sinks and log the line (for log shipping). The file comes first:
    a sink that fails is reported, and the file still holds the checkpoint."""
    file.append(checkpoint)
    log.info("ledger checkpoint %s", checkpoint.line())
    for sink in also:
        sink.append(checkpoint)


def write_checkpoint(ledger: Ledger, file: CheckpointFile, also: Sequence[CheckpointSyslog] = ()) -> Checkpoint:
    """Sign the ledger's current head and publish it."""
    if ledger.key is None:
        raise LedgerError("cannot sign a checkpoint: no ledger key")
    checkpoint = sign(ledger.head(), ledger.key)
    publish(checkpoint, file, also)
    return checkpoint


class Checkpointer:
    """Writes a checkpoint every `interval` seconds when the head has moved, and one when stopped."""

    def __init__(
        self, ledger: Ledger, file: CheckpointFile, interval: float, also: Sequence[CheckpointSyslog] = ()
    ) -> None:
        self.ledger = ledger
        self.file = file
        self.also = also
        self.interval = interval
        self._stop = threading.Event()
        self._last: tuple[int, str] | None = None
        self._thread = threading.Thread(target=self._run, name="maskwire-checkpoints", daemon=True)

    def start(self) -> Checkpointer:
        try:
            latest = self.file.latest()
        except LedgerError:
            latest = None
        if latest is not None:
            self._last = (latest.last_id, latest.head)
        self._thread.start()
        return self

    def checkpoint_if_moved(self) -> None:
        try:
            head = self.ledger.head()
            if self._last == (head.last_id, head.hash) or head.count == 0:
                return
            if self.ledger.key is None:
                return
            checkpoint = sign(head, self.ledger.key)
            self.file.append(checkpoint)
            self._last = (head.last_id, head.hash)
            log.info("ledger checkpoint %s", checkpoint.line())
            for sink in self.also:  # a failing sink is reported; the file holds the checkpoint
                sink.append(checkpoint)
        except LedgerError as exc:
            log.error("could not write a ledger checkpoint (%s)", exc)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.checkpoint_if_moved()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.checkpoint_if_moved()
