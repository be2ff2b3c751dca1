"""`field: value` pairs in text (CSV rows, JSON, YAML, forms): the field name says what the value is.

Extracted CSV and JSON documents become lines like `name: Leila Thompson; email: ...`. The column
classifier already knows that a field called `name`, `customer`, `phone` or `dob` holds personal data,
so the value after it is masked whole, whatever NER thinks of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

from presidio_analyzer import RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from mcp_server.masking.classify import NAME_RULE_ENTITIES, classify_by_name
from mcp_server.masking.context import TableContext
from mcp_server.masking.recognizers._results import TextRecognizer, result

# A field starts a line or follows a separator (`;` `,` `{` `[` `&` `?` `|`, a tab); its key and value may be
# quoted, also with escaped quotes (JSON inside a JSON string: `{\"ssn\": \"...\"}`); a value ends at a separator,
# or at `&` when another `key=` follows (a query string). Nested objects and arrays open before the value.
_Q = r"""(?:\\?["'])?"""
FIELD = re.compile(
    r"""(?:^|(?<=[;,{\[\n\t&?|]))[ \t]*"""
    + _Q
    + r"""(?P<key>[A-Za-z][A-Za-z0-9 _.-]{0,40}?)"""
    + _Q
    + r"""[ \t]*(?::|=>?)[ \t]*\[?[ \t]*"""
    + _Q
    + r"""(?P<value>(?:[^;\n"',}\]\\]|\\(?!["'])){1,200}?)"""
    + _Q
    + r"""[ \t]*(?=$|[;,}\n\]|]|&[A-Za-z_][A-Za-z0-9_.\-]{0,40}=)""",
    re.MULTILINE,
)
_ARRAY_ITEM = re.compile(
    r""",[ \t]*+""" + _Q + r"""(?P<value>(?:[^;\n"',}\]\\]|\\(?!["'])){1,200}?)""" + _Q + r"""[ \t]*(?=[,\]])"""
)
MAX_ITEMS = 1000
_XML_FIELD = re.compile(
    r"<(?P<key>[A-Za-z][A-Za-z0-9_.\-]{0,40})(?:[ \t][^<>\n]{0,200})?>(?P<value>[^<>\n]{1,200})</(?P=key)>"
)
# A table in text: a header line of field names, then rows with as many cells (CSV with `,` `;` or tabs, or
# Markdown and ASCII tables with `|`).
_LINE = re.compile(r"[^\n]+")
_TABLE_SEPARATORS = (",", ";", "\t", "|")
_RULE_LINE = re.compile(r"[|+:\- \t=]+")
MAX_HEADER_CELLS = 60
# A header cell is a field name of one to three words (`full_name`, `Date of birth`): a line of prose with commas
# is no header, and its pieces are not looked up.
_HEADER_CELL = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,40}(?: [A-Za-z0-9_.\-]{1,20}){0,2}")


def _cells(line: str, sep: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of a line split at `sep`, quotes and the outer pipes of a Markdown row left out."""
    spans: list[tuple[int, int]] = []
    start = 0
    body_end = len(line)
    if sep == "|":
        stripped = line.strip()
        if stripped.startswith("|"):
            start = line.index("|") + 1
        if stripped.endswith("|"):
            body_end = line.rindex("|")
    while start <= body_end:
        first = start + len(line[start:body_end]) - len(line[start:body_end].lstrip(" \t"))
        close = _closing_quote(line, first, body_end, sep) if line.startswith('"', first) else -1
        end = line.find(sep, close if close >= 0 else start, body_end)
        end = body_end if end < 0 else end
        a, b = start, end
        while a < b and line[a] in " \t\"'":
            a += 1
        while b > a and line[b - 1] in " \t\"'\r":
            b -= 1
        spans.append((a, b))
        start = end + 1
    return spans


def _closing_quote(line: str, start: int, end: int, sep: str) -> int:
    """The index of the quote that closes the quoted cell opening at `start` (`""` is a quote inside), or -1."""
    pos = start + 1
    while pos < end:
        pos = line.find('"', pos, end)
        if pos < 0:
            return -1
        if line.startswith('""', pos):
            pos += 2
            continue
        return pos
    return -1


def _table_cells(text: str) -> Iterator[tuple[str, int, int]]:
    """The cells of each table in `text` whose header names a personal field, with their header as key."""
    lines = [(m.start(), m.group(0)) for m in _LINE.finditer(text)] if "\n" in text else []
    i = 0
    while i < len(lines) - 1:
        offset, line = lines[i]
        sep = next((c for c in _TABLE_SEPARATORS if 1 <= line.count(c) <= MAX_HEADER_CELLS), None)
        header = [line[a:b] for a, b in _cells(line, sep)] if sep is not None else []
        if sep is None or not all(_HEADER_CELL.fullmatch(h) for h in header) or not any(map(field_entity, header)):
            i += 1
            continue
        i += 1
        while i < len(lines):
            offset, row = lines[i]
            if _RULE_LINE.fullmatch(row):  # `|---|---|` under a Markdown header
                i += 1
                continue
            cells = _cells(row, sep)
            if len(cells) != len(header):
                break
            for name, (a, b) in zip(header, cells, strict=True):
                if b > a:
                    yield name, offset + a, offset + b
            i += 1


# In free text a bare `name`/`customer`/`contact` field is a person (a catalogue column would be
# classified by its values instead, but a document has no column statistics).
PERSON_FIELDS = {
    "name",
    "customer",
    "contact",
    "employee",
    "owner",
    "recipient",
    "sender",
    "patient",
    "to",
    "from",
    "cc",
    "bcc",
    "attn",
    "signed",
}
RECORD_OF_A_PERSON = TableContext("person", False, "a field in free text")
SCORE = 0.85
SKIP = {"SECRET", "BINARY"}  # secrets have their own recognizers with exact spans


@lru_cache(maxsize=4096)
def field_entity(key: str) -> str | None:
    """The entity type of the values of a field named `key` in free text, or None; a plural names the same
    field (`emails`, `phone_numbers`)."""
    entity = _entity_of_field(key)
    if entity is None and key.lower().endswith("s") and len(key) > 3:
        entity = _entity_of_field(key[:-1])
    return entity


def _entity_of_field(key: str) -> str | None:
    words = key.strip().lower()
    if words in PERSON_FIELDS:
        return "PERSON"
    # A field of a record in free text describes a person unless it says otherwise: a `salary` or `diagnosis`
    # there is the SENSITIVE attribute of one.
    cls = classify_by_name(key.strip(), "TEXT", RECORD_OF_A_PERSON)
    if cls is None or cls.kind != "pii" or cls.entity in SKIP:
        return None
    return cls.entity


class FieldValueRecognizer(TextRecognizer):
    """The value after a field name that the column classifier would call personal (`field_entity`)."""

    ENTITIES = (*(e for e in NAME_RULE_ENTITIES if e not in SKIP), "SENSITIVE")

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        results = []
        for key, start, end in self._fields(text):
            entity = field_entity(key)
            value = text[start:end].strip()
            if entity is None or not value or (entities and entity not in entities):
                continue
            start += text[start:end].index(value)
            results.append(result(self, entity, start, start + len(value), SCORE, f"value of field {key}"))
        return results

    @staticmethod
    def _fields(text: str) -> Iterator[tuple[str, int, int]]:
        """(key, value start, value end) of every field: `key: value` pairs, the items of an array after a
        key (`"emails": ["a", "b"]`), XML elements (`<ssn>…</ssn>`) and the cells of a table under its header."""
        for match in FIELD.finditer(text):
            key = match.group("key")
            yield key, match.start("value"), match.end("value")
            if "[" in text[match.end("key") : match.start("value")]:
                pos = match.end()
                for _ in range(MAX_ITEMS):
                    item = _ARRAY_ITEM.match(text, pos)
                    if item is None:
                        break
                    yield key, item.start("value"), item.end("value")
                    pos = item.end()
        if "</" in text:
            for match in _XML_FIELD.finditer(text):
                yield match.group("key"), match.start("value"), match.end("value")
        yield from _table_cells(text)


# -- cue words: "my name is ...", "Ms. ...", "zip code ..." ----------------------------------------

_NAME_WORD = r"[^\W\d_]+(?:['’\-][^\W\d_]+)*"
# After these the name may be in any case ("my name is borna jerković").
_STRONG_CUE = re.compile(
    r"(?i)(?<![\w])(?:(?:my|his|her|their|maiden|full|first|last|given|family|legal|real|the)\s+)?name\s*(?:is|was|:)"
    r"|(?<![\w])(?:call(?:s|ed)?\s+me|named|goes\s+by)"
    r"|(?<![\w])(?:mr|mrs|ms|miss|mx|dr|prof|mme|mlle|herr|frau|sra|srta)\.?(?=\s)"
)
# After these only capitalised words count ("I'm Misty", not "I'm sorry").
_WEAK_CUE = re.compile(
    r"(?i)(?<![\w])(?:i'm|i’m|i\s+am|this\s+is|dear|hi|hello|hey|thanks|thank\s+you|regards,|sincerely,|cheers,"
    r"|attn:?|attention:|c/o|ask(?:\s+for)?|speak\s+(?:to|with)|talk\s+to|spoke\s+(?:to|with)|talked\s+to|add|adding"
    r"|beneficiary|signed,?)(?=\s)"
)
# A sign-off ("Best regards,", "See you on the trail,", "Mit freundlichen Grüßen") at the start of a line or a
# sentence: the capitalised words after it (on the next line, or after its comma) are the sender's name.
_SIGN_OFF = re.compile(
    r"(?im)(?:^|(?<=[.!?]\s))[ \t]*(?:(?:best|kind|warm|warmest|many)\s+)?"
    r"(?:regards|wishes|thanks|thank\s+you|sincerely|cheers"
    r"|yours(?:\s+(?:truly|sincerely|faithfully))?|warmly|cordially|respectfully|best|take\s+care|talk\s+soon"
    r"|see\s+you[^\n,]{0,30}|all\s+the\s+best|mit\s+freundlichen\s+grüßen|viele\s+grüße|liebe\s+grüße"
    r"|cordialement|bien\s+à\s+vous|saludos|atentamente|un\s+saludo|cordiali\s+saluti|distinti\s+saluti"
    r"|atenciosamente|abraços|met\s+vriendelijke\s+groet(?:en)?|groeten)"
    r"(?:[ \t]*[,!][ \t]*(?:\r?\n[ \t]*){0,2}|[ \t]*(?:\r?\n[ \t]*){1,2})"
)
_NOT_NAMES = frozenset(
    [
        "team",
        "all",
        "everyone",
        "everybody",
        "there",
        "support",
        "guys",
        "folks",
        "sir",
        "madam",
        "customer",
        "customers",
        "client",
        "clients",
        "user",
        "users",
        "friend",
        "friends",
        "again",
        "both",
        "colleagues",
        "colleague",
        "sorry",
        "fine",
        "good",
        "great",
        "glad",
        "happy",
        "sure",
        "ok",
        "okay",
        "not",
        "unknown",
        "withheld",
        "redacted",
        "none",
        "n/a",
        "na",
        "here",
        "new",
        "back",
        "available",
        "interested",
        "writing",
        "calling",
        "trying",
        "going",
        "looking",
    ]
)
_ZIP_CUE = re.compile(
    r"(?i)(?<![\w])(?:zip|zip\s*code|zipcode|postal\s*code|postcode|post\s*code|plz|cap|cp)\s*(?:is|:|#|no\.?)?\s*"
    r"(?P<zip>\d{3,6}(?:[- ]\d{2,4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})(?![\w])"
)
# A capitalised name right before a verb of contact: "Luca called twice", "Priya Nair emailed the invoice".
_NAME_BEFORE_VERB = re.compile(
    r"(?<![\w'’-])(?P<name>[A-Z][^\W\d_]+(?:['’-][^\W\d_]+)?(?: [A-Z][^\W\d_]+(?:['’-][^\W\d_]+)?)?)"
    r" (?:called|phoned|rang|emailed|e-mailed|texted|wrote|replied|complained|confirmed|requested|visited|asked"
    r"|ordered|booked|paid)\b"
)
NAME_SCORE = 0.75
ZIP_SCORE = 0.8
NUMBER_SCORE = 0.75
# "number is", "no.:", "#" between a cue and its value.
_NUMBER_LABEL = r"(?:\s*(?:number|num|no\.?|#))?\s*(?:is|was|:|=)?\s*"
# Identifiers announced by the words before them (`phone:\n0393 1144137`, `driver's license number is
# 5130634`), which have no shape of their own or fail a checksum the writer did not care about.
_NUMBER_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "PHONE_NUMBER",
        re.compile(
            r"(?i)(?<![\w])(?:phone|telephone|tel\.?|mobile|cell(?:phone)?|fax|whatsapp"
            r"|call(?:ed|ing)?\s+(?:me\s+)?(?:from|at|on)|reach(?:ed)?\s+(?:me\s+)?at|text(?:ed)?\s+(?:me\s+)?at)"
            + _NUMBER_LABEL
            + r"(?P<value>\+?\(?\d[\d ().\-]{4,18}\d)(?![\w])"
        ),
    ),
    (
        "US_DRIVER_LICENSE",
        re.compile(
            r"(?i)(?<![\w])(?:driver'?s?|driving)\s+licen[cs]e"
            + _NUMBER_LABEL
            + r"(?P<value>[A-Z0-9][A-Z0-9\-]{4,19})(?![\w-])"
        ),
    ),
    ("US_PASSPORT", re.compile(r"(?i)(?<![\w])passport" + _NUMBER_LABEL + r"(?P<value>[A-Z0-9]{6,12})(?![\w-])")),
    (
        "CREDIT_CARD",
        re.compile(
            r"(?i)(?<![\w])(?:credit|debit)\s+card" + _NUMBER_LABEL + r"(?P<value>\d(?:[ -]?\d){11,18})(?![\w-])"
        ),
    ),
    (
        "US_BANK_NUMBER",
        re.compile(
            r"(?i)(?<![\w])(?:bank\s+)?account\s*(?:number|num|no\.?|#)\s*(?:is|was|:|=)?\s*"
            r"(?P<value>\d[\d -]{4,22}\d)(?![\w-])"
        ),
    ),
)
_DIGITS = re.compile(r"\d")


class CueRecognizer(TextRecognizer):
    """Values announced by the words before them: a name after "my name is" / "Ms." / "I'm", a postcode
    after "zip code", a phone, licence, passport, card or account number after its name. The name is one
    to four words (initials allowed), never a stop word; after the weak cues ("I'm", "hi", "dear") every
    word must be capitalised. The honorific is not part of the name."""

    ENTITIES = (
        "PERSON",
        "POSTAL_CODE",
        "PHONE_NUMBER",
        "US_DRIVER_LICENSE",
        "US_PASSPORT",
        "CREDIT_CARD",
        "US_BANK_NUMBER",
    )

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        results = []
        if not entities or "PERSON" in entities:
            for cue, capitalised in ((_STRONG_CUE, False), (_WEAK_CUE, True)):
                for match in cue.finditer(text):
                    span = _name_after(text, match.end(), capitalised)
                    if span is not None:
                        results.append(self._result("PERSON", *span, NAME_SCORE, match.group(0)))
            for match in _SIGN_OFF.finditer(text):
                line_end = text.find("\n", match.end())
                line = text if line_end < 0 else text[:line_end]
                start = match.end() + len(line[match.end() :]) - len(line[match.end() :].lstrip())
                span = _name_after(line, start, True)
                if span is not None:
                    results.append(self._result("PERSON", *span, NAME_SCORE, "sign-off"))
            for match in _NAME_BEFORE_VERB.finditer(text):
                words = [w.lower() for w in match.group("name").split()]
                if not any(w in STOP_WORDS or w in _NOT_NAMES for w in words):
                    verb = text[match.end("name") : match.end()]
                    results.append(self._result("PERSON", match.start("name"), match.end("name"), NAME_SCORE, verb))
        if not entities or "POSTAL_CODE" in entities:
            for match in _ZIP_CUE.finditer(text):
                start, end = match.start("zip"), match.end("zip")
                results.append(self._result("POSTAL_CODE", start, end, ZIP_SCORE, "postcode"))
        for entity, cue in _NUMBER_CUES:
            if entities and entity not in entities:
                continue
            for match in cue.finditer(text):
                value = match.group("value")
                digits = len(_DIGITS.findall(value))
                if digits >= 5 and not (entity == "PHONE_NUMBER" and digits > 15):
                    cue_words = text[match.start() : match.start("value")]
                    results.append(
                        self._result(entity, match.start("value"), match.end("value"), NUMBER_SCORE, cue_words)
                    )
        return results

    def _result(self, entity: str, start: int, end: int, score: float, cue: str) -> RecognizerResult:
        return result(self, entity, start, end, score, f"after {cue.strip()!r}")


_WORD_AT = re.compile(r"[ \t]*(?:(?P<initial>[^\W\d_]\.?)(?=\s)|(?P<word>" + _NAME_WORD + r"))")


def _name_after(text: str, pos: int, capitalised: bool) -> tuple[int, int] | None:
    """The span of one to four name words starting right after `pos`, or None."""
    start = end = -1
    words = 0
    while words < 4:
        match = _WORD_AT.match(text, pos)
        if match is None:
            break
        word = match.group("word") or match.group("initial") or ""
        low = word.lower().rstrip(".")
        is_initial = match.group("initial") is not None and words > 0
        if not is_initial:
            if low in STOP_WORDS or low in _NOT_NAMES or (capitalised and not word[:1].isupper()):
                break
            if not capitalised and words and not word[:1].isupper() and text[pos : match.start("word")] != " ":
                break
        if start < 0:
            start = match.start("word") if match.group("word") else match.start("initial")
        end, pos = match.end(), match.end()
        words += 1
    if start < 0 or (end - start) < 2:
        return None
    while end > start and text[end - 1] == ".":
        end -= 1
    return start, end
