"""Checkpoints sent to syslog: a real UDP and TCP receiver on localhost gets each signed line, and a capture of
those messages (syslog prefix and all) verifies the ledger like the checkpoint file does."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mcp_server.ledger.checkpoints import CheckpointFile, CheckpointSyslog, write_checkpoint
from mcp_server.ledger.errors import LedgerError
from mcp_server.ledger.store import Ledger, LedgerEntry
from mcp_server.ledger.verify import verify_ledger
from tests.ledger.conftest import KEY


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", key=KEY)
    for i in range(5):
        ledger.append(LedgerEntry(agent="a", tool="query", status="ok", rows=i))
    yield ledger
    ledger.dispose()


@pytest.fixture
def udp() -> Iterator[tuple[str, list[bytes]]]:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    received: list[bytes] = []

    def listen() -> None:
        try:
            while True:
                received.append(receiver.recv(65_536))
        except OSError:
            pass

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    yield f"udp://127.0.0.1:{receiver.getsockname()[1]}", received
    receiver.close()


@pytest.fixture
def tcp() -> Iterator[tuple[str, list[bytes]]]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(5)
    received: list[bytes] = []

    def serve() -> None:
        try:
            conn, _ = server.accept()
            with conn:
                while chunk := conn.recv(65_536):
                    received.append(chunk)
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}", received
    thread.join(timeout=5)
    server.close()


def _wait_for(received: list[bytes], n: int) -> None:
    for _ in range(100):
        if len(received) >= n:
            return
        threading.Event().wait(0.05)


def test_checkpoints_reach_syslog_over_udp_and_verify(
    ledger: Ledger, tmp_path: Path, udp: tuple[str, list[bytes]]
) -> None:
    address, received = udp
    sink = CheckpointSyslog(address)
    file = CheckpointFile(tmp_path / "checkpoints.jsonl")
    try:
        first = write_checkpoint(ledger, file, [sink])
        ledger.append(LedgerEntry(agent="a", tool="query", status="ok"))
        second = write_checkpoint(ledger, file, [sink])
    finally:
        sink.close()
    _wait_for(received, 2)
    messages = [m.decode("utf-8").rstrip("\x00") for m in received]
    assert len(messages) == 2
    assert all(m.startswith("<14>maskwire-ledger: {") for m in messages)  # facility user, level info
    assert first.line() in messages[0] and second.line() in messages[1]

    capture = tmp_path / "syslog-capture.log"  # what a log host would keep, with its own prefix
    capture.write_text("".join(f"Dec  2 02:30:00 db-host {m}\n" for m in messages), "utf-8")
    report = verify_ledger(ledger, CheckpointFile(capture).lines())
    assert report.intact and report.checkpoints == 2

    with ledger.engine.begin() as conn:  # the last row deleted: the syslog copy sees the truncation
        conn.execute(sa.text("DELETE FROM maskwire_calls WHERE id = (SELECT max(id) FROM maskwire_calls)"))
    assert not verify_ledger(ledger, CheckpointFile(capture).lines()).intact


def test_checkpoints_reach_syslog_over_tcp(ledger: Ledger, tmp_path: Path, tcp: tuple[str, list[bytes]]) -> None:
    address, received = tcp
    sink = CheckpointSyslog(address)
    try:
        checkpoint = write_checkpoint(ledger, CheckpointFile(tmp_path / "c.jsonl"), [sink])
    finally:
        sink.close()
    _wait_for(received, 1)
    assert checkpoint.line() in b"".join(received).decode("utf-8")


def test_an_unreachable_syslog_is_an_error_and_the_file_keeps_the_checkpoint(ledger: Ledger, tmp_path: Path) -> None:
    file = CheckpointFile(tmp_path / "c.jsonl")
    sink = CheckpointSyslog(str(tmp_path / "no-such-socket"))
    with pytest.raises(LedgerError, match="syslog"):
        write_checkpoint(ledger, file, [sink])
    assert file.latest() is not None
