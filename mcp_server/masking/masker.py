"""Turning raw values into what a client may see.

Everything that leaves the process goes through `Masker`: whole-value masking for personal columns,
scanning for free text, and a JSON-safe rendering of clear values. Detection errors withhold the value
(fail closed); binary values are never returned.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import re
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mcp_server.masking import operators
from mcp_server.masking.encodings import normalise
from mcp_server.masking.findings import Finding
from mcp_server.masking.lazy_detector import LazyDetector
from mcp_server.masking.personal_words import PersonalWords
from mcp_server.masking.pseudonyms import Pseudonymizer
from mcp_server.masking.term_lists import TermLists
from mcp_server.vocabulary import Operator

if TYPE_CHECKING:
    from mcp_server.masking.detector import Detector

log = logging.getLogger(__name__)

WITHHELD = "<WITHHELD>"
WITHHELD_BUDGET = "<WITHHELD:masking budget>"
"""A cell left unscanned because the call reached its masking budget."""
WITHHELD_TRANSFORMED = "<WITHHELD:transformed text>"
"""Free text computed by the query (a substring, an encoding...): it cannot be scanned reliably."""
SCAN_CHUNK_CHARS = 50_000


@dataclass
class ScanBudget:
    """How much free text one tool call may scan: characters, and seconds from the first scan.

    Past either limit, cells are withheld rather than scanned: a query that builds a huge text from a free-text
    column answers in seconds, and the server keeps answering other calls.
    """

    max_chars: int = 500_000
    max_seconds: float = 10.0
    used_chars: int = 0
    started: float | None = None

    def take(self, chars: int) -> bool:
        """Reserve `chars` for scanning; False when the call is over its budget."""
        now = time.monotonic()
        if self.started is None:
            self.started = now
        if now - self.started > self.max_seconds or self.used_chars + chars > self.max_chars:
            return False
        self.used_chars += chars
        return True


@dataclass
class MaskCounts:
    """Entities masked, by type. Shared by one tool call's pieces."""

    by_entity: Counter[str] = field(default_factory=Counter)

    def add(self, entity: str, n: int = 1) -> None:
        self.by_entity[entity] += n

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.by_entity.items()))


K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The values of the most recently used keys (thread-safe, least recently used dropped first)."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            if len(self._entries) > self._max:
                self._entries.popitem(last=False)


class FindingsCache(Recent[tuple[str, tuple[str, ...]], list[Finding]]):
    """Detector findings for recently scanned texts (repeated ticket bodies, chunks hit by many searches).

    Findings do not depend on the operator, so every role's masker shares one cache.
    """


class Labels:
    """Names of things in the sources (short values of clear columns, `SqlCatalog.labels`), shared by every role's
    masker: a span only a language model took for a person or a place is not masked when it is one of them
    (`Madison Desk` of a products table, in a ticket). A pattern or a known value there is masked as ever."""

    def __init__(self) -> None:
        self.terms: frozenset[str] = frozenset()

    def add(self, terms: frozenset[str]) -> None:
        self.terms = self.terms | terms


KNOWN_VALUES_WAIT_SECONDS = 120.0


class KnownValuesGate:
    """Open once the known personal values are loaded. A server's warm-up loads them after its first call (a
    query of structured columns needs none of them, and reading them beside it slowed it down); a scan of free
    text that has to wait for them asks for them (`wanted`), and the warm-up loads them at once."""

    def __init__(self, wanted: threading.Event | None = None) -> None:
        self.loaded = threading.Event()
        self.wanted = wanted if wanted is not None else threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        if not self.loaded.is_set():
            self.wanted.set()
        return self.loaded.wait(timeout)

    def set(self) -> None:
        self.loaded.set()

    def is_set(self) -> bool:
        return self.loaded.is_set()


class Masker:
    def __init__(
        self,
        detector: Detector | LazyDetector,
        pseudonymizer: Pseudonymizer,
        *,
        operator: Operator = "pseudonym",
        operators: Mapping[str, Operator] | None = None,
        max_cell_chars: int = 20_000,
        scan_budget_chars: int = 500_000,
        scan_budget_seconds: float = 10.0,
        cache: FindingsCache | None = None,
        term_lists: TermLists | None = None,
        known_values_loaded: KnownValuesGate | threading.Event | None = None,
        personal_words: PersonalWords | None = None,
        labels: Labels | None = None,
    ) -> None:
        self.detector = detector
        self.pseudonyms = pseudonymizer
        self.operator = operator
        self.operators = dict(operators or {})
        self.max_cell_chars = max_cell_chars
        self.scan_budget_chars = scan_budget_chars
        self.scan_budget_seconds = scan_budget_seconds
        self._cache = cache if cache is not None else FindingsCache()
        self.term_lists = term_lists or TermLists()
        # Free text is scanned with the known personal values of the SQL sources: scanning waits until they
        # are loaded (a server loads them in the background, see `KnownValuesGate`). Whole-column masking does not.
        self.known_values_loaded = known_values_loaded
        self.personal_words = personal_words if personal_words is not None else PersonalWords()
        self.labels = labels if labels is not None else Labels()
        # Masked free text of this masker's operators, by (text, context, stable, names): a page read again is
        # masked from here (the findings cache, shared by every role, still spares the detector).
        self._outputs: Recent[tuple[str, tuple[str, ...], bool, bool], tuple[Any, Counter[str]]] = Recent()

    def with_operators(self, operators: Mapping[str, Operator], *, default: Operator | None = None) -> Masker:
        """The same masker (detector, key) under other per-entity operators (and default operator): one per role."""
        merged = {**self.operators, **operators}
        return Masker(
            self.detector,
            self.pseudonyms,
            operator=default or self.operator,
            operators=merged,
            max_cell_chars=self.max_cell_chars,
            scan_budget_chars=self.scan_budget_chars,
            scan_budget_seconds=self.scan_budget_seconds,
            cache=self._cache,
            term_lists=self.term_lists,
            known_values_loaded=self.known_values_loaded,
            personal_words=self.personal_words,
            labels=self.labels,
        )

    # -- single values -------------------------------------------------------------------------

    def operator_for(self, entity: str) -> Operator:
        return self.operators.get(entity, self.operator)

    def replace(self, entity: str, value: str, operator: Operator | None = None) -> str:
        """The stand-in for one personal value under the operator for its entity type."""
        return operators.apply(operator or self.operator_for(entity), entity, value, self.pseudonyms)

    def mask_whole(self, entity: str, value: Any, counts: MaskCounts, operator: Operator | None = None) -> Any:
        """A value from a personal column: masked whole, whatever it looks like."""
        masked, counted = self._mask_whole(entity, value, operator)
        if counted is not None:
            counts.add(counted)
        return masked

    def _mask_whole(self, entity: str, value: Any, operator: Operator | None) -> tuple[Any, str | None]:
        """`mask_whole`'s result and the entity type it counted (None: nothing masked)."""
        if value is None:
            return None, None
        if isinstance(value, bytes | bytearray | memoryview):
            return f"<BINARY:{len(bytes(value))} bytes>", "BINARY"
        text = plain(value)
        if isinstance(text, str) and self.pseudonyms.is_token(text):
            return text, None  # already a token (e.g. a value that went through masking upstream)
        role_choice = self.operator_for(entity)
        chosen = role_choice if role_choice == "keep" else (operator or role_choice)
        if chosen == "keep":
            return text, None
        return self.replace(entity, str(text), chosen), entity

    def mask_column(
        self, entity: str, values: Sequence[Any], operator: Operator | None = None
    ) -> list[tuple[Any, str | None]]:
        """`mask_whole` over a column's cells, each distinct value masked once (names, cities and
        statuses repeat); per cell, the masked value and the entity counted for it (None: nothing masked).

        The operator is chosen once for the column, and under `pseudonym` the column's tokens are issued in one
        batch (`Pseudonymizer.tokens`): a personal cell is the unit of work of every page."""
        role_choice = self.operator_for(entity)
        chosen = role_choice if role_choice == "keep" else (operator or role_choice)
        if chosen != "pseudonym":
            return self._mask_each(entity, values, operator)
        if all(type(value) is str for value in values):  # most columns: text cells only, nothing to convert
            cells: Sequence[tuple[Any, str | None] | str] = values
            distinct = list(dict.fromkeys(values))
        else:
            cells = [self._token_text(entity, value, operator) for value in values]
            distinct = list(dict.fromkeys(c for c in cells if isinstance(c, str)))
        already = {t for t in distinct if "<" in t and self.pseudonyms.is_token(t)}  # e.g. a value masked upstream
        tokens = self.pseudonyms.tokens(entity, [t for t in distinct if t not in already] if already else distinct)
        results: dict[str, tuple[Any, str | None]] = {t: (token, entity) for t, token in tokens.items()}
        results.update((t, (t, None)) for t in already)
        if cells is values:
            return list(map(results.__getitem__, values))
        return [results[c] if isinstance(c, str) else c for c in cells]

    def _token_text(self, entity: str, value: Any, operator: Operator | None) -> tuple[Any, str | None] | str:
        """A cell of a pseudonymised column: the text its token is made of, or its result (NULL, binary)."""
        short = _SHORT_TEXT.get(type(value))
        if short is not None:  # a date of birth, a decimal, a UUID: its short text, as `plain` gives it
            return short(value)
        if value is None or isinstance(value, bytes | bytearray | memoryview):
            return self._mask_whole(entity, value, operator)
        shown = plain(value)
        return shown if isinstance(shown, str) else str(shown)

    def _mask_each(self, entity: str, values: Sequence[Any], operator: Operator | None) -> list[tuple[Any, str | None]]:
        out: list[tuple[Any, str | None]] = []
        seen: dict[Any, tuple[Any, str | None]] = {}
        for value in values:
            key = (type(value), value) if isinstance(value, str | int | float) else None
            done = seen.get(key) if key is not None else None
            if done is None:
                done = self._mask_whole(entity, value, operator)
                if key is not None:
                    seen[key] = done
            out.append(done)
        return out

    def budget(self) -> ScanBudget:
        """A fresh masking budget for one tool call."""
        return ScanBudget(self.scan_budget_chars, self.scan_budget_seconds)

    def redact_column(self, entity: str, values: Sequence[Any]) -> list[tuple[Any, str | None]]:
        """Values computed from personal columns (a substring, a hash, an aggregate): every cell, NULL included,
        becomes `<ENTITY>`, with no stable token, so fragments cannot be matched across rows or calls and a NULL
        cannot answer a question about the value. In clear only for a role that keeps the entity type."""
        if self.operator_for(entity) == "keep":
            return [(self.clear(v), None) for v in values]
        return [(f"<{entity}>", entity) for _ in values]

    def clear_column(self, values: Sequence[Any]) -> list[Any]:
        """`clear` over a column's cells (numbers, flags and NULLs pass as they are; a column of dates, times,
        decimals or UUIDs is converted in one pass: their text cannot look like a token)."""
        limit = self.max_cell_chars
        kinds = set(map(type, values))
        if kinds <= _PASS_AS_THEY_ARE:
            return list(values)
        if len(kinds) == 1:  # most columns hold one type: converted in one pass
            (kind,) = kinds
            short = _SHORT_TEXT.get(kind)
            if short is not None:
                texts = list(map(short, values))
                if max(map(len, texts)) <= limit:
                    return texts
            elif kind is str and max(map(len, values)) <= limit:
                return list(map(defuse_tokens, values))
        return [
            value
            if value is None or type(value) is int
            else defuse_tokens(value)  # `clear` of a string that needs no cut
            if type(value) is str and len(value) <= limit
            else self.clear(value)
            for value in values
        ]

    def clear(self, value: Any) -> Any:
        """A value from a clear column, made JSON-safe. Binary is never returned raw; text longer than
        `max_cell_chars` is cut here, before anything counts or copies it (`repeat('a', 100000000)`)."""
        if isinstance(value, bytes | bytearray | memoryview):
            return f"<BINARY:{len(bytes(value))} bytes>"
        rendered = plain(value)
        if isinstance(rendered, str) and len(rendered) > self.max_cell_chars:
            hidden = len(rendered) - self.max_cell_chars
            rendered = rendered[: self.max_cell_chars] + f" …[{hidden} more characters not shown]"
        return defuse_tokens(rendered) if isinstance(rendered, str) else rendered

    # -- free text -----------------------------------------------------------------------------

    def apply(self, text: str, findings: Sequence[Finding], counts: MaskCounts, *, stable: bool = True) -> str:
        """Replace the findings in `text`; with stable=False every finding is redacted (`<ENTITY>`), for text the
        agent can put values into (a query plan, an error message), so that no token stands for a chosen value."""
        pieces: list[str] = []
        cursor = 0
        for f in findings:
            value = text[f.start : f.end]
            if self.pseudonyms.is_token(value) or self.operator_for(f.entity) == "keep":
                continue
            pieces.append(defuse_tokens(text[cursor : f.start]))
            # The value as the detector read it: `５３６-２２-８１７３` and `536-22-8173` are one value, one token.
            pieces.append(self.replace(f.entity, normalise(value).text) if stable else f"<{f.entity}>")
            counts.add(f.entity)
            cursor = f.end
        pieces.append(defuse_tokens(text[cursor:]))
        return "".join(pieces)

    def scan_texts(
        self,
        values: Sequence[Any],
        context: Sequence[str] = (),
        budget: ScanBudget | None = None,
        *,
        stable: bool = True,
        names: bool = True,
    ) -> list[tuple[Any, Counter[str]]]:
        """Scan many cells of free text at once; each distinct text is analysed once.

        Returns, per input, the masked value and the entities masked in it (one count per distinct text, shared by
        the cells that hold it: read it, do not change it). Texts past the call's `budget`
        (a fresh one when None) are withheld, not scanned. stable=False: see `apply`. names=False: names and
        places that only a language model found stay clear (descriptions of things, see `ColumnClass.names`).
        """
        budget = budget if budget is not None else self.budget()
        nothing: Counter[str] = Counter()
        out: list[tuple[Any, Counter[str]]] = [(v, nothing) for v in values]
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
            if len(rendered) > self.max_cell_chars:  # how much is cut is not said: the tail's length is its own
                rendered = rendered[: self.max_cell_chars] + " …[more characters not shown]"
            todo.setdefault(rendered, []).append(i)
        if not todo:
            return out
        for texts in _chunks(list(todo), SCAN_CHUNK_CHARS):
            if not budget.take(sum(len(t) for t in texts)):
                for text in texts:
                    for i in todo[text]:
                        out[i] = (WITHHELD_BUDGET, Counter({"WITHHELD": 1}))
                continue
            self._scan_chunk(texts, todo, tuple(context), out, stable, names)
        return out

    def _scan_chunk(
        self,
        texts: list[str],
        todo: dict[str, list[int]],
        context: tuple[str, ...],
        out: list[Any],
        stable: bool,
        names: bool = True,
    ) -> None:
        outputs = self._outputs
        missing = []
        for text in texts:
            done = outputs.get((text, context, stable, names))
            if done is None:
                missing.append(text)
            else:
                for i in todo[text]:
                    out[i] = done
        if not missing:
            return
        # Unstable scans are of text the query composed (plans, operator functions): no known values either.
        for text, findings in zip(missing, self._detect(missing, context, known=stable), strict=True):
            counts = MaskCounts()
            if findings is None:  # fail closed: a value we could not scan is not returned
                masked, counts.by_entity = WITHHELD, Counter({"WITHHELD": 1})
            else:
                if not names:
                    findings = [f for f in findings if not f.bare_name]
                elif self.labels.terms:
                    terms = self.labels.terms
                    findings = [f for f in findings if not (f.bare_name and _folded(text, f) in terms)]
                if self.term_lists:
                    findings = self.term_lists.apply(text, findings)
                masked = self.apply(text, findings, counts, stable=stable)
            done = (masked, Counter(counts.by_entity))
            if findings is not None:
                outputs.put((text, context, stable, names), done)
            for i in todo[text]:
                out[i] = done

    def _detect(self, texts: list[str], context: tuple[str, ...], *, known: bool = True) -> list[list[Finding] | None]:
        """Findings per text (None: detection failed), from the cache where the same text was seen.

        known=False: without the data's known values (see `Detector.analyze_batch`)."""
        if known and self.known_values_loaded is not None:
            self.known_values_loaded.wait()
        key = context if known else (*context, "\x00without-known-values")
        found: list[list[Finding] | None] = [self._cache.get((t, key)) for t in texts]
        missing = [t for t, f in zip(texts, found, strict=True) if f is None]
        if not missing:
            return found
        try:
            fresh: list[list[Finding] | None] = list(self.detector.analyze_batch(missing, context, known=known))
        except Exception as exc:
            log.warning("batch detection failed (%s); retrying value by value", type(exc).__name__)
            fresh = []
            for text in missing:
                try:
                    fresh.append(self.detector.analyze(text, context, known=known))
                except Exception as inner:
                    log.warning("detection failed (%s); value withheld", type(inner).__name__)
                    fresh.append(None)
        by_text = dict(zip(missing, fresh, strict=True))
        for text, findings in by_text.items():
            if findings is not None:
                self._cache.put((text, key), findings)
        return [f if f is not None else by_text[t] for t, f in zip(texts, found, strict=True)]

    def scan_message(self, text: str, identifiers: frozenset[str]) -> str:
        """A database error message: scanned like free text, except words that are names of the source's
        tables and columns (the guard checked them; a model needs them to fix its query), and without the known
        values: an error echoes names the agent wrote, and masking those that equal a stored value would say so."""
        [findings] = self._detect([text], (), known=False)
        if findings is None:
            return WITHHELD
        kept = [f for f in findings if text[f.start : f.end].casefold() not in identifiers]
        return self.apply(text, kept, MaskCounts(), stable=False)

    def literal(self, value: str) -> str:
        """A literal from an agent's arguments, as stored in the ledger: always a keyed token."""
        if self.pseudonyms.is_token(value):
            return value
        return self.pseudonyms.literal_token(value)

    # -- what the ledger may show of agent input -------------------------------------------------

    def add_known_values(self, entity: str, values: list[str]) -> None:
        """Personal values of a source's columns: found again in free text, and never shown in the ledger."""
        self.detector.add_known_values(entity, values)
        self.personal_words.add(values)

    def ledger_may_show(self, text: str) -> bool:
        """Whether the ledger may show agent input as written (`personal_words.py`): only once the known values
        are loaded, and when none of their words or values is in it."""
        return self.known_values_ready() and not self.personal_words.touches(text)

    def known_words_absent(self, text: str) -> bool:
        """Whether `text` holds no word or value of the data's personal values, once they are loaded (waits for
        them, asking for them at once: for a client's name, whose label must not depend on when it was seen)."""
        if self.known_values_loaded is not None:
            self.known_values_loaded.wait(KNOWN_VALUES_WAIT_SECONDS)
        return self.ledger_may_show(text)

    def known_values_ready(self) -> bool:
        return self.known_values_loaded is None or self.known_values_loaded.is_set()

    def ledger_words_generation(self) -> int:
        """Changes whenever `ledger_may_show` may answer differently (more known values, or their load done)."""
        return self.personal_words.generation if self.known_values_ready() else -1


_TOKEN_SHAPED = re.compile(r"<([A-Z][A-Z0-9_]*(?::[0-9a-f…]{1,64})?)>")


def defuse_tokens(text: str) -> str:
    """Text that only looks like Maskwire's output (`<EMAIL_ADDRESS:2a02…>`, `<SECRET>`: a clear value, a
    column alias, a stored note, a document) shown with other brackets (`‹EMAIL_ADDRESS:2a02…›`), so that no
    result can plant a token or a redaction marker an agent, or whoever reads its output, would take for real."""
    return _TOKEN_SHAPED.sub(r"‹\1›", text) if "<" in text else text


def _chunks(texts: list[str], max_chars: int) -> list[list[str]]:
    """Consecutive groups of texts of about `max_chars` characters (a longer text is a group of its own)."""
    groups: list[list[str]] = []
    size = 0
    for text in texts:
        if not groups or size + len(text) > max_chars:
            groups.append([])
            size = 0
        groups[-1].append(text)
        size += len(text)
    return groups


def _folded(text: str, finding: Finding) -> str:
    return " ".join(text[finding.start : finding.end].split()).casefold()


_SHORT_TEXT: dict[type, Callable[[Any], str]] = {
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,
    dt.time: dt.time.isoformat,
    decimal.Decimal: str,
    uuid.UUID: str,
}
"""Exact types whose `plain` text is made of digits, letters, `-`, `:`, `.` and `+` only (never `<`); a decimal's can
still be longer than `max_cell_chars` (`10::numeric ^ 50000`), so a clear column checks the length."""
_PASS_AS_THEY_ARE = frozenset({int, type(None)})
"""Exact types a clear column returns unchanged (bool is shown as it is too, but by `clear`)."""


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
    if isinstance(value, dict | list):  # a JSON column the driver parsed: JSON text, as the database holds it
        try:
            return json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            return str(value)
    return str(value)
