"""The words and values of the data's personal values: agent input holding one is never shown as written.

The ledger shows a little agent input as written, for a reviewer to read: a literal compared with a clear column
(`status = 'shipped'`, `amount > 100`), an alias made of English words (`AS total_revenue`), a client's name made
of words. Input an agent typed can still be personal data it was told (`'hiv positive'`, `AS bipolar_disorder`,
`'mockingbird lane'`, a birth date): such input is shown only when none of its words is a word of a known personal
value (a name, an address, a diagnosis, an e-mail address's parts) and it is not itself one (an ISO date, a number
or an amount stored in a personal column). Until the known values are loaded, nothing is shown
(`Masker.ledger_may_show`).

Only what the ledger could show is kept: words of letters (a vocabulary, bounded by the language and the names
of the data) and values that are ISO dates or plain numbers; an SSN or an e-mail address as a whole is never shown
anyway.
"""

from __future__ import annotations

import datetime
import re
import threading
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from mcp_server.masking.stop_words import STOP_WORDS
from mcp_server.masking.value_text import WORD, amount_key

MAX_ENTRIES = 2_000_000
_NUMBER = re.compile(r"[-+]?\d{1,15}(?:\.\d{1,6})?")
_ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T][\d:.+-]*)?")
_LETTER_WORD = re.compile(r"[^\W\d_]+")


def _fold(text: str) -> str:
    return text.casefold().replace("’", "'")


def value_key(text: str) -> str | None:
    """A value the ledger could show as a literal, in one form: an ISO date (`1981-03-14`, time cut), or a number
    without sign, leading or trailing zeros (`-085000.50` -> `85000.5`); None for anything else."""
    stripped = text.strip()
    date = _ISO_DATE.fullmatch(stripped)
    if date is not None:
        return date.group(1)
    if not _NUMBER.fullmatch(stripped):
        return None
    try:
        return format(abs(Decimal(stripped)).normalize(), "f")
    except InvalidOperation:
        return None


def stored_text(value: object) -> str | None:
    """A stored value as text: strings, numbers and dates (a birth date kept as a `date` is a date of someone)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


class PersonalWords:
    """Words (folded) and showable values of the personal values learned so far; `generation` changes with each
    addition, so that what was decided on fewer of them is decided again."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._words: set[str] = set()
        self._values: set[str] = set()
        self._max = max_entries
        self._lock = threading.Lock()
        self._full = False
        self.generation = 0

    def add(self, values: Iterable[object]) -> None:
        words: set[str] = set()
        shown: set[str] = set()
        for value in dict.fromkeys(values):  # a column repeats its values: each once
            text = stored_text(value)
            if not text:
                continue
            for word in WORD.findall(text):
                folded = _fold(word)
                for part in _LETTER_WORD.findall(folded):  # `o'neil` -> `o`, `neil`; `maria1987` -> `maria`
                    if len(part) > 1 and part not in STOP_WORDS:
                        words.add(part)
            for key in (value_key(text), amount_key(text)):  # `$240,000` is the amount 240000
                if key is not None:
                    shown.add(key)
        with self._lock:
            room = self._max - len(self._words) - len(self._values)
            for entry, into in [*((w, self._words) for w in words), *((v, self._values) for v in shown)]:
                if entry in into:
                    continue
                if room <= 0:
                    self._full = True  # some were left out: from now on nothing is shown (fail closed)
                    break
                into.add(entry)
                room -= 1
            self.generation += 1

    def touches(self, text: str) -> bool:
        """Whether `text` holds a word of a known personal value, or is a known date, number or amount (always,
        once more values were learned than are kept)."""
        if self._full:
            return True
        key = value_key(text)
        if key is not None:
            return key in self._values
        return any(part in self._words for part in _LETTER_WORD.findall(_fold(text)))

    def __len__(self) -> int:
        return len(self._words) + len(self._values)
