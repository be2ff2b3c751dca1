"""Turning raw values into what a client may see.

Everything that leaves the process goes through `Masker`: whole-value masking for personal columns,
scanning for free text, and a JSON-safe rendering of clear values. Detection errors withhold the value
(fail closed); binary values are never returned.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mcp_server.masking.detector import Detector, Finding
from mcp_server.masking.pseudonyms import Pseudonymizer

log = logging.getLogger(__name__)

WITHHELD = "<WITHHELD>"
Operator = Literal["pseudonym", "redact"]


@dataclass
class MaskCounts:
    """Entities masked, by type. Shared by one tool call's pieces."""

    by_entity: Counter[str] = field(default_factory=Counter)

    def add(self, entity: str, n: int = 1) -> None:
        self.by_entity[entity] += n

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.by_entity.items()))


class Masker:
    def __init__(
        self,
        detector: Detector,
        pseudonymizer: Pseudonymizer,
        *,
        operator: Operator = "pseudonym",
        max_cell_chars: int = 20_000,
    ) -> None:
        self.detector = detector
        self.pseudonyms = pseudonymizer
        self.operator = operator
        self.max_cell_chars = max_cell_chars

    # -- single values -------------------------------------------------------------------------

    def replace(self, entity: str, value: str) -> str:
        """The stand-in for one personal value under the configured operator."""
        if self.operator == "redact":
            return f"<{entity}>"
        return self.pseudonyms.token(entity, value)

    def mask_whole(self, entity: str, value: Any, counts: MaskCounts) -> Any:
        """A value from a personal column: masked whole, whatever it looks like."""
        if value is None:
            return None
        if isinstance(value, bytes | bytearray | memoryview):
            counts.add("BINARY")
            return f"<BINARY:{len(bytes(value))} bytes>"
        text = plain(value)
        if isinstance(text, str) and self.pseudonyms.is_token(text):
            return text  # already a token (e.g. a value that went through masking upstream)
        counts.add(entity)
        return self.replace(entity, str(text))

    def clear(self, value: Any) -> Any:
        """A value from a clear column, made JSON-safe. Binary is never returned raw."""
        if isinstance(value, bytes | bytearray | memoryview):
            return f"<BINARY:{len(bytes(value))} bytes>"
        return plain(value)

    # -- free text -----------------------------------------------------------------------------

    def apply(self, text: str, findings: Sequence[Finding], counts: MaskCounts) -> str:
        pieces: list[str] = []
        cursor = 0
        for f in findings:
            value = text[f.start : f.end]
            if self.pseudonyms.is_token(value):
                continue
            pieces.append(text[cursor : f.start])
            pieces.append(self.replace(f.entity, value))
            counts.add(f.entity)
            cursor = f.end
        pieces.append(text[cursor:])
        return "".join(pieces)

    def scan_texts(self, values: Sequence[Any], context: Sequence[str] = ()) -> list[tuple[Any, Counter[str]]]:
        """Scan many cells of free text at once; each distinct text is analysed once.

        Returns, per input, the masked value and the entities masked in it.
        """
        out: list[tuple[Any, Counter[str]]] = [(v, Counter()) for v in values]
        todo: dict[str, list[int]] = {}
        for i, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, bytes | bytearray | memoryview):
                out[i] = (f"<BINARY:{len(bytes(value))} bytes>", Counter({"BINARY": 1}))
                continue
            rendered = plain(value)
            if not isinstance(rendered, str):
                rendered = str(rendered)
            if len(rendered) > self.max_cell_chars:
                hidden = len(rendered) - self.max_cell_chars
                rendered = rendered[: self.max_cell_chars] + f" …[{hidden} more characters not shown]"
            todo.setdefault(rendered, []).append(i)
        if not todo:
            return out
        texts = list(todo)
        try:
            found: list[list[Finding] | None] = list(self.detector.analyze_batch(texts, context))
        except Exception as exc:
            log.warning("batch detection failed (%s); retrying value by value", type(exc).__name__)
            found = []
            for text in texts:
                try:
                    found.append(self.detector.analyze(text, context))
                except Exception as inner:
                    log.warning("detection failed (%s); value withheld", type(inner).__name__)
                    found.append(None)
        for text, findings in zip(texts, found, strict=True):
            counts = MaskCounts()
            if findings is None:  # fail closed: a value we could not scan is not returned
                masked, counts.by_entity = WITHHELD, Counter({"WITHHELD": 1})
            else:
                masked = self.apply(text, findings, counts)
            for i in todo[text]:
                out[i] = (masked, Counter(counts.by_entity))
        return out

    def scan_text(self, text: str, counts: MaskCounts, context: Sequence[str] = ()) -> str:
        masked, found = self.scan_texts([text], context)[0]
        counts.by_entity.update(found)
        return str(masked)

    def literal(self, value: str) -> str:
        """A literal from an agent's arguments, as stored in the ledger: always a keyed token."""
        if self.pseudonyms.is_token(value):
            return value
        return self.pseudonyms.token("LITERAL", value)


def plain(value: Any) -> Any:
    """JSON-safe rendering of a database value (never bytes)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<BINARY:{len(bytes(value))} bytes>"
    return str(value)
