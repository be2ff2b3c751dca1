"""The usage ledger: one row per tool call, chained, in any SQLAlchemy database (SQLite or PostgreSQL).

Every row carries the keyed hash of the row before it (see `chain.py`), so an edited, inserted or deleted row
breaks the chain and `maskwire ledger verify` finds it; signed checkpoints kept outside the database (see
`checkpoints.py`) anchor the head, so deleting the last rows or the whole table is found too.

Any number of processes may append to one ledger: "read the head, append" runs under a lock held by the
database, `BEGIN IMMEDIATE` on SQLite and a transaction-scoped advisory lock on PostgreSQL, so the chain never
forks. Ids are given by the writer under that lock (last id + 1), so they have no gaps: a missing id is a
deleted row. Rows hold masked text only: the caller masks arguments before they get here.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from mcp_server.ledger import rollup
from mcp_server.ledger.chain import GENESIS, keyed_hash
from mcp_server.ledger.entry import QUOTA_EXCEEDED, LedgerEntry, utc_iso
from mcp_server.ledger.errors import LedgerError
from mcp_server.ledger.keys import KEY_ENV, KEY_FILE, LedgerKey, LedgerKeyError, load_ledger_key
from mcp_server.ledger.prepared import Prepared
from mcp_server.ledger.spool import Spool, spooled

__all__ = ["GENESIS", "QUOTA_EXCEEDED", "Head", "Ledger", "LedgerEntry", "LedgerError", "calls", "meta", "usage_daily"]

metadata = sa.MetaData()
calls = sa.Table(
    "maskwire_calls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
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
usage_daily = rollup.define(metadata)
meta = sa.Table(
    "maskwire_ledger_meta",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
INDEXES = (
    sa.Index("ix_maskwire_calls_agent_ts", calls.c.agent, calls.c.ts),  # quota counts, `usage --agent --since`
    sa.Index(  # percentiles: read in order, filters answered from the index itself
        "ix_maskwire_calls_percentiles",
        calls.c.agent,
        calls.c.duration_ms,
        calls.c.ts,
        calls.c.tool,
        calls.c.status,
        calls.c.error_class,
    ),
)
"""Created on ledgers made before they existed, too."""

KEYED_FROM = "keyed_from"
"""Meta row: id of the first row of the keyed chain (rows before it carry the unkeyed chain of earlier versions)."""
LEDGER_KEY = "ledger_key_fingerprint"
MASKING_KEY = "masking_key_fingerprint"
ROLLUP = "usage_rollup_daily"
"""Meta row: the daily usage rollup is kept in step with the calls (see `rollup.py`)."""
_ADVISORY_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.maskwire_calls'))"


@dataclass(frozen=True)
class Head:
    """The chain's end as one writer saw it under the append lock."""

    last_id: int
    hash: str
    count: int
    keyed_from: int | None


@dataclass(frozen=True)
class Filters:
    """Which calls a report covers."""

    agent: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    tool: str | None = None
    status: str | None = None

    def where(self) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        if self.agent:
            clauses.append(calls.c.agent == self.agent)
        if self.since:
            clauses.append(calls.c.ts >= utc_iso(self.since))
        if self.until:
            clauses.append(calls.c.ts < utc_iso(self.until))
        if self.tool:
            clauses.append(calls.c.tool == self.tool)
        if self.status == "over_quota":
            clauses.append(calls.c.error_class == QUOTA_EXCEEDED)
        elif self.status:
            clauses.append(calls.c.status == self.status)
        return clauses


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by `_sqlite_begin`, not by the driver
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode = WAL")  # readers (usage, verify) never block writers
    except Exception:  # another process holds the file in rollback mode: stay in it
        pass
    finally:
        cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    """Writers take SQLite's write lock before reading the head, so two processes cannot fork the chain."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("maskwire_write") else "BEGIN")


class _AppendStatements:
    """What every append runs, compiled once for the ledger's dialect (see `prepared.py`)."""

    def __init__(self, dialect: sa.Dialect) -> None:
        head = sa.select(calls.c.id, calls.c.hash).order_by(calls.c.id.desc()).limit(1)
        self.head = Prepared(head, dialect, literal=True)
        self.insert = Prepared(calls.insert(), dialect)
        self.rollup = Prepared(rollup.upsert(usage_daily, dialect), dialect)


class Ledger:
    def __init__(
        self,
        url: str,
        *,
        key: LedgerKey | None = None,
        key_file: Path | None = None,
        create_key: bool = True,
        masking_key_fingerprint: str | None = None,
        spool: Spool | None = None,
        create_tables: bool = True,
    ) -> None:
        """The ledger key is `key`, else `$MASKWIRE_LEDGER_KEY`, else the file `key_file` (default: `ledger.key`
        next to a SQLite ledger file), created when missing and `create_key`, unless the ledger already records
        a key. Without a key the ledger can be read but not appended to. A key (ledger or masking) other than
        the one the ledger records is refused here, before anything is served. `create_tables=False` looks at
        the database as it is (`verify` must see a dropped table as dropped)."""
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        options: dict[str, Any] = {"pool_pre_ping": True}
        sqlite_file = self.dialect == "sqlite" and parsed.database not in (None, "", ":memory:")
        if sqlite_file:
            path = Path(str(parsed.database))
            path.parent.mkdir(parents=True, exist_ok=True)
            if create_tables and not path.exists():  # created 0600 before SQLite writes (its -wal, -shm follow)
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        if self.dialect == "sqlite":
            options["connect_args"] = {"timeout": 60}
            if not sqlite_file:  # one in-memory database for every thread (appends run in worker threads)
                options["connect_args"]["check_same_thread"] = False
                options["poolclass"] = sa.pool.StaticPool
        self.engine = sa.create_engine(url, **options)
        if self.dialect == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_connect)
            sa.event.listen(self.engine, "begin", _sqlite_begin)
        self.masking_key_fingerprint = masking_key_fingerprint
        self.spool = spool
        self.closers: list[Callable[[], None]] = []
        """Run by `dispose` (the final checkpoint)."""
        self._lock = threading.Lock()
        self._keys_checked = False
        self._statements = _AppendStatements(self.engine.dialect)
        try:
            if create_tables:
                metadata.create_all(self.engine)
                for index in INDEXES:
                    index.create(self.engine, checkfirst=True)
            recorded = self.meta() if create_tables or sa.inspect(self.engine).has_table(meta.name) else {}
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            raise LedgerError(f"cannot open the ledger ({type(exc).__name__})") from None
        if create_tables and ROLLUP not in recorded:
            self._build_rollup()
        if key is None:
            default = Path(str(parsed.database)).parent / KEY_FILE if sqlite_file else None
            try:
                key = _load_key(key_file or default, create_key, recorded)
            except LedgerKeyError:
                self.engine.dispose()
                raise
        self.key = key
        self._check_keys(recorded)

    def _build_rollup(self) -> None:
        """Once per ledger, under the append lock: the daily rollup of every row written so far."""
        try:
            with self._lock, self._write() as conn:
                if conn.execute(sa.select(meta.c.value).where(meta.c.name == ROLLUP)).first() is None:
                    rollup.rebuild(conn, usage_daily)
                    conn.execute(meta.insert().values(name=ROLLUP, value="1"))
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            raise LedgerError(f"cannot build the usage rollup ({type(exc).__name__})") from None

    # -- keys ---------------------------------------------------------------------------------------------

    def _check_keys(self, recorded: Mapping[str, str]) -> None:
        if self.key is not None and recorded.get(LEDGER_KEY) not in (None, self.key.fingerprint):
            self.engine.dispose()
            raise LedgerKeyError(
                f"the ledger key (fingerprint {self.key.fingerprint}) is not the key this ledger is chained with "
                f"(fingerprint {recorded[LEDGER_KEY]}): restore the ledger key file or $MASKWIRE_LEDGER_KEY"
            )
        masking = self.masking_key_fingerprint
        if masking is not None and recorded.get(MASKING_KEY) not in (None, masking):
            self.engine.dispose()
            raise LedgerKeyError(
                f"the masking key (fingerprint {masking}) is not the key this deployment has used (fingerprint "
                f"{recorded[MASKING_KEY]}): tokens agents hold would stop resolving. Restore the masking key file "
                "(or [masking] key), or retire the old tokens on purpose with `maskwire keys rotate masking`"
            )

    def meta(self) -> dict[str, str]:
        """What the ledger records about itself; nothing for a ledger written before it kept any."""
        if not sa.inspect(self.engine).has_table(meta.name):
            return {}
        with self.engine.connect() as conn:
            return {row.name: row.value for row in conn.execute(sa.select(meta))}

    def _record_keys(self, conn: sa.Connection, last_id: int) -> int:
        """Under the append lock: the keyed chain's first id, recording it and the key fingerprints once."""
        recorded = {row.name: row.value for row in conn.execute(sa.select(meta))}
        self._check_keys(recorded)
        assert self.key is not None
        wanted = {KEYED_FROM: str(last_id + 1), LEDGER_KEY: self.key.fingerprint}
        if self.masking_key_fingerprint is not None:
            wanted[MASKING_KEY] = self.masking_key_fingerprint
        missing = [{"name": k, "value": v} for k, v in wanted.items() if k not in recorded]
        if missing:
            conn.execute(meta.insert(), missing)
        return int(recorded.get(KEYED_FROM, wanted[KEYED_FROM]))

    # -- writing ------------------------------------------------------------------------------------------

    def append(self, entry: LedgerEntry) -> LedgerEntry:
        self.append_many([entry])
        return entry

    def append_many(self, entries: Sequence[LedgerEntry]) -> None:
        """Append entries in one transaction, in order, under the append lock (sets their ids)."""
        if self.key is None:
            raise LedgerError("cannot write to the ledger: no ledger key (set $MASKWIRE_LEDGER_KEY)")
        if self.spool is not None and self.spool.pending():
            self.spool.drain(self._append_many)
        self._append_many(entries)

    def refused(self, entry: LedgerEntry) -> None:
        """Keep the entry of a call refused because the ledger could not be written, for later (see `spool.py`)."""
        if self.spool is None:
            raise LedgerError("the ledger cannot be written and there is no spool")
        try:
            self.spool.put(spooled(entry))
        except OSError as exc:
            raise LedgerError(f"cannot write to the spool either ({exc.strerror or type(exc).__name__})") from None

    def drain_spool(self) -> int:
        """Move spooled calls into the ledger now; the number moved."""
        return self.spool.drain(self._append_many) if self.spool is not None and self.spool.pending() else 0

    def _append_many(self, entries: Sequence[LedgerEntry]) -> None:
        key = self.key
        assert key is not None
        try:
            with self._lock, self._write() as conn:
                last_id, prev = self._head_row(conn)
                if not self._keys_checked:
                    self._record_keys(conn, last_id)
                rows = []
                for entry in entries:
                    row = entry.record()
                    last_id += 1
                    row["id"] = last_id
                    row["prev_hash"] = prev
                    row["hash"] = prev = keyed_hash(key, prev, row)
                    rows.append(row)
                if rows:
                    self._statements.insert.run(conn, rows)
                    rollup.apply(conn, self._statements.rollup, rows)
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(f"cannot write to the ledger ({type(exc).__name__})") from None
        self._keys_checked = True
        for entry, row in zip(entries, rows, strict=True):
            entry.id = row["id"]

    def claim_keys(self) -> None:
        """Record the ledger and masking key fingerprints now (a server does so at start, so that a server with
        other keys is refused before it answers anything, even before the first call)."""
        if self.key is None:
            raise LedgerError("cannot write to the ledger: no ledger key (set $MASKWIRE_LEDGER_KEY)")
        try:
            with self._lock, self._write() as conn:
                last_id, _ = self._head_row(conn)
                self._record_keys(conn, last_id)
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(f"cannot write to the ledger ({type(exc).__name__})") from None
        self._keys_checked = True

    def record_masking_key(self, masking_key_fingerprint: str, audit: LedgerEntry) -> None:
        """A masking key changed on purpose (`maskwire keys rotate`): record its fingerprint and append `audit`."""
        self.masking_key_fingerprint = masking_key_fingerprint
        try:
            with self._lock, self._write() as conn:
                conn.execute(meta.delete().where(meta.c.name == MASKING_KEY))
                conn.execute(meta.insert().values(name=MASKING_KEY, value=masking_key_fingerprint))
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(f"cannot write to the ledger ({type(exc).__name__})") from None
        self.append(audit)

    def _write(self) -> _WriteTransaction:
        return _WriteTransaction(self.engine)

    def _head_row(self, conn: sa.Connection) -> tuple[int, str]:
        last = self._statements.head.run(conn).first()
        return (int(last.id), str(last.hash)) if last is not None else (0, GENESIS)

    def head(self) -> Head:
        """The chain's end, its row count and the keyed chain's first id, read under the append lock so
        that a checkpoint names a state that really existed."""
        try:
            with self._lock, self._write() as conn:
                last_id, head = self._head_row(conn)
                count = conn.execute(sa.select(sa.func.count()).select_from(calls)).scalar_one()
                keyed = conn.execute(sa.select(meta.c.value).where(meta.c.name == KEYED_FROM)).scalar_one_or_none()
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(f"cannot read the ledger ({type(exc).__name__})") from None
        return Head(last_id, head, int(count), int(keyed) if keyed is not None else None)

    # -- reading ------------------------------------------------------------------------------------------

    def rows(self, filters: Filters | None = None, *, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Stored rows in id order, streamed (constant memory on every engine)."""
        stmt = sa.select(calls).where(*(filters or Filters()).where()).order_by(calls.c.id)
        try:
            with self.engine.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)
                names = list(result.keys())
                for row in result:
                    yield dict(zip(names, row, strict=True))
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(f"cannot read the ledger ({type(exc).__name__})") from None

    def entries(
        self, *, agent: str | None = None, since: dt.datetime | None = None, filters: Filters | None = None
    ) -> Iterator[LedgerEntry]:
        for row in self.rows(filters or Filters(agent=agent, since=since)):
            yield LedgerEntry.from_row(row)

    def holds(self, row_id: int, row_hash: str) -> bool:
        """Whether row `row_id` exists with this hash."""
        try:
            with self.engine.connect() as conn:
                found = conn.execute(sa.select(calls.c.hash).where(calls.c.id == row_id)).scalar_one_or_none()
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(f"cannot read the ledger ({type(exc).__name__})") from None
        return found == row_hash

    def table_exists(self) -> bool:
        try:
            return sa.inspect(self.engine).has_table(calls.name)
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(f"cannot read the ledger ({type(exc).__name__})") from None

    def usage(self, agent: str, *, calls_since: dt.datetime, tokens_since: dt.datetime) -> tuple[int, int]:
        """(calls since `calls_since`, output tokens since `tokens_since`) of one agent, for quotas.

        Calls refused for being over quota do not count, so an agent that keeps asking is not locked out for longer.
        """
        since = min(calls_since, tokens_since)
        stmt = sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((calls.c.ts >= utc_iso(calls_since), 1), else_=0)), 0),
            sa.func.coalesce(
                sa.func.sum(sa.case((calls.c.ts >= utc_iso(tokens_since), calls.c.tokens_out), else_=0)), 0
            ),
        ).where(
            calls.c.agent == agent,
            calls.c.ts >= utc_iso(since),
            sa.func.coalesce(calls.c.error_class, "") != QUOTA_EXCEEDED,
        )
        try:
            with self.engine.connect() as conn:
                row = conn.execute(stmt).one()
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(f"cannot read the ledger ({type(exc).__name__})") from None
        return int(row[0]), int(row[1])

    def verify(self, checkpoints: Iterable[Any] | None = None) -> tuple[int, list[str]]:
        """Walk the chain (and check the given checkpoints); return (rows checked, problems)."""
        from mcp_server.ledger.verify import verify_ledger

        report = verify_ledger(self, list(checkpoints or []))
        return report.rows, report.problems

    def dispose(self) -> None:
        for close in self.closers:
            close()
        self.closers.clear()
        self.engine.dispose()


class _WriteTransaction:
    """A connection in a transaction that holds the ledger's append lock until it ends."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def __enter__(self) -> sa.Connection:
        self._conn = self.engine.connect().execution_options(maskwire_write=True)
        self._tx = self._conn.begin()
        try:
            if self._conn.dialect.name == "postgresql":
                self._conn.exec_driver_sql(_ADVISORY_LOCK)
        except BaseException:
            self._tx.rollback()
            self._conn.close()
            raise
        return self._conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self._tx.commit()
            else:
                self._tx.rollback()
        finally:
            self._conn.close()


def _load_key(path: Path | None, create: bool, recorded: Mapping[str, str]) -> LedgerKey | None:
    """The ledger key from the environment or `path`; a new one only for a ledger that records none."""
    if os.environ.get(KEY_ENV) or (path is not None and path.exists()):
        return load_ledger_key(path)
    if not create or path is None:
        return None  # readable; `append` and `verify` say what is missing
    if LEDGER_KEY in recorded:
        raise LedgerKeyError(
            f"{path}: the ledger key file is missing, and this ledger is chained with the key of fingerprint "
            f"{recorded[LEDGER_KEY]}: restore that file (or set $MASKWIRE_LEDGER_KEY)"
        )
    return load_ledger_key(path, create=True)
