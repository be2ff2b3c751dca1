"""How a ledger row is chained to the one before it.

Rows written since the keyed chain was introduced carry HMAC-SHA256(ledger key, previous hash + row), with the
row's id inside, so that nobody without the key can recompute the chain after an edit, and rows cannot be
renumbered. Rows written before it (ids below the ledger's `keyed_from` marker) carry the plain SHA-256 chain of
earlier versions: they are still checked, but whoever could write the database could have recomputed them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from mcp_server.ledger.keys import LedgerKey

GENESIS = "0" * 64
_NOT_HASHED = ("id", "prev_hash", "hash")
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)
"""`json.dumps(..., sort_keys=True, ensure_ascii=False, default=str)`, built once (verify encodes every row)."""


def _payload(prev_hash: str, row: Mapping[str, Any], *, with_id: bool) -> bytes:
    body = {k: row[k] for k in row if k not in _NOT_HASHED}
    if with_id:
        body["id"] = row["id"]
    return (prev_hash + _ENCODER.encode(body)).encode("utf-8")


def legacy_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """The unkeyed SHA-256 chain of earlier versions (the row's id is not part of it)."""
    return hashlib.sha256(_payload(prev_hash, row, with_id=False)).hexdigest()


def keyed_hash(key: LedgerKey, prev_hash: str, row: Mapping[str, Any]) -> str:
    return key.mac(_payload(prev_hash, row, with_id=True))
