"""Personal values Maskwire already knows from the columns it classified, found again in free text.

NER misses many names and addresses (tables in text, uppercase, unusual names). But a value that sits in
a personal column of a connected database is known: when it shows up in a ticket body or a document, it
is masked with the same token as in its column. Values are matched as whole word sequences, case-insensitively:
two to six words, or one word that holds a digit (a birth date), possessives included (`Ignatius Pemberton's`).
One word of a known name is found alone when it is capitalised and not an English word (`Ignatius said hi`);
names that are ordinary words (Grace, May, Mark) are not. A secret of letters only (`CorrectHorseBatteryStaple`)
is found as a chunk, and a secret is masked with the punctuation it was stored with (`Hunter2Secret!`).

`SENSITIVE` values (health, pay, special categories in tables of people) follow the same rule, so a diagnosis
of two words or more (`HIV positive`, `type 2 diabetes`) is found again and one word (`flu`, `asthma`) is not:
masking every `flu` of every document would say nothing about a person and spoil the text, while a phrase
stored in a health column is as particular as a name. Phrases made of stop words only (`none known`, `not
applicable`) are left out. An amount (a salary: 240000, `240000.00`, `$240,000`) is found in every way it is
written, with or without its currency, thousands separators, cents or a `k` (`$240k`, `240.000 €`, `USD
240,000`), when it has four digits or more before its decimals; a bare run of digits only with five digits
or more (a four-digit number alone is a year or a quantity far more often than a salary).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable, Sequence

from presidio_analyzer import RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from mcp_server.masking.english_words import is_english
from mcp_server.masking.recognizers._results import TextRecognizer, result
from mcp_server.masking.value_text import AMOUNT, DIGIT, WORD, amount_key, canonical_amount, written_as_amount
from mcp_server.vocabulary import TEXT_ENTITIES

MAX_WORDS = 6
SCORE = 0.9


def _fold(word: str) -> str:
    return word.casefold().replace("’", "'")


STREET_WORDS = {
    "street": "st", "road": "rd", "avenue": "ave", "av": "ave", "drive": "dr", "lane": "ln", "boulevard": "blvd",
    "court": "ct", "place": "pl", "terrace": "ter", "circle": "cir", "highway": "hwy", "parkway": "pkwy",
    "square": "sq", "trail": "trl", "crescent": "cres", "heights": "hts", "mount": "mt", "point": "pt",
    "apartment": "apt", "suite": "ste", "north": "n", "south": "s", "east": "e", "west": "w",
}  # fmt: skip
"""The words of an address that people write in full or abbreviated (the USPS street suffixes and unit and
direction words): a known `4417 Juniper Hollow Road` is found as `4417 juniper hollow rd`, and the other way."""


def _word_key(folded: str) -> str:
    return STREET_WORDS.get(folded, folded)


def _key(words: Iterable[str]) -> str:
    # casefold folds each character on its own: the same as word by word
    return " ".join(_word_key(_fold(w)) for w in words)


def _distinctive(words: list[str]) -> bool:
    """Two to six words, or one word with a digit and six or more characters (a date, `maria1987`):
    a single ordinary word (Grace, Austin) would mask the same word everywhere else."""
    if len(words) == 1:
        return len(words[0]) >= 6 and any(ch.isdigit() for ch in words[0])
    return 2 <= len(words) <= MAX_WORDS


CHUNK = re.compile(r"\S+")
_SPACE = re.compile(r"\s")  # what str.isspace calls white space
_EDGES = "\"'`([{<.,;:!?)]}>*"
_SEPARATORS = re.compile(r"[\s().\-/]")
MIN_CHUNK = 6
MIN_LETTER_SECRET = 10
"""A secret of letters only (`CorrectHorseBatteryStaple`) is a known value from this length, in mixed case."""
MIN_NAME = 4
MIN_LOWER_NAME = 5
"""A known name's word in lower case is found from this length."""
MIN_PLAIN = 5
"""A username or password of letters only is a known value from this length."""
_PLAIN_ENTITIES = frozenset({"USERNAME", "SECRET"})
_LETTERS = re.compile(r"(?<![\w@.])[^\W\d_]{5,}+(?![\w@])")
_LOGIN_CUE = re.compile(
    r"(?i)\b(?:pass(?:word|wd|code|phrase)?s?|pw|pwd|pin|log-?in|logon|user(?:name)?|handle|account|secret"
    r"|credentials?|sign(?:ed)?\s+in\s+as)\b[^\n]{0,40}$"
)
CUE_WINDOW = 60
_NUMBER_SEPARATORS = re.compile(r"[\s().\-/+]")
MIN_DIGITS = 7
MAX_DIGITS = 19
MAX_GROUPS = 6
_CJK_DATE = re.compile(r"(\d{4}) ?年 ?(\d{1,2}) ?月 ?(\d{1,2}) ?日")
_INNER_BOUNDARY = re.compile(r"[^\w]|_|(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
"""Where a known value may begin or end inside a chunk: a mark (`@`, `=`, `'`, `/`, `_`...) or letters meeting
digits."""
_INNER_NUMBER = re.compile(r"[\s().\-/+_]")
MAX_BOUNDS = 24
_DIGIT_GROUPS = re.compile(r"(?<![\w.])\d++(?:(?:[ .\-/]|[ \t]*+[|,;][ \t]*+)\d++)++(?![\w])")
"""Groups of digits apart: by a space, `.`, `-`, `/`, or table cells and list items (`| 536 | 22 | 8194 |`)."""
_DIGITS = re.compile(r"\d+")
NAME_SCORE = 0.6
"""Below NER's score: where NER finds a longer name around a known word (`Ryan P Costa`), its span wins."""
_POSSESSIVE = re.compile(r"['’]s?$", re.IGNORECASE)


def _letter_secret(value: str) -> bool:
    text = value.strip()
    return len(text) >= MIN_LETTER_SECRET and text.isalpha() and not text.islower() and not text.isupper()


def _stem(word: str) -> str:
    """A word without a possessive ending (`Pemberton's` -> `Pemberton`)."""
    return _POSSESSIVE.sub("", word) or word


def _chunk_keys(value: str, letters: bool = False) -> list[str]:
    """Keys of a value that is one chunk of text (no space: an SSN, an e-mail address, a password, a card or
    phone number written without spaces): the value folded, and its digits alone when it is a number written
    with separators (123-45-6789 is also 123456789). A chunk of letters only is a key only with `letters`."""
    text = value.strip().strip(_EDGES).casefold()
    if len(text) < MIN_CHUNK or _SPACE.search(text) or (text.isalpha() and not letters):
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
    """Other ways to write an ISO date (`1981-03-14`): 14.03.1981, 14/03/1981, 03/14/1981, 14-03-1981, 1981/03/14,
    3/14/1981, 3/14/81, 14.03.81, March 14 1981, 14 March 1981, Mar 14 1981 (matched as words: commas, full stops
    and ordinals between them are allowed); 1981年3月14日 is read inside any text (`_find_cjk_dates`)."""
    match = _ISO_DAY.match(value.strip())
    if match is None:
        return []
    year, month, day = match.groups()
    if not 1 <= int(month) <= 12:
        return []
    name, d, m, yy = _MONTHS[int(month) - 1], str(int(day)), str(int(month)), year[2:]
    return [
        f"{day}.{month}.{year}",
        f"{day}/{month}/{year}",
        f"{month}/{day}/{year}",
        f"{day}-{month}-{year}",
        f"{year}/{month}/{day}",
        f"{year}.{month}.{day}",
        *{f"{m}/{d}/{year}", f"{d}/{m}/{year}", f"{d}.{m}.{year}"},  # without leading zeros
        *{f"{month}/{day}/{yy}", f"{m}/{d}/{yy}", f"{day}/{month}/{yy}", f"{d}/{m}/{yy}", f"{day}.{month}.{yy}"},
        f"{name} {d} {year}",
        f"{d} {name} {year}",
        f"{name[:3]} {d} {year}",  # Feb 14 2001
        f"{d} {name[:3]} {year}",
        f"{name} {d}{_ordinal(int(day))} {year}",
        f"{d}{_ordinal(int(day))} {name} {year}",
    ]


def _all_stop_words(words: list[str]) -> bool:
    return all(_fold(w) in STOP_WORDS or _fold(w) in _PLACEHOLDER_WORDS for w in words)


# Words of the placeholders a column holds when it holds nothing (`none known`, `not applicable`, `n/a`).
_PLACEHOLDER_WORDS = frozenset(
    {"known", "unknown", "n", "a", "na", "nil", "applicable", "available", "specified", "provided", "given"}
)


def _ordinal(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


class KnownValuesRecognizer(TextRecognizer):
    """Finds values of personal columns again in free text: word sequences (full names, street addresses) and
    single chunks with a digit or a symbol (an SSN, an e-mail address, a username, a password)."""

    ENTITIES = TEXT_ENTITIES

    def __init__(
        self,
        max_values: int = 1_000_000,
        english: Callable[[], frozenset[str]] = frozenset,
        dictionary: Callable[[], frozenset[str]] | None = None,
    ) -> None:
        """`english` gives the English words that a one-word name must not be to be found alone; `dictionary`
        every English word (nouns too), which a username or password of letters only must not be to be found
        without a cue (default: `english`)."""
        super().__init__()
        self._english = english
        self._dictionary = dictionary or english
        self._values: dict[str, str] = {}
        # First word of each known value -> the most words a known value starting with it has: most words
        # of a text start no known value, and are passed over without building any candidate key.
        self._starts: dict[str, int] = {}
        self._chunks: dict[str, str] = {}
        self._amounts: dict[str, str] = {}  # canonical amount (`amount_key`) -> entity, for SENSITIVE values
        self._name_words: set[str] = set()  # every word of a known name, one-word names included
        # Usernames and passwords of letters only (`rosebaker`, `garden`): found alone when no English word, and
        # after a login or password cue when one (`password is garden`); elsewhere `garden` is a word.
        self._plain: dict[str, str] = {}
        self._max = max_values
        self._lock = threading.Lock()

    def add(self, entity: str, values: Iterable[str]) -> int:
        values = list(dict.fromkeys(values))  # a column repeats its values (birth dates, cities): each once
        if entity == "DATE_OF_BIRTH":  # the same date as people write it: 14.03.1981, March 14, 1981...
            values = [v for value in values for v in (value, *date_spellings(str(value)))]
        return self._add(entity, values)

    def _add(self, entity: str, values: Iterable[str]) -> int:
        """Remember values of one entity type; returns how many are known now. One-word values are ignored."""
        with self._lock:
            for value in values:
                if len(self._values) + len(self._chunks) + len(self._amounts) >= self._max:
                    break
                text = str(value)
                words = WORD.findall(text)
                if entity == "PERSON":  # `Albrecht-Nakamura` and its parts
                    self._name_words.update(part for w in words for part in {_fold(w), *_fold(w).split("-")} if part)
                if entity == "SENSITIVE":
                    amount = amount_key(value)
                    if amount is not None:
                        self._amounts.setdefault(amount, entity)
                        continue
                    if _all_stop_words(words):
                        continue
                plain = text.strip()
                if entity in _PLAIN_ENTITIES and plain.isalpha() and len(plain) >= MIN_PLAIN:
                    self._plain.setdefault(_fold(plain), entity)
                digits = _NUMBER_SEPARATORS.sub("", text)
                if MIN_DIGITS <= len(digits) <= MAX_DIGITS and digits.isdigit():  # `(415) 867-2291` as digits
                    self._chunks.setdefault(digits, entity)
                chunk_keys = _chunk_keys(text, letters=entity == "SECRET" and _letter_secret(text))
                if chunk_keys and entity == "SECRET":  # as written too, punctuation included (`Hunter2Secret!`)
                    chunk_keys = [*chunk_keys, text.strip().casefold()]
                for key in chunk_keys:
                    self._chunks.setdefault(key, entity)
                if _distinctive(words) and not (chunk_keys and len(words) == 1):
                    self._values.setdefault(_key(words), entity)
                    first = _word_key(_fold(words[0]))
                    self._starts[first] = max(self._starts.get(first, 0), len(words))
            return len(self)

    def _find_names(self, text: str, entities: Sequence[str], found: list[RecognizerResult]) -> list[RecognizerResult]:
        """One word of a known name, capitalised, that is not an English word (`Ignatius said hi`, `Pemberton's
        key`): the data's own people, where NER does not know the name. Words like `Grace` or `Mark` stay words.
        In lower case (`aws creds for desmond`) a word is found when it is in no English dictionary at all (nouns
        included: `rose`, `baker` and `john` stay words)."""
        if not self._name_words or (entities and "PERSON" not in entities):
            return []
        english = self._english()
        dictionary: frozenset[str] | None = None
        results: list[RecognizerResult] = []
        for match in WORD.finditer(text):
            word = _stem(match.group(0))
            if len(word) >= MIN_NAME and word.isalpha() and word[-1].isupper() and word[:-1].islower():
                word = word[::-1]  # a name written backwards: `ellivenneuQ`
            if len(word) < MIN_NAME or not word.replace("-", "").isalpha():
                continue
            key = _fold(word)
            if "-" in key:  # a hyphenated name: one of its parts known is enough (`Okonkwo-Vance`)
                parts = [p for p in key.split("-") if len(p) >= MIN_NAME]
                if not any(p in self._name_words and not is_english(p, english) for p in parts):
                    continue
                if not word[0].isupper() and not word.islower():
                    continue
            elif key not in self._name_words or is_english(key, english):
                continue
            if not word[0].isupper():
                dictionary = self._dictionary() if dictionary is None else dictionary
                if len(word) < MIN_LOWER_NAME or not word.islower() or key in STOP_WORDS or is_english(key, dictionary):
                    continue
            start, end = match.start(), match.start() + len(word)
            if not any(r.start <= start and end <= r.end for r in found):
                results.append(result(self, "PERSON", start, end, NAME_SCORE, "known value (a name's word)"))
        return results

    def is_name_word(self, word: str) -> bool:
        """Whether a word is part of a name in the data's person columns (`Grace` of a `first_name` column)."""
        return _fold(word) in self._name_words

    def __len__(self) -> int:
        return len(self._values) + len(self._chunks) + len(self._amounts) + len(self._plain)

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        results = self._find_chunks(text, entities) + self._find_amounts(text, entities)
        results += self._find_digit_groups(text, entities, results)
        results += self._find_cjk_dates(text, entities)
        results += self._find_words(text, entities, results)
        results += self._find_plain(text, entities, results)
        return results + self._find_names(text, entities, results)

    def _find_cjk_dates(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        """A known date written the Chinese and Japanese way (`1979年4月23日`), inside text without spaces."""
        if "年" not in text:
            return []
        results: list[RecognizerResult] = []
        for match in _CJK_DATE.finditer(text):
            year, month, day = match.groups()
            entity = self._chunks.get(f"{year}-{int(month):02d}-{int(day):02d}")
            if entity is not None and (not entities or entity in entities):
                results.append(result(self, entity, match.start(), match.end(), SCORE, "known date"))
        return results

    def _find_digit_groups(
        self, text: str, entities: Sequence[str], found: list[RecognizerResult]
    ) -> list[RecognizerResult]:
        """A known number written in other groups (`53622 8194`, `5362-2819-4` for 536-22-8194): consecutive
        groups of digits whose digits together are the known value's."""
        if not self._chunks or not DIGIT.search(text):
            return []
        results: list[RecognizerResult] = []
        for run in _DIGIT_GROUPS.finditer(text):
            groups = list(_DIGITS.finditer(run.group(0)))
            i = 0
            while i < len(groups):
                for j in range(min(len(groups), i + MAX_GROUPS), i + 1, -1):  # the longest first
                    digits = "".join(g.group(0) for g in groups[i:j])
                    entity = self._chunks.get(digits) if MIN_DIGITS <= len(digits) <= MAX_DIGITS else None
                    start, end = run.start() + groups[i].start(), run.start() + groups[j - 1].end()
                    covered = any(r.start <= start and end <= r.end for r in found)
                    if entity is not None and not covered and (not entities or entity in entities):
                        results.append(result(self, entity, start, end, SCORE, "known number, regrouped"))
                        i = j - 1
                        break
                i += 1
        return results

    def _find_plain(self, text: str, entities: Sequence[str], found: list[RecognizerResult]) -> list[RecognizerResult]:
        if not self._plain:
            return []
        english = self._dictionary()
        results: list[RecognizerResult] = []
        for match in _LETTERS.finditer(text):
            entity = self._plain.get(_fold(match.group(0)))
            if entity is None or (entities and entity not in entities):
                continue
            start, end = match.span()
            if any(r.start <= start and end <= r.end for r in found):
                continue
            word = match.group(0)
            cued = _LOGIN_CUE.search(text, max(0, start - CUE_WINDOW), start) is not None
            if cued or not (is_english(word, english) or _fold(word) in STOP_WORDS):
                results.append(result(self, entity, start, end, SCORE, "known username or password"))
        return results

    def _find_amounts(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        if not self._amounts or not DIGIT.search(text):
            return []
        results: list[RecognizerResult] = []
        for match in AMOUNT.finditer(text):
            entity = self._amounts.get(canonical_amount(match) or "") if written_as_amount(match) else None
            if entity is not None and (not entities or entity in entities):
                results.append(result(self, entity, match.start(), match.end(), SCORE, "known amount"))
        return results

    def _find_chunks(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        if not self._chunks:
            return []
        results: list[RecognizerResult] = []
        for chunk in CHUNK.finditer(text):
            raw = chunk.group(0)
            inner = raw.strip(_EDGES)
            if len(inner) < MIN_CHUNK:
                continue
            whole = raw.rstrip(".,;:)]}\"'").lstrip("([{\"'")  # a value may end in `!` or `?`: masked with it
            backwards = self._chunks.get(whole[::-1].casefold())  # written backwards: `moc.liam@nna`
            if backwards is not None:
                if not entities or backwards in entities:
                    start = chunk.start() + raw.index(whole)
                    results.append(result(self, backwards, start, start + len(whole), SCORE, "known value, reversed"))
                continue
            found = whole if whole.casefold() in self._chunks else inner
            keys = [whole.casefold()] if found is whole else _chunk_keys(inner, letters=True)
            entity = next((self._chunks[k] for k in keys if k in self._chunks), None)
            if entity is not None and (not entities or entity in entities):
                start = chunk.start() + raw.index(found)
                results.append(result(self, entity, start, start + len(found), SCORE, "known value"))
            elif _INNER_BOUNDARY.search(raw):
                results += self._find_inside(raw, chunk.start(), entities)
        return results

    def _find_inside(self, raw: str, offset: int, entities: Sequence[str]) -> list[RecognizerResult]:
        """Known values inside a chunk, between marks or where letters meet digits (`@qalbrecht79`,
        `evander01's`, `id=536228194&next=1`, `ssn_536-22-8194.pdf`, `x536-22-8194`): the longest piece that
        starts and ends at such boundaries and is a known value, or whose digits are a known number."""
        bounds = sorted({0, len(raw), *(m.start() for m in _INNER_BOUNDARY.finditer(raw))})[: MAX_BOUNDS + 1]
        results: list[RecognizerResult] = []
        covered_to = 0
        for i, start in enumerate(bounds):
            if start >= len(raw):
                break
            begin = start + (1 if not raw[start].isalnum() else 0)  # past the mark itself
            if begin < covered_to:
                continue
            for end in reversed(bounds[i + 1 :]):
                piece = raw[begin:end]
                if len(piece) < MIN_CHUNK:
                    break
                key = piece.casefold()
                digits = _INNER_NUMBER.sub("", piece)
                entity = self._chunks.get(key)
                if entity is None and digits.isdigit() and MIN_DIGITS <= len(digits) <= MAX_DIGITS:
                    entity = self._chunks.get(digits) or (
                        self._chunks.get(digits[1:]) if len(digits) == 11 and digits[0] == "1" else None
                    )
                if entity is not None and (not entities or entity in entities):
                    results.append(result(self, entity, offset + begin, offset + end, SCORE, "known value, inside"))
                    covered_to = end
                    break
        return results

    def _find_words(self, text: str, entities: Sequence[str], chunks: list[RecognizerResult]) -> list[RecognizerResult]:
        if not self._values:
            return []
        words = list(WORD.finditer(text))
        stems = [_stem(w.group(0)) for w in words]
        folded = [_word_key(_fold(w)) for w in stems]
        starts = self._starts
        results: list[RecognizerResult] = []
        i = 0
        while i < len(words):
            if "-" in folded[i]:  # words joined by hyphens: `4417-Juniper-Hollow-Road`, `major-depressive-disorder`
                entity = self._values.get(" ".join(_word_key(part) for part in folded[i].split("-")))
                start, end = words[i].start(), words[i].start() + len(stems[i])
                wanted = entity is not None and (not entities or entity in entities)
                if wanted and not any(c.start <= start and end <= c.end for c in chunks):
                    results.append(result(self, str(entity), start, end, SCORE, "known value, hyphenated"))
                    i += 1
                    continue
            longest = starts.get(folded[i], 0)
            for n in range(min(longest, len(words) - i), 0, -1):
                span = words[i : i + n]
                gaps = (text[a.end() : b.start()] for a, b in itertools.pairwise(span))
                adjacent = all(g.strip(" \t,.") == "" and len(g) <= 3 for g in gaps)
                entity = self._values.get(" ".join(folded[i : i + n])) if adjacent else None
                start, end = span[0].start(), span[-1].start() + len(stems[i + n - 1])
                covered = any(c.start <= start and end <= c.end for c in chunks)
                if entity is not None and not covered and (not entities or entity in entities):
                    results.append(result(self, entity, start, end, SCORE, "known value"))
                    i += n - 1
                    break
            i += 1
        return results
