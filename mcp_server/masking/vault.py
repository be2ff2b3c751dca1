"""The token vault: which value each issued pseudonym stands for, encrypted, across restarts and replicas.

Over stdio every client session is a new server process, and over HTTP several replicas may serve one team. So
that a token an agent received yesterday, or from another replica, still works as a literal, the values behind
issued tokens are kept in a database: by default `state_dir/vault.sqlite` (mode 0600), else any SQLAlchemy URL
(`[masking] token_vault_url`, PostgreSQL or MySQL/MariaDB for replicas). Each value is encrypted with
AES-256-GCM under a key derived from the masking key, with the digest as associated data (a row moved to
another digest does not decrypt). The database is useless without the key; anyone with both could read the
values, like the databases themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.dialects import mysql

from connectors.engines import SqliteBackend, backend_named
from mcp_server.ledger.keys import fingerprint

TABLE = "maskwire_tokens"
SQLITE_TABLE = "tokens"
"""SQLite vault files keep the table name they always had, so files written by earlier versions still read."""
MAX_DIGEST = 64
META_TABLE = "maskwire_vault_meta"
KEY_FINGERPRINT = "masking_key_fingerprint"


class VaultError(Exception):
    """The token vault cannot be opened, read or written. The message never carries a value or a URL."""


def _vault_key(masking_key: bytes) -> bytes:
    return hmac.new(masking_key, b"maskwire token vault v1", hashlib.sha256).digest()


def _table(name: str) -> sa.Table:
    blob = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")  # BLOB would cut values at 64 KiB
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("digest", sa.String(MAX_DIGEST), primary_key=True),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("value", blob, nullable=False),
    )


def _meta_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        META_TABLE,
        metadata,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )


def _private_sqlite_file(path: Path) -> None:
    """Create the file 0600 before SQLite writes a byte to it (its -wal and -shm files inherit the mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


class TokenVault:
    def __init__(self, location: Path | str, masking_key: bytes, *, check_key: bool = False) -> None:
        """`location`: the SQLite file (a Path) or a SQLAlchemy URL. `check_key` (a server): record the masking
        key's fingerprint in the vault, and refuse a key other than the one recorded."""
        try:
            url = (
                sa.URL.create("sqlite", database=str(location)) if isinstance(location, Path) else sa.make_url(location)
            )
        except (sa.exc.ArgumentError, ValueError, TypeError):
            raise VaultError("the token vault URL is not a valid SQLAlchemy URL") from None
        options: dict[str, Any] = {"pool_pre_ping": True, "pool_recycle": 1800}
        backend = backend_named(url.get_backend_name())
        if backend is None:
            raise VaultError(
                f"the token vault does not support {url.get_backend_name()} (use SQLite, PostgreSQL or MySQL/MariaDB)"
            )
        self._backend = backend
        on_sqlite = isinstance(backend, SqliteBackend)
        if on_sqlite:
            memory = url.database in (None, "", ":memory:")
            if not memory:
                _private_sqlite_file(Path(str(url.database)))
                options.update(pool_size=2, max_overflow=2)
            options["connect_args"] = {"timeout": 30}
        else:
            options.update(pool_size=2, max_overflow=4)
        try:
            self._engine = sa.create_engine(url, **options)
        except Exception as exc:  # no such dialect or driver; the URL itself is not repeated
            raise VaultError(f"cannot open the token vault ({type(exc).__name__})") from None
        if on_sqlite:
            sa.event.listen(self._engine, "connect", _sqlite_wal)
        self._table = _table(SQLITE_TABLE if on_sqlite else TABLE)
        # Compiled once and sent to the driver as it is: a call can issue tens of thousands of tokens, and
        # SQLAlchemy's per-row parameter processing would cost more than the encryption.
        compiled = self._insert_if_absent().compile(dialect=self._engine.dialect)
        self._insert_sql = str(compiled)
        self._insert_order = tuple(compiled.positiontup or ()) if compiled.positional else None
        self._meta = _meta_table(sa.MetaData())
        try:
            self._table.metadata.create_all(self._engine)
            if check_key:
                self._meta.metadata.create_all(self._engine)
        except sa.exc.SQLAlchemyError as exc:
            self._engine.dispose()
            raise VaultError(f"cannot open the token vault ({type(exc).__name__})") from None
        self._aead = AESGCM(_vault_key(masking_key))
        if check_key:
            self._check_key(fingerprint(masking_key))

    def _check_key(self, wanted: str) -> None:
        """Refuse a masking key other than the one the vault was written under (its fingerprint is kept in the
        vault; a vault from before that is checked by decrypting one of its values)."""
        try:
            self._check_key_once(wanted)
        except sa.exc.IntegrityError:  # another process recorded the fingerprint at the same moment
            self._check_key_once(wanted)

    def _check_key_once(self, wanted: str) -> None:
        try:
            with self._engine.begin() as conn:
                recorded = conn.execute(
                    sa.select(self._meta.c.value).where(self._meta.c.name == KEY_FINGERPRINT)
                ).scalar_one_or_none()
                if recorded is None:
                    sample = conn.execute(sa.select(self._table).limit(1)).first()
                    if sample is not None and not self._decrypts(sample):
                        recorded = "(a key without a recorded fingerprint)"
                    else:
                        conn.execute(self._meta.insert().values(name=KEY_FINGERPRINT, value=wanted))
                        return
        except sa.exc.IntegrityError:
            raise
        except sa.exc.SQLAlchemyError as exc:
            self._engine.dispose()
            raise VaultError(f"cannot open the token vault ({type(exc).__name__})") from None
        if recorded != wanted:
            self._engine.dispose()
            raise VaultError(
                f"the masking key (fingerprint {wanted}) is not the key the token vault was written under "
                f"(fingerprint {recorded}): tokens agents hold would stop resolving. Restore the masking key, or "
                "re-key or retire the vault on purpose with `maskwire keys rotate masking`"
            )

    def rekey(self, new_masking_key: bytes) -> int:
        """Re-encrypt every value under `new_masking_key` (digests unchanged: tokens already issued keep
        resolving) and record its fingerprint, in one transaction; the number of values."""
        new_aead = AESGCM(_vault_key(new_masking_key))
        try:
            with self._engine.begin() as conn:
                rows = list(conn.execute(sa.select(self._table)))
                for row in rows:
                    value = self._aead.decrypt(bytes(row.nonce), bytes(row.value), str(row.digest).encode())
                    nonce = os.urandom(12)
                    conn.execute(
                        self._table.update()
                        .where(self._table.c.digest == row.digest)
                        .values(nonce=nonce, value=new_aead.encrypt(nonce, value, str(row.digest).encode()))
                    )
                self._record_fingerprint(conn, fingerprint(new_masking_key))
        except sa.exc.SQLAlchemyError as exc:
            raise VaultError(f"cannot re-key the token vault ({type(exc).__name__})") from None
        self._aead = new_aead
        return len(rows)

    def retire(self, new_masking_key: bytes) -> int:
        """Forget every value (tokens already issued stop resolving) and record the new key's fingerprint."""
        try:
            with self._engine.begin() as conn:
                count = conn.execute(self._table.delete()).rowcount
                self._record_fingerprint(conn, fingerprint(new_masking_key))
        except sa.exc.SQLAlchemyError as exc:
            raise VaultError(f"cannot empty the token vault ({type(exc).__name__})") from None
        self._aead = AESGCM(_vault_key(new_masking_key))
        return int(count)

    def _record_fingerprint(self, conn: sa.Connection, value: str) -> None:
        self._meta.create(conn, checkfirst=True)
        conn.execute(self._meta.delete().where(self._meta.c.name == KEY_FINGERPRINT))
        conn.execute(self._meta.insert().values(name=KEY_FINGERPRINT, value=value))

    def _decrypts(self, row: Any) -> bool:
        try:
            self._aead.decrypt(bytes(row.nonce), bytes(row.value), str(row.digest).encode())
        except Exception:
            return False
        return True

    def _insert_if_absent(self) -> sa.Insert:
        return self._backend.insert_if_absent(self._table)

    def put_many(self, items: dict[str, str]) -> None:
        """Remember digest -> value pairs (already known digests are left as they are), in one transaction."""
        if not items:
            return
        rows = []
        for digest in sorted(items):  # one lock order for every replica: concurrent inserts cannot deadlock
            if len(digest) > MAX_DIGEST:
                raise ValueError(f"token vault digests have at most {MAX_DIGEST} characters")
            nonce = os.urandom(12)
            value = self._aead.encrypt(nonce, items[digest].encode("utf-8"), digest.encode())
            rows.append({"digest": digest, "nonce": nonce, "value": value})
        params = [tuple(r[k] for k in self._insert_order) for r in rows] if self._insert_order else rows
        try:
            with self._engine.begin() as conn:
                conn.exec_driver_sql(self._insert_sql, params)
        except sa.exc.SQLAlchemyError as exc:  # the driver's message lists the parameters: not repeated
            raise VaultError(f"cannot write to the token vault ({type(exc).__name__})") from None

    def get(self, digest: str) -> str | None:
        stmt = sa.select(self._table.c.nonce, self._table.c.value).where(self._table.c.digest == digest)
        try:
            with self._engine.connect() as conn:
                row = conn.execute(stmt).first()
        except sa.exc.SQLAlchemyError as exc:
            raise VaultError(f"cannot read the token vault ({type(exc).__name__})") from None
        if row is None:
            return None
        try:
            return self._aead.decrypt(bytes(row[0]), bytes(row[1]), digest.encode()).decode("utf-8")
        except Exception:  # another key, or a tampered row: not a value we can vouch for
            return None

    def close(self) -> None:
        self._engine.dispose()


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()
