"""The ledger key: it keys the hash chain (HMAC-SHA256) and, derived from it, signs checkpoints (Ed25519).

The key is separate from the masking key, so that rotating one does not touch the other. It comes from
`$MASKWIRE_LEDGER_KEY` (64 hex digits or any text of 32 characters or more), else from a key file (default
`<state_dir>/ledger.key`), created 0600 on first use. Whoever holds it can rewrite the chain, so checkpoints
(signed with the Ed25519 key derived from it) are meant to be copied off the machine; their signature can be
checked with the public key alone.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mcp_server.ledger.errors import LedgerError
from mcp_server.paths import private_file

if TYPE_CHECKING:  # `cryptography` loads only when a checkpoint is signed or checked (not for `usage`)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_ENV = "MASKWIRE_LEDGER_KEY"
KEY_FILE = "ledger.key"
MIN_KEY_CHARS = 32


class LedgerKeyError(LedgerError):
    """The ledger key is missing, unreadable, too short, or not the one the ledger was chained with."""


def fingerprint(key: bytes) -> str:
    """A short, stable name for a key that does not reveal it (16 hex digits of a keyed digest)."""
    return hmac.new(key, b"maskwire key fingerprint v1", hashlib.sha256).hexdigest()[:16]


def public_key_hex(public: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


@dataclass(frozen=True)
class LedgerKey:
    secret: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.secret)

    def mac(self, payload: bytes) -> str:
        return hmac.digest(self.secret, payload, "sha256").hex()

    def signing_key(self) -> Ed25519PrivateKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        seed = hmac.new(self.secret, b"maskwire ledger checkpoint signing v1", hashlib.sha256).digest()
        return Ed25519PrivateKey.from_private_bytes(seed)

    @property
    def public_key(self) -> str:
        """The checkpoint signing key's public half (hex), safe to publish."""
        return public_key_hex(self.signing_key().public_key())


def _key_from_text(text: str, where: str) -> LedgerKey:
    text = text.strip()
    if len(text) < MIN_KEY_CHARS:
        raise LedgerKeyError(f"{where}: the ledger key must be at least {MIN_KEY_CHARS} characters")
    return LedgerKey(text.encode("utf-8"))


def load_ledger_key(path: Path | None, *, create: bool = True, environ: dict[str, str] | None = None) -> LedgerKey:
    """`$MASKWIRE_LEDGER_KEY`, else the key file at `path` (created 0600 when missing and `create`)."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return _key_from_text(env[KEY_ENV], f"${KEY_ENV}")
    if path is None:
        raise LedgerKeyError(f"no ledger key: set ${KEY_ENV} or [ledger] key_file")
    if path.exists():
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LedgerKeyError(f"{path}: cannot read the ledger key ({type(exc).__name__})") from None
        return _key_from_text(text, str(path))
    if not create:
        raise LedgerKeyError(f"{path}: the ledger key file does not exist (and ${KEY_ENV} is not set)")
    secret = secrets.token_hex(32)
    private_file(path, (secret + "\n").encode("ascii"))
    return LedgerKey(secret.encode("ascii"))
