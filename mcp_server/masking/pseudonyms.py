"""Keyed pseudonyms: the same value always becomes the same token, in every tool and source.

A token is `<ENTITY:hex>` where hex is the first 12 hex digits of HMAC-SHA256(key, normalised value).
Without the per-deployment key a token cannot be linked to a value, yet agents can join, group and
count by tokens. The server remembers which value a token stands for (in memory, bounded, and in the
encrypted token vault across restarts) so that an agent can use a token it was given as a literal later.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from mcp_server.masking.vault import TokenVault
from mcp_server.paths import private_file

TOKEN_HEX = 12
TOKEN_PATTERN = re.compile(rf"<([A-Z][A-Z0-9_]*):([0-9a-f]{{{TOKEN_HEX}}})>")
KEY_FILE = "masking.key"
VAULT_FILE = "vault.sqlite"
"""The default token vault in the state dir: its presence means a key was in use."""


class MaskingKeyError(Exception):
    """The masking key is missing, unreadable or too short."""


def normalise(value: str) -> str:
    """Case and spacing do not make a different person: `JOHN  SMITH` and `John Smith` share a token."""
    return " ".join(value.split()).casefold()


def load_or_create_key(configured: str | None, state_dir: Path) -> bytes:
    """The configured key, else the key file in the state dir, created (0600) on first use. A missing key file
    is not silently replaced when the state dir's token vault shows that a key was in use."""
    if configured is not None:
        if len(configured) < 16:
            raise MaskingKeyError("[masking] key must be at least 16 characters")
        return configured.encode("utf-8")
    path = state_dir / KEY_FILE
    if path.exists():
        data = path.read_bytes().strip()
        if len(data) < 32:
            raise MaskingKeyError(f"{path}: masking key file is too short")
        return data
    vault = state_dir / VAULT_FILE
    if vault.exists() and vault.stat().st_size > 0:
        raise MaskingKeyError(
            f"{path}: the masking key file is missing, but the token vault next to it ({vault.name}) was written "
            "under a key: restore the key file from a backup (tokens agents hold depend on it), or start afresh on "
            f"purpose by moving {vault.name} away"
        )
    key = secrets.token_hex(32).encode("ascii")
    private_file(path, key + b"\n")
    return key


class Pseudonymizer:
    def __init__(self, key: bytes, *, remember: int = 200_000, vault: TokenVault | None = None) -> None:
        self._key = key
        self._values: OrderedDict[str, str] = OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()
        self._vault = vault
        self._pending: dict[str, str] = {}
        # value -> digest of the values masked lately: the same customers come back call after call, and the
        # HMAC is most of what a personal cell costs. Emptied when full (bounded like `_values`).
        self._digests: dict[str, str] = {}
        # digest -> the entity types its tokens were issued as in this process: a token relabelled
        # (`<US_SSN:…>` around a PERSON token's digest) is not one Maskwire issued. Emptied when full.
        self._labels: dict[str, set[str]] = {}
        # entity -> value -> token, for values issued lately as that entity (see `tokens`).
        self._issued: dict[str, dict[str, str]] = {}
        # Tokens of what agents write (ledger only) are keyed apart: a ledger reader cannot tell that an agent's
        # literal `<LITERAL:…>` is the value behind a `<PERSON:…>` token of a result.
        self._literal_key = hmac.digest(key, b"maskwire ledger literal", "sha256")

    @property
    def key(self) -> bytes:
        return self._key

    def digest(self, value: str) -> str:
        # hmac.digest is the one-shot C path: the same HMAC-SHA256 as hmac.new(...), several times faster per cell.
        return hmac.digest(self._key, normalise(value).encode("utf-8"), "sha256").hex()[:TOKEN_HEX]

    def token(self, entity: str, value: str) -> str:
        return self.tokens(entity, [value])[value]

    def literal_token(self, value: str) -> str:
        """`<LITERAL:…>`: what an agent wrote, as the ledger stores it; the same text, the same token. Under a key
        of its own and never resolved (nothing the agent receives carries it)."""
        digest = hmac.digest(self._literal_key, normalise(value).encode("utf-8"), "sha256").hex()[:TOKEN_HEX]
        return f"<LITERAL:{digest}>"

    def tokens(self, entity: str, values: Sequence[str]) -> dict[str, str]:
        """The token of each of `values` (distinct) as `entity`, issued under one acquisition of the lock (a
        column's worth); the digests of values masked lately are remembered, the issued ones kept for `resolve`
        and, with a vault, written to it at the next flush. A token issued lately is served as it is: its value
        is still remembered for `resolve` (`_issued` is emptied whenever the remembered values lose one)."""
        out: dict[str, str] = {}
        with self._lock:
            issued = self._issued.get(entity)
            if issued is None:
                issued = self._issued[entity] = {}
            new = []
            for value in values:
                token = issued.get(value)
                if token is None:
                    new.append(value)
                else:
                    out[value] = token
            if new:
                self._issue(entity, new, out)
            flush = len(self._pending) >= 10_000
        if flush:
            self.flush()
        return out

    def _issue(self, entity: str, values: list[str], out: dict[str, str]) -> None:
        """Tokens for values not issued lately as `entity` (called under the lock)."""
        digests = self._digests
        if len(digests) + len(values) > self._remember:
            digests.clear()
        known = self._values
        labels = self._labels
        issued = self._issued[entity]
        if len(issued) + len(values) > self._remember:
            issued.clear()
        for value in values:
            digest = digests.get(value)
            if digest is None:
                digest = digests[value] = self.digest(value)
            if self._vault is not None and digest not in known:
                self._pending[digest] = value
            known[digest] = value
            if entity not in labels.get(digest, ()):
                self._label(digest, entity)
            known.move_to_end(digest)
            out[value] = issued[value] = f"<{entity}:{digest}>"
        if len(known) > self._remember:
            while len(known) > self._remember:
                known.popitem(last=False)
            self._forget_issued()

    def _forget_issued(self) -> None:
        """Tokens served without a look at `_values` must have their value there: drop them all when it lost one
        (or the labels were emptied), so that the next call issues them again (called under the lock)."""
        for issued in self._issued.values():
            issued.clear()

    def remember(self, digest: str, value: str) -> None:
        """Keep another kind of keyed reference (document refs) in the vault."""
        if self._vault is not None:
            with self._lock:
                self._pending[digest] = value

    def recall(self, digest: str) -> str | None:
        if self._vault is None:
            return None
        self.flush()
        return self._vault.get(digest)

    def flush(self) -> None:
        """Write newly issued tokens to the vault (called at the end of every tool call)."""
        if self._vault is None:
            return
        with self._lock:
            pending, self._pending = self._pending, {}
        try:
            self._vault.put_many(pending)
        except BaseException:  # a shared vault may be briefly unreachable: keep the tokens for the next flush
            with self._lock:
                self._pending = pending | self._pending
            raise

    def close(self) -> None:
        self.flush()
        if self._vault is not None:
            self._vault.close()

    def _label(self, digest: str, entity: str) -> None:
        """Remember that a token of `entity` was issued for `digest` (called under the lock)."""
        labels = self._labels.get(digest)
        if labels is None:
            if len(self._labels) >= self._remember:
                self._labels.clear()
                self._forget_issued()
            self._labels[digest] = {entity}
        else:
            labels.add(entity)

    def resolve(self, token: str) -> str | None:
        """The value behind a token this process issued, or None (unknown, forged or forgotten)."""
        match = TOKEN_PATTERN.fullmatch(token.strip())
        if not match:
            return None
        with self._lock:
            labels = self._labels.get(match.group(2))
            if labels is not None and match.group(1) not in labels:
                return None  # issued here, but as another entity type: relabelled, not a token Maskwire gave
            value = self._values.get(match.group(2))
        if value is None and self._vault is not None:
            self.flush()
            value = self._vault.get(match.group(2))
        return value

    def is_token(self, text: str) -> bool:
        return TOKEN_PATTERN.fullmatch(text.strip()) is not None
