"""The token vault on SQLite, PostgreSQL and MariaDB: encrypted at rest, insert-if-absent, shared by replicas."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import stat
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mcp_server.config import ConfigError, parse_config
from mcp_server.masking.pseudonyms import Pseudonymizer
from mcp_server.masking.vault import TokenVault, VaultError

KEY = b"k" * 32
SECRET = "ann.secret-person@example.com"


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def vault_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A vault database of its own for each test: a file, a PostgreSQL schema or a MariaDB database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'vault.sqlite'}"
        return
    name = f"mw_vault_{uuid.uuid4().hex[:10]}"
    if request.param == "postgres":
        server: str = request.getfixturevalue("postgres_url")
        create, drop = f"CREATE SCHEMA {name}", f"DROP SCHEMA IF EXISTS {name} CASCADE"
        url = sa.make_url(server).update_query_dict({"options": f"-csearch_path={name}"})
    else:
        server = request.getfixturevalue("mysql_url")
        create, drop = f"CREATE DATABASE {name}", f"DROP DATABASE IF EXISTS {name}"
        url = sa.make_url(server).set(database=name)
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.exec_driver_sql(create)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(drop)
        admin.dispose()


def raw_rows(url: str) -> list[tuple[bytes, ...]]:
    """Every stored row, each column as bytes, read past the vault."""
    engine = sa.create_engine(url)
    table = "tokens" if engine.dialect.name == "sqlite" else "maskwire_tokens"
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT digest, nonce, value FROM {table}")).all()
    finally:
        engine.dispose()
    return [tuple(c.encode() if isinstance(c, str) else bytes(c) for c in row) for row in rows]


def set_row(url: str, digest: str, nonce: bytes, value: bytes) -> None:
    engine = sa.create_engine(url)
    table = "tokens" if engine.dialect.name == "sqlite" else "maskwire_tokens"
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(f"UPDATE {table} SET nonce = :n, value = :v WHERE digest = :d"),
                {"n": nonce, "v": value, "d": digest},
            )
    finally:
        engine.dispose()


def test_round_trip(vault_url: str) -> None:
    vault = TokenVault(vault_url, KEY)
    big = "Ünïcødé " * 12_000  # ~100 KB in UTF-8: more than a MySQL BLOB holds
    vault.put_many({"a1b2c3d4e5f6": SECRET, "0123456789ab": big, "feedfacecafe": ""})
    vault.put_many({})
    assert vault.get("a1b2c3d4e5f6") == SECRET
    assert vault.get("0123456789ab") == big
    assert vault.get("feedfacecafe") == ""
    assert vault.get("000000000000") is None
    vault.close()

    reopened = TokenVault(vault_url, KEY)  # across restarts
    assert reopened.get("a1b2c3d4e5f6") == SECRET
    reopened.close()


def test_insert_if_absent_keeps_the_first_value(vault_url: str) -> None:
    vault = TokenVault(vault_url, KEY)
    vault.put_many({"a1b2c3d4e5f6": "first"})
    first_row = raw_rows(vault_url)
    vault.put_many({"a1b2c3d4e5f6": "second", "0123456789ab": "other"})
    assert vault.get("a1b2c3d4e5f6") == "first"
    assert vault.get("0123456789ab") == "other"
    assert first_row[0] in raw_rows(vault_url)  # the row itself was not rewritten
    vault.close()


def test_wrong_key_and_tampered_rows_give_none(vault_url: str) -> None:
    vault = TokenVault(vault_url, KEY)
    vault.put_many({"a1b2c3d4e5f6": SECRET, "0123456789ab": "bob@example.com", "feedfacecafe": "carol"})
    other = TokenVault(vault_url, b"x" * 32)
    assert other.get("a1b2c3d4e5f6") is None
    other.close()

    rows = {row[0].decode(): row for row in raw_rows(vault_url)}
    _, nonce, value = rows["a1b2c3d4e5f6"]
    set_row(vault_url, "a1b2c3d4e5f6", nonce, value[:-1] + bytes([value[-1] ^ 1]))  # one bit flipped
    assert vault.get("a1b2c3d4e5f6") is None
    _, nonce, value = rows["0123456789ab"]
    set_row(vault_url, "feedfacecafe", nonce, value)  # a valid ciphertext moved to another digest
    assert vault.get("feedfacecafe") is None
    assert vault.get("0123456789ab") == "bob@example.com"
    vault.close()


def test_no_value_in_clear_in_the_database(vault_url: str) -> None:
    vault = TokenVault(vault_url, KEY)
    vault.put_many({"a1b2c3d4e5f6": SECRET})
    vault.close()
    rows = raw_rows(vault_url)
    assert len(rows) == 1
    for column in rows[0]:
        assert SECRET.encode() not in column
        assert SECRET.encode("utf-16-le") not in column
    assert rows[0][0] == b"a1b2c3d4e5f6"
    assert len(rows[0][1]) == 12  # a fresh random nonce per row


def test_two_replicas_resolve_each_others_tokens(vault_url: str) -> None:
    replica_a = Pseudonymizer(KEY, vault=TokenVault(vault_url, KEY))
    replica_b = Pseudonymizer(KEY, vault=TokenVault(vault_url, KEY))
    token_a = replica_a.token("EMAIL_ADDRESS", SECRET)
    replica_a.flush()  # the end of replica A's tool call
    assert replica_b.resolve(token_a) == SECRET

    token_b = replica_b.token("PERSON", "Luca Rossi")
    replica_b.flush()
    assert replica_a.resolve(token_b) == "Luca Rossi"
    assert replica_a.resolve("<PERSON:000000000000>") is None

    replica_b.remember("0123456789abcdef", "docs\0reports/q3.pdf")  # document refs go the same way
    replica_b.flush()
    assert replica_a.recall("0123456789abcdef") == "docs\0reports/q3.pdf"
    replica_a.close()
    replica_b.close()


def test_concurrent_replicas_writing_the_same_tokens(vault_url: str) -> None:
    """Overlapping batches in opposite orders: no deadlock, no duplicate, every value readable."""
    values = {f"{i:012x}": f"person {i}" for i in range(300)}
    vaults = [TokenVault(vault_url, KEY) for _ in range(2)]
    errors: list[BaseException] = []

    def write(vault: TokenVault, reverse: bool) -> None:
        try:
            for _ in range(5):
                vault.put_many(dict(sorted(values.items(), reverse=reverse)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(v, i == 1)) for i, v in enumerate(vaults)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert len(raw_rows(vault_url)) == len(values)
    assert all(vaults[1].get(d) == v for d, v in values.items())
    for vault in vaults:
        vault.close()


def test_sqlite_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state" / "vault.sqlite"
    vault = TokenVault(path, KEY)
    vault.put_many({"a1b2c3d4e5f6": SECRET})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for extra in path.parent.glob("vault.sqlite-*"):  # WAL and shared-memory files
        assert stat.S_IMODE(os.stat(extra).st_mode) == 0o600
    vault.close()
    assert SECRET.encode() not in b"".join(p.read_bytes() for p in path.parent.iterdir())

    loose = tmp_path / "loose.sqlite"  # an existing file is tightened, and a URL works like a path
    loose.touch(mode=0o644)
    os.chmod(loose, 0o644)
    TokenVault(f"sqlite:///{loose}", KEY).close()
    assert stat.S_IMODE(os.stat(loose).st_mode) == 0o600


def _old_vault_file(path: Path, key: bytes, items: dict[str, str]) -> None:
    """A vault file exactly as the SQLite-only vault wrote it (schema, key derivation, nonce, associated data)."""
    aead = AESGCM(hmac.new(key, b"maskwire token vault v1", hashlib.sha256).digest())
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE IF NOT EXISTS tokens (digest TEXT PRIMARY KEY, nonce BLOB, value BLOB)")
    for digest, value in items.items():
        nonce = os.urandom(12)
        db.execute(
            "INSERT OR IGNORE INTO tokens VALUES (?, ?, ?)",
            (digest, nonce, aead.encrypt(nonce, value.encode("utf-8"), digest.encode())),
        )
    db.close()


def test_old_sqlite_vault_file_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "vault.sqlite"
    first = Pseudonymizer(KEY)
    token = first.token("EMAIL_ADDRESS", SECRET)
    digest = token.split(":")[1].rstrip(">")
    _old_vault_file(path, KEY, {digest: SECRET, "0123456789abcdef": "docs\0a.txt"})

    later = Pseudonymizer(KEY, vault=TokenVault(path, KEY))
    assert later.resolve(token) == SECRET
    assert later.recall("0123456789abcdef") == "docs\0a.txt"
    new_token = later.token("PERSON", "Luca Rossi")
    later.close()

    db = sqlite3.connect(path)  # still one table, in the old layout, and the new row is in it
    assert [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["tokens"]
    assert db.execute("SELECT count(*) FROM tokens").fetchone() == (3,)
    db.close()
    again = Pseudonymizer(KEY, vault=TokenVault(path, KEY))
    assert again.resolve(new_token) == "Luca Rossi"
    again.close()


def test_errors_name_no_url_password_and_no_value(tmp_path: Path) -> None:
    with pytest.raises(VaultError) as err:
        TokenVault("postgresql+psycopg://app:Hunter2Secret@127.0.0.1:1/vault?connect_timeout=2", KEY)
    assert "Hunter2Secret" not in str(err.value)
    with pytest.raises(VaultError, match="not a valid SQLAlchemy URL"):
        TokenVault("app:Hunter2Secret@nowhere", KEY)
    with pytest.raises(VaultError) as err:
        TokenVault("oracle://app:Hunter2Secret@127.0.0.1:1/vault", KEY)
    assert "Hunter2Secret" not in str(err.value)

    vault = TokenVault(tmp_path / "vault.sqlite", KEY)
    with pytest.raises(ValueError) as too_long:
        vault.put_many({"f" * 65: SECRET})
    assert SECRET not in str(too_long.value)
    db = sqlite3.connect(tmp_path / "vault.sqlite")
    db.execute("DROP TABLE tokens")  # the driver's error for the next write would list the parameters
    db.close()
    with pytest.raises(VaultError) as failed:
        vault.put_many({"a1b2c3d4e5f6": SECRET})
    assert SECRET not in str(failed.value) and "a1b2c3d4e5f6" not in str(failed.value)
    assert failed.value.__suppress_context__
    with pytest.raises(VaultError, match="cannot read"):
        vault.get("a1b2c3d4e5f6")
    vault.close()


class _FlakyVault(TokenVault):
    def __init__(self, path: Path) -> None:
        super().__init__(path, KEY)
        self.fail = True

    def put_many(self, items: dict[str, str]) -> None:
        if self.fail:
            self.fail = False
            raise VaultError("cannot write to the token vault (OperationalError)")
        super().put_many(items)


def test_tokens_are_kept_for_the_next_flush_when_a_write_fails(tmp_path: Path) -> None:
    vault = _FlakyVault(tmp_path / "vault.sqlite")
    replica_a = Pseudonymizer(KEY, vault=vault)
    token = replica_a.token("EMAIL_ADDRESS", SECRET)
    with pytest.raises(VaultError):
        replica_a.flush()
    replica_a.flush()
    replica_b = Pseudonymizer(KEY, vault=TokenVault(tmp_path / "vault.sqlite", KEY))
    assert replica_b.resolve(token) == SECRET
    replica_a.close()
    replica_b.close()


def test_token_vault_url_config(tmp_path: Path) -> None:
    config = parse_config("", tmp_path / "maskwire.toml")
    assert config.token_vault_url == f"sqlite:///{tmp_path / '.maskwire' / 'vault.sqlite'}"
    assert config.masking.token_vault

    config = parse_config(
        '[masking]\ntoken_vault_url = "${VAULT_URL}"\n',
        tmp_path / "maskwire.toml",
        environ={"VAULT_URL": "postgresql+psycopg://app:pw@db/maskwire"},
    )
    assert config.token_vault_url == "postgresql+psycopg://app:pw@db/maskwire"
    config = parse_config('[masking]\ntoken_vault_url = "sqlite:///shared/vault.sqlite"\n', tmp_path / "m.toml")
    assert config.token_vault_url == f"sqlite:///{tmp_path / 'shared' / 'vault.sqlite'}"
    config = parse_config('[masking]\ntoken_vault = false\ntoken_vault_url = "mysql+pymysql://root@db/mw"\n')
    assert not config.masking.token_vault


@pytest.mark.parametrize(
    "url",
    ["app:Hunter2Secret@db/vault", "mongodb://app:Hunter2Secret@db/vault", "postgresql://app:Hunter2Secret@db:port/x"],
)
def test_bad_token_vault_url_is_named_not_echoed(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(f'[masking]\ntoken_vault_url = "{url}"\n', Path("m.toml"))
    assert "m.toml: masking.token_vault_url:" in str(err.value)
    assert "Hunter2Secret" not in str(err.value)
