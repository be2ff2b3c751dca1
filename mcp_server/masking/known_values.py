"""Personal values Maskwire already knows from the columns it classified, found again in free text.

NER misses many names and addresses (tables in text, uppercase, unusual names). But a value that sits in
a personal column of a connected database is known: when it shows up in a ticket body or a document, it
is masked with the same token as in its column. Values are matched as whole word sequences, case-insensitively:
two to six words, or one word that holds a digit (a birth date); other one-word values are not (too many first
names are ordinary words: Grace, May).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable, Sequence

from presidio_analyzer import RecognizerResult

from mcp_server.masking.recognizers._results import TextRecognizer, result
from mcp_server.vocabulary import TEXT_ENTITIES

WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)
MAX_WORDS = 6
SCORE = 0.9


def _fold(word: str) -> str:
    return word.casefold().replace("’", "'")


def _key(words: Iterable[str]) -> str:
    return " ".join(_fold(w) for w in words)


def _distinctive(words: list[str]) -> bool:
    """Two to six words, or one word with a digit and six or more characters (a date, `maria1987`):
    a single ordinary word (Grace, Austin) would mask the same word everywhere else."""
    if len(words) == 1:
        return len(words[0]) >= 6 and any(ch.isdigit() for ch in words[0])
    return 2 <= len(words) <= MAX_WORDS


CHUNK = re.compile(r"\S+")
_EDGES = "\"'`([{<.,;:!?)]}>*"
_SEPARATORS = re.compile(r"[\s().\-/]")
MIN_CHUNK = 6


def _chunk_keys(value: str) -> list[str]:
    """Keys of a value that is one chunk of text (no space: an SSN, an e-mail address, a password, a card or
    phone number written without spaces): the value folded, and its digits alone when it is a number written
    with separators (123-45-6789 is also 123456789)."""
    text = value.strip().strip(_EDGES).casefold()
    if len(text) < MIN_CHUNK or any(ch.isspace() for ch in text) or text.isalpha():
        return []
    keys = [text]
    digits = _SEPARATORS.sub("", text)
    if digits != text and digits.isdigit() and len(digits) >= 7:
        keys.append(digits)
    return keys


_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def date_spellings(value: str) -> list[str]:
    """Other ways to write an ISO date (`1981-03-14`): 14.03.1981, 14/03/1981, 03/14/1981, 14-03-1981,
    March 14 1981, 14 March 1981 (matched as words: commas and ordinals between them are allowed)."""
    match = _ISO_DAY.match(value.strip())
    if match is None:
        return []
    year, month, day = match.groups()
    if not 1 <= int(month) <= 12:
        return []
    name, d = _MONTHS[int(month) - 1], str(int(day))
    return [
        f"{day}.{month}.{year}",
        f"{day}/{month}/{year}",
        f"{month}/{day}/{year}",
        f"{day}-{month}-{year}",
        f"{name} {d} {year}",
        f"{d} {name} {year}",
        f"{name} {d}{_ordinal(int(day))} {year}",
        f"{d}{_ordinal(int(day))} {name} {year}",
    ]


def _ordinal(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


class KnownValuesRecognizer(TextRecognizer):
    """Finds values of personal columns again in free text: word sequences (full names, street addresses) and
    single chunks with a digit or a symbol (an SSN, an e-mail address, a username, a password)."""

    ENTITIES = TEXT_ENTITIES

    def __init__(self, max_values: int = 1_000_000) -> None:
        super().__init__()
        self._values: dict[str, str] = {}
        # First word of each known value -> the most words a known value starting with it has: most words
        # of a text start no known value, and are passed over without building any candidate key.
        self._starts: dict[str, int] = {}
        self._chunks: dict[str, str] = {}
        self._max = max_values
        self._lock = threading.Lock()

    def add(self, entity: str, values: Iterable[str]) -> int:
        if entity == "DATE_OF_BIRTH":  # the same date as people write it: 14.03.1981, March 14, 1981...
            values = [v for value in values for v in (value, *date_spellings(str(value)))]
        return self._add(entity, values)

    def _add(self, entity: str, values: Iterable[str]) -> int:
        """Remember values of one entity type; returns how many are known now. One-word values are ignored."""
        with self._lock:
            for value in values:
                if len(self._values) + len(self._chunks) >= self._max:
                    break
                chunk_keys = _chunk_keys(str(value))
                for key in chunk_keys:
                    self._chunks.setdefault(key, entity)
                words = WORD.findall(str(value))
                if _distinctive(words) and not (chunk_keys and len(words) == 1):
                    self._values.setdefault(_key(words), entity)
                    first = _fold(words[0])
                    self._starts[first] = max(self._starts.get(first, 0), len(words))
            return len(self)

    def __len__(self) -> int:
        return len(self._values) + len(self._chunks)

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        results = self._find_chunks(text, entities)
        return results + self._find_words(text, entities, results)

    def _find_chunks(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        if not self._chunks:
            return []
        results: list[RecognizerResult] = []
        for chunk in CHUNK.finditer(text):
            raw = chunk.group(0)
            inner = raw.strip(_EDGES)
            if len(inner) < MIN_CHUNK:
                continue
            entity = next((self._chunks[k] for k in _chunk_keys(inner) if k in self._chunks), None)
            if entity is not None and (not entities or entity in entities):
                start = chunk.start() + raw.index(inner)
                results.append(result(self, entity, start, start + len(inner), SCORE, "known value"))
        return results

    def _find_words(self, text: str, entities: Sequence[str], chunks: list[RecognizerResult]) -> list[RecognizerResult]:
        if not self._values:
            return []
        words = list(WORD.finditer(text))
        folded = [_fold(w.group(0)) for w in words]
        starts = self._starts
        results: list[RecognizerResult] = []
        i = 0
        while i < len(words):
            longest = starts.get(folded[i], 0)
            for n in range(min(longest, len(words) - i), 0, -1):
                span = words[i : i + n]
                gaps = (text[a.end() : b.start()] for a, b in itertools.pairwise(span))
                adjacent = all(g.strip(" \t,") == "" and len(g) <= 3 for g in gaps)
                entity = self._values.get(" ".join(folded[i : i + n])) if adjacent else None
                start, end = span[0].start(), span[-1].end()
                covered = any(c.start <= start and end <= c.end for c in chunks)
                if entity is not None and not covered and (not entities or entity in entities):
                    results.append(result(self, entity, start, end, SCORE, "known value"))
                    i += n - 1
                    break
            i += 1
        return results
