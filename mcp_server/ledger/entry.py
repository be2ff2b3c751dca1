"""One ledger entry: what is recorded of one tool call (masked text only)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

QUOTA_EXCEEDED = "QuotaExceeded"


def utc_iso(moment: dt.datetime) -> str:
    """The form `ts` is stored in (so that text order is time order)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


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
    ts: str = field(default_factory=lambda: utc_iso(dt.datetime.now(dt.UTC)))
    id: int | None = None

    def record(self) -> dict[str, Any]:
        """The row as stored (JSON columns serialised canonically)."""
        row = {name: getattr(self, name) for name in _STORED}  # not `asdict`: it deep-copies what is replaced below
        row["arguments"] = json.dumps(self.arguments, sort_keys=True, ensure_ascii=False)
        row["entities"] = json.dumps(dict(sorted(self.entities.items())), sort_keys=True)
        row["duration_ms"] = float(round(self.duration_ms, 3))  # stored as a float: hashed as one
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LedgerEntry:
        """A stored row back as an entry (JSON columns parsed, chain hashes left out)."""
        data = {k: v for k, v in row.items() if k not in ("prev_hash", "hash")}
        data["arguments"] = json.loads(data["arguments"])
        data["entities"] = json.loads(data["entities"])
        return cls(**data)


_STORED = tuple(f.name for f in fields(LedgerEntry) if f.name != "id")
