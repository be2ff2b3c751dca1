"""The usage ledger: one row per tool call, hash-chained, in any SQLAlchemy database.

Every row carries the hash of the previous row, so an edited or deleted row breaks the chain and
`maskwire ledger verify` finds it. Rows hold masked text only: the caller masks arguments before
they get here. A call whose row cannot be written fails (see the server's ledger middleware).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

GENESIS = "0" * 64

metadata = sa.MetaData()
calls = sa.Table(
    "maskwire_calls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.String(32), nullable=False, index=True),
    sa.Column("agent", sa.String(200), nullable=False, index=True),
    sa.Column("client_name", sa.String(200), nullable=False),
    sa.Column("client_version", sa.String(100), nullable=False),
    sa.Column("tool", sa.String(100), nullable=False),
    sa.Column("source", sa.String(200), nullable=True),
    sa.Column("arguments", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_class", sa.String(100), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("tokens_in", sa.Integer, nullable=False),
    sa.Column("tokens_out", sa.Integer, nullable=False),
    sa.Column("entities", sa.Text, nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
agent_time = sa.Index("ix_maskwire_calls_agent_ts", calls.c.agent, calls.c.ts)
"""Serves the per-agent quota counts (created on ledgers made before it existed, too)."""

QUOTA_EXCEEDED = "QuotaExceeded"


@dataclass
class LedgerEntry:
    agent: str
    tool: str
    status: str  # ok | denied | error
    client_name: str = ""
    client_version: str = ""
    source: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    error_class: str | None = None
    error_message: str | None = None
    rows: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    entities: dict[str, int] = field(default_factory=dict)
    duration_ms: float = 0.0
    ts: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"))
    id: int | None = None

    def record(self) -> dict[str, Any]:
        """The row as stored (JSON columns serialised canonically)."""
        row = asdict(self)
        row.pop("id")
        row["arguments"] = json.dumps(self.arguments, sort_keys=True, ensure_ascii=False)
        row["entities"] = json.dumps(dict(sorted(self.entities.items())), sort_keys=True)
        row["duration_ms"] = round(self.duration_ms, 3)
        return row


def chain_hash(prev_hash: str, row: dict[str, Any]) -> str:
    body = {k: row[k] for k in sorted(row) if k not in ("id", "prev_hash", "hash")}
    payload = prev_hash + json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _entry(row: Mapping[str, Any]) -> LedgerEntry:
    """A stored row back as a LedgerEntry (JSON columns parsed, chain hashes left out)."""
    data = {k: v for k, v in row.items() if k not in ("prev_hash", "hash")}
    data["arguments"] = json.loads(data["arguments"])
    data["entities"] = json.loads(data["entities"])
    return LedgerEntry(**data)


class LedgerError(Exception):
    """The ledger cannot be opened or written."""


class Ledger:
    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        self._lock = threading.Lock()
        try:
            metadata.create_all(self.engine)
            agent_time.create(self.engine, checkfirst=True)
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(f"cannot open the ledger ({type(exc).__name__})") from None

    def append(self, entry: LedgerEntry) -> LedgerEntry:
        row = entry.record()
        try:
            with self._lock, self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":  # replicas append one at a time
                    conn.exec_driver_sql("LOCK TABLE maskwire_calls IN EXCLUSIVE MODE")
                last = conn.execute(sa.select(calls.c.hash).order_by(calls.c.id.desc()).limit(1)).scalar_one_or_none()
                row["prev_hash"] = last or GENESIS
                row["hash"] = chain_hash(row["prev_hash"], row)
                entry.id = conn.execute(calls.insert().values(**row)).inserted_primary_key[0]
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(f"cannot write to the ledger ({type(exc).__name__})") from None
        return entry

    def entries(self, *, agent: str | None = None, since: dt.datetime | None = None) -> Iterator[LedgerEntry]:
        stmt = sa.select(calls).order_by(calls.c.id)
        if agent:
            stmt = stmt.where(calls.c.agent == agent)
        if since:
            stmt = stmt.where(calls.c.ts >= since.astimezone(dt.UTC).isoformat(timespec="milliseconds"))
        with self.engine.connect() as conn:
            for row in conn.execute(stmt).mappings():
                yield _entry(row)

    def usage(self, agent: str, *, calls_since: dt.datetime, tokens_since: dt.datetime) -> tuple[int, int]:
        """(calls since `calls_since`, output tokens since `tokens_since`) of one agent, for quotas.

        Calls refused for being over quota do not count, so an agent that keeps asking is not locked out for longer.
        """
        since = min(calls_since, tokens_since)

        def iso(moment: dt.datetime) -> str:
            return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")

        stmt = sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((calls.c.ts >= iso(calls_since), 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((calls.c.ts >= iso(tokens_since), calls.c.tokens_out), else_=0)), 0),
        ).where(
            calls.c.agent == agent,
            calls.c.ts >= iso(since),
            sa.func.coalesce(calls.c.error_class, "") != QUOTA_EXCEEDED,
        )
        try:
            with self.engine.connect() as conn:
                row = conn.execute(stmt).one()
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(f"cannot read the ledger ({type(exc).__name__})") from None
        return int(row[0]), int(row[1])

    def verify(self) -> tuple[int, list[str]]:
        """Walk the chain; return (rows checked, problems)."""
        problems: list[str] = []
        prev = GENESIS
        n = 0
        with self.engine.connect() as conn:
            for row in conn.execute(sa.select(calls).order_by(calls.c.id)).mappings():
                n += 1
                data = dict(row)
                if data["prev_hash"] != prev:
                    problems.append(
                        f"row {data['id']}: previous-hash link broken (a row before it was removed or changed)"
                    )
                if chain_hash(data["prev_hash"], data) != data["hash"]:
                    problems.append(f"row {data['id']}: contents do not match its hash (edited)")
                prev = data["hash"]
        return n, problems

    def dispose(self) -> None:
        self.engine.dispose()
