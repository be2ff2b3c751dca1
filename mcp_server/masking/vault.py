"""The token vault: which value each issued pseudonym stands for, encrypted, across restarts.

Over stdio every client session is a new server process. So that a token an agent received yesterday
still works as a literal today, the values behind issued tokens are kept in `state_dir/vault.sqlite`
(mode 0600), each encrypted with AES-256-GCM under a key derived from the masking key. The file is
useless without the key; anyone with both could read the values, like the databases themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import threading
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def _vault_key(masking_key: bytes) -> bytes:
    return hmac.new(masking_key, b"maskwire token vault v1", hashlib.sha256).digest()


class TokenVault:
    def __init__(self, path: Path, masking_key: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS tokens (digest TEXT PRIMARY KEY, nonce BLOB, value BLOB)")
        self._aead = AESGCM(_vault_key(masking_key))
        self._lock = threading.Lock()

    def put_many(self, items: dict[str, str]) -> None:
        """Remember digest -> value pairs (already known digests are left as they are)."""
        if not items:
            return
        rows = []
        for digest, value in items.items():
            nonce = os.urandom(12)
            rows.append((digest, nonce, self._aead.encrypt(nonce, value.encode("utf-8"), digest.encode())))
        with self._lock:  # one transaction, not one commit (and one fsync) per token
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT OR IGNORE INTO tokens VALUES (?, ?, ?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def get(self, digest: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT nonce, value FROM tokens WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            return None
        try:
            return self._aead.decrypt(row[0], row[1], digest.encode()).decode("utf-8")
        except Exception:  # another key, or a tampered row: not a value we can vouch for
            return None

    def close(self) -> None:
        with self._lock:
            self._db.close()
