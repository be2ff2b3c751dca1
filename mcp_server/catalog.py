"""A SQL source together with the cached classification of its columns."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from connectors.base import TableInfo, TabularSource
from mcp_server.config import ColumnOverride, SqlSource
from mcp_server.masking.classify import (
    ColumnClass,
    by_type,
    classify_by_name,
    classify_by_values,
    from_override,
    identity_numbers,
    in_context,
    is_date_type,
    is_integer_type,
    name_words,
    postcode_like,
)
from mcp_server.masking.context import table_context, words
from mcp_server.masking.lazy_detector import LazyDetector
from mcp_server.masking.presets import PRESETS
from mcp_server.sqlguard.schema import SchemaIndex
from mcp_server.vocabulary import ADDRESS_ENTITIES, SENSITIVITY, TEXT_ENTITIES

if TYPE_CHECKING:
    from mcp_server.masking.detector import Detector


def most_sensitive(entities: Sequence[str]) -> str:
    ranked = sorted(entities, key=lambda e: SENSITIVITY.index(e) if e in SENSITIVITY else len(SENSITIVITY))
    return ranked[0]


class SqlCatalog:
    def __init__(
        self, config: SqlSource, database: TabularSource, detector: Detector | LazyDetector, sample_rows: int
    ) -> None:
        self.config = config
        self.database = database
        self.detector = detector
        self.sample_rows = sample_rows
        self._classes: dict[tuple[str, str], ColumnClass] = {}
        self._labels: set[str] = set()
        self._signature: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] | None = None
        self._seen: Mapping[str, TableInfo] | None = None
        """The schema snapshot whose signature was compared last."""
        self._index: tuple[Mapping[str, TableInfo], SchemaIndex] | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.config.name

    def tables(self, refresh: bool = False) -> dict[str, TableInfo]:
        tables = self.database.schema(refresh=refresh)
        with self._lock:
            if tables is self._seen:  # the same snapshot as last time (a source caches its schema until refreshed)
                return tables
        signature = tuple((t.name, tuple((c.name, c.type) for c in t.columns)) for t in tables.values())
        with self._lock:
            if signature != self._signature:  # the schema changed: classify again
                self._classes.clear()
                self._signature = signature
            self._seen = tables
        return tables

    def schema_index(self) -> SchemaIndex:
        """The name index of the current schema, built once per schema the source reports (see `SchemaIndex`)."""
        tables = self.tables()
        with self._lock:
            if self._index is None or self._index[0] is not tables:
                self._index = (tables, SchemaIndex({name: t.column_names() for name, t in tables.items()}))
            return self._index[1]

    def table(self, name: str) -> TableInfo | None:
        tables = self.tables()
        if name in tables:
            return tables[name]
        folded = {t.lower(): t for t in tables}
        return tables.get(folded.get(name.lower(), ""))

    def classify(self, table: str, column: str) -> ColumnClass:
        with self._lock:
            cached = self._classes.get((table, column))
        if cached is not None:
            return cached
        self.classify_table(table)
        with self._lock:
            return self._classes.get((table, column)) or ColumnClass("text", None, "unknown column (scanned)")

    def classify_table(self, table: str) -> dict[str, ColumnClass]:
        """Classify every column of a table: declared policy > name and type > sampled values."""
        info = self.table(table)
        if info is None:
            return {}
        with self._lock:
            known = {
                c.name: self._classes[(info.name, c.name)] for c in info.columns if (info.name, c.name) in self._classes
            }
        if len(known) == len(info.columns):
            return known
        names = info.column_names()
        context = table_context(info.name, names)
        decided: dict[str, ColumnClass] = {}
        undecided: list[str] = []
        numbers: list[str] = []  # integer columns clear by their type: unless they hold identity numbers
        for column in info.columns:
            override = self.override(info.name, column.name)
            if override is not None:
                decided[column.name] = from_override(override)
                continue
            by_name = classify_by_name(column.name, column.type, context)
            if by_name is not None:
                decided[column.name] = by_name
                if by_name == by_type(column.type) and is_integer_type(column.type):
                    numbers.append(column.name)
            else:
                undecided.append(column.name)
        samples = self.database.sample(info.name, undecided + numbers, self.sample_rows) if undecided or numbers else {}
        for column_name in numbers:
            decided[column_name] = identity_numbers(samples[column_name]) or decided[column_name]
        if undecided:
            texts = {c: [v for v in samples[c] if isinstance(v, str)] for c in undecided}
            for column_name in undecided:
                values = [str(v) for v in samples[column_name] if not isinstance(v, bytes | bytearray)]
                decided[column_name] = classify_by_values(column_name, values, self.detector.analyze_batch)
            decided = in_context(decided, undecided, context)
            decided |= self._names_again(info.name, decided, undecided, samples)
            self._keep_labels(decided, undecided, texts)
            has_postcode = any(c.kind == "pii" and c.entity == "POSTAL_CODE" for c in decided.values())
            if not has_postcode and any(c.kind == "pii" and c.entity in ADDRESS_ENTITIES for c in decided.values()):
                for column_name in undecided:  # `3910`, `5000-047` next to a street or a city: postcodes
                    if decided[column_name].kind != "pii" and postcode_like(texts[column_name]):
                        decided[column_name] = ColumnClass(
                            "pii",
                            "POSTAL_CODE",
                            "values shaped like postcodes, next to address columns",
                            "equality",
                            "medium",
                        )
        preset = PRESETS.get(self.config.preset or "")
        if preset is not None and preset.personal_dates and context.of_people:
            types = {c.name: c.type for c in info.columns}
            for column_name, cls in decided.items():
                if (
                    cls.kind == "clear"
                    and is_date_type(types[column_name])
                    and self.override(info.name, column_name) is None
                ):
                    decided[column_name] = ColumnClass(
                        "pii",
                        "DATE_TIME",
                        f"preset {preset.name}: a date in a table of people ({context.reason})",
                        "equality",
                    )
        if preset is not None and preset.personal_ages and context.of_people:
            for column_name, cls in decided.items():
                if (
                    cls.kind == "clear"
                    and words(column_name)[-1:] == ["age"]
                    and not self.override(info.name, column_name)
                ):
                    decided[column_name] = ColumnClass(
                        "pii", "AGE", f"preset {preset.name}: the age of a person ({context.reason})", "equality"
                    )
        with self._lock:
            for column_name, cls in decided.items():
                self._classes[(info.name, column_name)] = cls.explained()
        return decided

    def _keep_labels(
        self, decided: Mapping[str, ColumnClass], undecided: Sequence[str], texts: Mapping[str, Sequence[str]]
    ) -> None:
        """Short values of columns the sampled values call clear (product names, categories): `labels`."""
        found = {
            " ".join(v.split()).casefold()
            for c in undecided
            if decided[c].kind == "clear"
            for v in texts[c]
            if 0 < len(v) <= MAX_LABEL_CHARS and len(v.split()) <= MAX_LABEL_WORDS
        }
        with self._lock:
            if len(self._labels) + len(found) <= MAX_LABELS:
                self._labels |= found

    def labels(self) -> frozenset[str]:
        """Short values (case and spacing folded) of the clear columns classified so far by their values: names of
        things in this source (`Madison Desk`), which free text may name too without naming a person."""
        with self._lock:
            return frozenset(self._labels)

    def _names_again(
        self,
        table: str,
        decided: Mapping[str, ColumnClass],
        undecided: Sequence[str],
        samples: Mapping[str, Sequence[object]],
    ) -> dict[str, ColumnClass]:
        """Clear columns whose sampled values repeat the names in the table's person columns (`tags` holding
        `["ignatius", "thaddeus"]`, a `label` of first names): masked as names. Lower-case or inside a list, NER
        and the name-shape rules do not see them; the table's own names do."""
        people = [c for c, cls in decided.items() if cls.kind == "pii" and cls.entity == "PERSON"]
        candidates = [c for c in undecided if decided[c].kind == "clear"]
        if not people or not candidates:
            return {}
        sampled = self.database.sample(table, people, self.sample_rows)
        names = {w.casefold() for c in people for v in sampled[c] if isinstance(v, str) for w in name_words(v)}
        names = {n for n in names if len(n) >= 3}
        out: dict[str, ColumnClass] = {}
        for column in candidates:
            words = {w.casefold() for v in samples[column] if v is not None for w in name_words(str(v))}
            shared = words & names
            if len(shared) >= 2 and len(shared) >= 0.3 * len(words):
                out[column] = ColumnClass(
                    "pii",
                    "PERSON",
                    f"values ({len(shared)} of {len(words)} distinct words) are names of this table's people",
                    "equality",
                    "medium",
                )
        return out

    def known_values(
        self, max_rows: int = 200_000, stop: threading.Event | None = None
    ) -> Iterator[tuple[str, list[str]]]:
        """Personal values per entity type, for finding them again in free text (the numbers of SENSITIVE columns,
        a salary, included).

        First and last name columns are combined per row (both orders: "Gonzalez, Maria" is as common
        as "Maria Gonzalez"); other personal text columns give their values as they are. `stop` ends the
        walk before the next table (the server is shutting down).
        """
        for info in self.tables().values():
            if stop is not None and stop.is_set():
                return
            classes = self.classify_table(info.name)
            personal = [
                c.name
                for c in info.columns
                if classes[c.name].kind == "pii" and classes[c.name].entity in TEXT_ENTITIES
            ]
            if not personal:
                continue
            values = self.database.sample(info.name, personal, max_rows, distinct=False)
            for column in personal:
                entity = classes[column].entity or "PII"
                yield entity, [text for v in values[column] if (text := _known_text(entity, v)) is not None]
            person = [c for c in personal if classes[c].entity == "PERSON"]
            if len(person) >= 2:
                names: list[str] = []
                for row in zip(*(values[c] for c in person), strict=True):
                    parts = [str(v).strip() for v in row if v is not None and str(v).strip()]
                    if len(parts) >= 2:
                        names.append(" ".join(parts))
                        names.append(" ".join(reversed(parts)))
                yield "PERSON", names

    def override(self, table: str, column: str) -> ColumnOverride | None:
        for key, override in self.config.columns.items():
            t, c = key.split(".")
            if t.lower() == table.lower() and c.lower() == column.lower():
                return override
        return None


MAX_LABEL_CHARS = 40
MAX_LABEL_WORDS = 4
MAX_LABELS = 100_000


def _known_text(entity: str, value: object) -> str | None:
    """A stored value as a known value: text as it is; a number of a SENSITIVE column (a salary) and a birth
    date kept as a date are found again in free text like text values."""
    if isinstance(value, str):
        return value
    if entity == "SENSITIVE" and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    if entity == "DATE_OF_BIRTH" and isinstance(value, dt.date):
        return value.isoformat()[:10]
    return None
