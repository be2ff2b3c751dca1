"""Column classification: which columns hold personal data, which hold free text, which are clear.

Decided once per column and cached by the caller, in this order: the declared policy in config,
then the column's name and type, then statistics over sampled values. A personal column is masked
whole (a bare first name is still a name because the column says so); a free-text column is scanned
value by value; a clear column is returned as it is and never sent to NER.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from mcp_server.config import ColumnOverride
from mcp_server.masking.context import THING_NAME_WORDS, UNKNOWN, TableContext, contains, words
from mcp_server.masking.findings import Finding
from mcp_server.masking.stop_words import STOP_WORDS
from mcp_server.vocabulary import NATIONAL_ID_TYPES, PATTERN_ENTITIES, ColumnKind, PredicateMode

Confidence = Literal["high", "medium", "low"]


@dataclass(frozen=True)
class ColumnClass:
    kind: ColumnKind
    entity: str | None
    reason: str
    predicates: PredicateMode = "any"
    # high: declared, or decided by the column's name; medium: by its values or the table's context; low: too
    # few values to be sure (the decision then leans to scanning or masking, never to clear on NER's word alone)
    confidence: Confidence = "high"
    # text only: False for descriptions of things in a table not about people (a film's plot, a product's
    # description), where names and places that only NER finds (`Ancient China`, `Mad Scientist`) stay clear;
    # patterns, cue words and known values of the source are still masked
    names: bool = True
    # text only: the sampled values held identifiers found by their pattern (an e-mail, an SSN, a card, a key),
    # which no reading of the column as names of things makes clear
    identifiers: bool = False

    def explained(self) -> ColumnClass:
        """The same decision with its confidence at the end of the reason (what `maskwire check` prints)."""
        suffix = f"; confidence {self.confidence}"
        return self if self.reason.endswith(suffix) else replace(self, reason=self.reason + suffix)

    @property
    def label(self) -> str:
        if self.kind == "pii":
            return f"masked as {self.entity}"
        return "scanned for personal data" if self.kind == "text" else "clear"


_words = words


# (entity, any of these word sequences as a contiguous run in the column name)
_NAME_RULES: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    (
        "SECRET",
        (
            ("password",),
            ("passwd",),
            ("pw",),
            ("pwd",),
            ("pass", "hash"),
            ("api", "key"),
            ("apikey",),
            ("secret",),
            ("access", "token"),
            ("refresh", "token"),
            ("auth", "token"),
            ("private", "key"),
        ),
    ),
    ("EMAIL_ADDRESS", (("email",), ("e", "mail"), ("mail",), ("emailaddress",), ("eml",), ("correo",), ("courriel",))),
    ("IP_ADDRESS", (("ip",), ("ip", "address"), ("ipaddr",))),
    (
        "PHONE_NUMBER",
        (
            ("phone",),
            ("telephone",),
            ("tel",),
            ("mobile",),
            ("cell",),
            ("fax",),
            ("msisdn",),
            ("phonenumber",),
            ("telefono",),
            ("teléfono",),
            ("telefon",),
            ("téléphone",),
            ("telephone",),
            ("movil",),
        ),
    ),
    (
        "US_SSN",
        (
            ("ssn",),
            ("social", "security"),
            ("sin",),
            ("nino",),
            ("national", "id"),
            ("nationalid",),
            ("tax", "id"),
            ("taxid",),
            ("taxpayer",),
            ("tin",),
            ("itin",),
            ("tax", "number"),
            ("tax", "no"),
        ),
    ),
    (
        "CREDIT_CARD",
        (
            ("card", "number"),
            ("card", "no"),
            ("card", "num"),
            ("cc", "number"),
            ("cc", "num"),
            ("ccnumber",),
            ("credit", "card"),
            ("pan",),
            ("cardnumber",),
            ("cvv",),
            ("cvc",),
            ("csc",),
            ("card", "security"),
            ("security", "code"),
        ),
    ),
    ("IBAN_CODE", (("iban",), ("bank", "account"), ("account", "number"))),
    ("US_PASSPORT", (("passport",),)),
    (
        "US_DRIVER_LICENSE",
        (
            ("driver", "license"),
            ("drivers", "license"),
            ("driver", "licence"),
            ("driving", "licence"),
            ("dl", "number"),
        ),
    ),
    (
        "DATE_OF_BIRTH",
        (
            ("birth",),
            ("dob",),
            ("birthday",),
            ("birthdate",),
            ("born",),
            ("geburtsdatum",),
            ("geburtstag",),
            ("nacimiento",),
            ("naissance",),
            ("nascita",),
        ),
    ),
    ("USERNAME", (("username",), ("user", "name"), ("login",), ("handle",), ("screen", "name"))),
    (
        "PERSON",
        (
            ("first", "name"),
            ("firstname",),
            ("given", "name"),
            ("fname",),
            ("last", "name"),
            ("lastname",),
            ("surname",),
            ("family", "name"),
            ("lname",),
            ("full", "name"),
            ("fullname",),
            ("middle", "name"),
            ("maiden", "name"),
            ("nickname",),
            ("nick", "name"),
            ("preferred", "name"),
            ("display", "name"),
            ("contact", "name"),
            ("customer", "name"),
            ("employee", "name"),
            ("patient", "name"),
            ("maiden",),
            ("fn",),
            ("ln",),
            ("nombre",),
            ("apellido",),
            ("apellidos",),
            ("vorname",),
            ("nachname",),
            ("familienname",),
            ("prenom",),
            ("prénom",),
            ("nom",),
            ("cognome",),
            ("nome",),
            ("achternaam",),
            ("voornaam",),
        ),
    ),
    (
        "POSTAL_CODE",
        (
            ("zip",),
            ("zipcode",),
            ("postal", "code"),
            ("postalcode",),
            ("postcode",),
            ("plz",),
        ),
    ),
    (
        "STREET_ADDRESS",
        (
            ("address",),
            ("street",),
            ("addr",),
            ("address", "line"),
            ("direccion",),
            ("dirección",),
            ("domicilio",),
            ("calle",),
            ("strasse",),
            ("straße",),
            ("adresse",),
            ("anschrift",),
            ("indirizzo",),
        ),
    ),
    (
        "LOCATION",
        (
            ("city",),
            ("ciudad",),
            ("stadt",),
            ("ville",),
            ("town",),
            ("citta",),
            ("città",),
        ),
    ),
    ("ORGANIZATION", (("company",), ("employer",))),
    ("COORDINATE", (("lat",), ("latitude",), ("lng",), ("lon",), ("longitude",), ("geo", "lat"), ("geo", "lon"))),
)

# Every entity type a column name can decide.
NAME_RULE_ENTITIES: tuple[str, ...] = tuple(dict.fromkeys(entity for entity, _ in _NAME_RULES))

# Places at region or country level: not personal by themselves (HIPAA Safe Harbor keeps states too).
_REGION_WORDS = {"state", "province", "region", "county", "country", "district", "territory", "continent", "nation"}
# Column-name prefixes of a sale's destination: `ShipCity` is where an order went, a business dimension.
_SHIPPING_WORDS = {"ship", "shipping", "delivery", "destination"}
_TEXT_WORDS = {
    "synopsis",
    "overview",
    "blurb",
    "notes",
    "note",
    "comment",
    "comments",
    "body",
    "description",
    "message",
    "text",
    "content",
    "remarks",
    "details",
    "summary",
    "bio",
    "memo",
    "feedback",
}
# Text columns that describe the row's thing (a film, a product), not a person or a conversation.
_DESCRIPTION_WORDS = {"description", "synopsis", "overview", "blurb"}
_KEY_WORDS = {"id", "uuid", "guid", "pk", "fk", "sku"}
_TEXTUAL_ENTITIES = {"EMAIL_ADDRESS", "PERSON", "USERNAME", "ORGANIZATION", "SECRET", "IP_ADDRESS"}
_NUMERIC_TYPES = ("INT", "REAL", "FLOA", "DOUB", "NUMERIC", "DECIMAL", "BOOL", "MONEY", "SERIAL")
_DATE_TYPES = ("DATE", "TIME")


_contains = contains


def _in_context(entity: str, run: Sequence[str], column: str, context: TableContext) -> ColumnClass:
    """A name rule's decision where the table decides: places, organisations, coordinates, generic names."""
    personal = ColumnClass("pii", entity, f"name ({column})", "equality")
    if entity == "ORGANIZATION":
        return ColumnClass("clear", None, f"name ({column}): organisation names are not personal by themselves")
    if entity == "LOCATION":
        if context.of_people:
            return replace(personal, reason=f"name ({column}) in a person's address ({context.reason})")
        shipping = bool(_words(column)) and _words(column)[0] in _SHIPPING_WORDS
        if context.subject == "unknown" and context.has_street and not shipping:
            return replace(personal, reason=f"name ({column}) next to a street address", confidence="medium")
        return ColumnClass("clear", None, f"name ({column}): a city of an organisation or a sale ({context.reason})")
    if entity == "COORDINATE":
        if context.subject == "organisation":
            return ColumnClass("clear", None, f"name ({column}): coordinates of an organisation ({context.reason})")
        return replace(personal, confidence="high" if context.of_people else "medium")
    if entity == "PERSON" and run in (("customer", "name"), ("name",)) and context.subject == "organisation":
        return ColumnClass("clear", None, f"name ({column}) of an organisation ({context.reason})")
    return personal


def classify_by_name(column: str, sql_type: str, context: TableContext = UNKNOWN) -> ColumnClass | None:
    """A decision from the name and type alone (and the table's context), or None when the values must decide."""
    words = _words(column)
    type_upper = sql_type.upper()
    is_key = bool(words) and words[-1] in _KEY_WORDS
    is_number = any(t in type_upper for t in _NUMERIC_TYPES)
    is_date = any(t in type_upper for t in _DATE_TYPES)
    if words and (
        words[-1] in _REGION_WORDS or (words[0] in _REGION_WORDS and words[-1] in {"code", "name", "description"})
    ):
        return ColumnClass("clear", None, f"name ({column}): a region or country is not personal by itself")
    for entity, runs in _NAME_RULES:
        run = next((r for r in runs if _contains(words, r)), None)
        if run is None or (is_key and run[-1] not in _KEY_WORDS):
            continue  # address_id is a key, not an address
        if (is_date and entity not in ("DATE_OF_BIRTH", "DATE_TIME")) or (is_number and entity in _TEXTUAL_ENTITIES):
            continue  # last_login_at is a timestamp, not a username
        return _in_context(entity, run, column, context)
    sensitive = _sensitive_attribute(words)
    if sensitive is not None and context.of_people and not is_key:
        return ColumnClass(
            "pii",
            "SENSITIVE",
            f"name ({column}): {sensitive} of a person, in a table of people ({context.reason})",
            "equality",
        )
    if words == ["name"] and context.of_people:
        return ColumnClass("pii", "PERSON", f"name ({column}) in a table of people ({context.reason})", "equality")
    if words == ["name"] and context.subject == "organisation":
        return ColumnClass("clear", None, f"name ({column}) of an organisation ({context.reason})")
    if is_key:
        return ColumnClass("clear", None, f"key ({column})")
    if is_number or is_date:
        return by_type(sql_type)
    if type_upper in {"BLOB", "BYTEA", "BINARY", "VARBINARY", "LONGBLOB"}:
        return ColumnClass("pii", "BINARY", f"type {sql_type} (binary is never returned)", "none")
    if set(words) & _TEXT_WORDS:
        if set(words) & _DESCRIPTION_WORDS and context.names_things and context.subject != "person":
            reason = f"name ({column}): describes a thing named in its table, names and places by NER left clear"
            return ColumnClass("text", None, reason, names=False)
        return ColumnClass("text", None, f"name ({column})")
    return None


# Attributes of a person that are not identifiers but are what a breach is about: health, pay, and the special
# categories of personal data (GDPR art. 9; criminal records, art. 10). Masked in a table of people; the
# hipaa-safe-harbor preset shows them (Safe Harbor removes identifiers, not diagnoses).
_SENSITIVE_WORDS: dict[str, frozenset[str]] = {
    "health data": frozenset(
        {
            "diagnosis",
            "diagnoses",
            "diagnosed",
            "illness",
            "disease",
            "diseases",
            "medication",
            "medications",
            "prescription",
            "prescriptions",
            "allergy",
            "allergies",
            "symptom",
            "symptoms",
            "icd",
            "icd10",
            "disability",
            "disabilities",
            "hiv",
            "pregnancy",
            "treatment",
            "condition",
            "conditions",
            "bloodtype",
            "genotype",
            "genetic",
        }
    ),
    "pay": frozenset({"salary", "salaries", "wage", "wages", "income", "compensation", "payroll"}),
    "a special category": frozenset(
        {
            "religion",
            "religious",
            "ethnicity",
            "ethnic",
            "race",
            "sexuality",
            "orientation",
            "political",
            "criminal",
            "conviction",
            "convictions",
            "offence",
            "offense",
            "biometric",
        }
    ),
}


def _sensitive_attribute(words: Sequence[str]) -> str | None:
    for kind, vocabulary in _SENSITIVE_WORDS.items():
        if any(w in vocabulary for w in words):
            return kind
    if "blood" in words and "type" in words:
        return "health data"
    return None


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ANY_DATE = re.compile(
    r"^(?:(?P<y1>\d{4})[-/.](?P<m1>\d{1,2})[-/.](?P<d1>\d{1,2})|(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y2>\d{4}))"
    r"(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_LONG_NUMBER = re.compile(r"\d{5,}")
_VALUE_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def name_words(text: str) -> list[str]:
    """The words of a value, as the value rules read them (letters, with inner apostrophes and hyphens)."""
    return _VALUE_WORD.findall(text)


_NAME_PARTICLES = {
    "de",
    "del",
    "della",
    "di",
    "da",
    "do",
    "dos",
    "du",
    "la",
    "le",
    "van",
    "von",
    "der",
    "den",
    "ter",
    "y",
}


def is_date_type(sql_type: str) -> bool:
    """A DATE, DATETIME, TIMESTAMP or TIME column (not a key or a number)."""
    upper = sql_type.upper()
    return any(t in upper for t in _DATE_TYPES) and not any(t in upper for t in _NUMERIC_TYPES)


def _birth_years(texts: Sequence[str]) -> bool:
    """Dates that look like birth dates: nearly all parse, lie 15 to 110 years back, over 15+ years."""
    import datetime as dt

    this_year = dt.date.today().year
    years = []
    for t in texts:
        m = _ANY_DATE.match(t)
        if m is None:
            continue
        years.append(int(m.group("y1") or m.group("y2")))
    if len(years) < max(5, 0.9 * len(texts)):
        return False
    old = sum(1 for y in years if this_year - 110 <= y <= this_year - 15)
    return old >= 0.8 * len(years) and max(years) - min(years) >= 15


def _lexicon(analyze: Callable[..., object]) -> frozenset[str]:
    """English words known to the detector behind `analyze` (empty when unknown: the word rules stay off)."""
    owner = getattr(analyze, "__self__", None)
    words = getattr(owner, "english_words", None)
    return words() if callable(words) else frozenset()


def _known(word: str, words: frozenset[str]) -> bool:
    """An English word (WordNet lemma index of the spaCy pipeline, plus stop words and simple inflections)."""
    w = word.lower().replace("’", "'")
    if w in words or w in STOP_WORDS:
        return True
    for suffix, repl in (
        ("ies", "y"),
        ("es", ""),
        ("s", ""),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
        ("'s", ""),
    ):
        if w.endswith(suffix) and len(w) > len(suffix) + 1 and w[: -len(suffix)] + repl in words:
            return True
    return False


# The separator inside a word is required: an optional one (`(?:['.-]?\w+)*`) backtracks exponentially.
_NAME_VALUE = re.compile(r"^[^\W\d_]+(?:['’.-][^\W\d_]+)*\.?(?:,? [^\W\d_]+(?:['’.-][^\W\d_]+)*\.?){0,3}$")


def _name_shaped(text: str) -> bool:
    """One to four capitalised (or all-caps) words of letters, no stop words but particles: `María José`,
    `VAN DIJK`, `O'Brien`. Titles (`Balls to the Wall`), labels (`Mouse - Navy`), codes (`SKU-12`) are not."""
    if len(text) > 60 or not _NAME_VALUE.match(text):
        return False
    for w in _VALUE_WORD.findall(text):
        low = w.lower()
        if low in _NAME_PARTICLES:
            continue
        if not w[0].isupper() or (low in STOP_WORDS and len(w) > 1):
            return False
    return True


def _title_like(texts: Sequence[str]) -> bool:
    """Short values whose words are mostly capitalised (`Balls to the Wall`, `Wireless Mouse - Navy`) or
    one or two words (`shipped`, `Rock`), rather than sentences."""
    short = sum(1 for t in texts if len(t.split()) <= 2)
    if short >= 0.8 * len(texts):
        return True
    content = [w for t in texts for w in _VALUE_WORD.findall(t) if w.lower() not in STOP_WORDS]
    return bool(content) and sum(1 for w in content if w[0].isupper()) >= 0.6 * len(content)


# Password hashes in the modular crypt format and its relatives: bcrypt `$2b$12$...`, `$argon2id$...`,
# `$scrypt$`, `$pbkdf2-sha256$`, sha512-crypt `$6$`, md5-crypt `$1$`, Django `pbkdf2_sha256$...`.
_PASSWORD_HASH = re.compile(
    r"^(?:\$(?:2[abxy]?|argon2(?:id|i|d)|scrypt|pbkdf2(?:-sha\d+)?|[156]|sha(?:256|512)?|y|gy|7)\$"
    r"|(?:pbkdf2_sha\d+|bcrypt(?:_sha256)?|argon2|scrypt)\$)\S{16,}$"
)
_GENERATED_PASSWORD = re.compile(r"^[A-Za-z0-9!@#$%^&*()_+=.?-]{8,64}$")
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{2,30}$")
_TRAILING_DIGITS = re.compile(r"[._-]?\d{1,4}$")
_POSTCODE_VALUE = re.compile(r"^\d{3,6}(?:[- ]\d{2,4})?$|^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$|^[A-Z]\d[A-Z] ?\d[A-Z]\d$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
# Hex digests of MD5, SHA-1, SHA-256 and SHA-512 length (`5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8`).
_DIGEST = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})$", re.IGNORECASE)
_WORD_NUMBER = re.compile(r"(?<=[^\W\d_])\d{1,4}\b")
_NINE_DIGITS = re.compile(r"^\d{9}$")
_CODE = re.compile(r"^[A-Z0-9]{1,4}$")
DIGESTS_REASON = "values are hex digests"
# Fewer distinct values than this: a decision from NER's guesses alone is low confidence.
FEW_VALUES = 5


def _password_like(text: str) -> bool:
    """A generated password (`eiZookooB7`, `Aekie7ohs`): one run of 8+ characters with lower case, upper case
    and digits, where the capital is not only the first letter or the digits not only a trailing number (a
    username such as `Wasco1982` is neither). Hex digests and codes in capitals are not passwords."""
    if not _GENERATED_PASSWORD.match(text) or _HEX.match(text) or text.endswith("="):
        return False
    if not (any(c.islower() for c in text) and any(c.isupper() for c in text) and any(c.isdigit() for c in text)):
        return False
    inner_capital = any(c.isupper() for c in text[1:])
    inner_digit = any(c.isdigit() for c in _TRAILING_DIGITS.sub("", text))
    return inner_capital or inner_digit


def _username_like(text: str) -> bool:
    """One token of letters (lower case among them), maybe ending in a number: `Wasco1982`, `Fultses`."""
    return bool(_USERNAME.match(text)) and any(c.islower() for c in text) and " " not in text


def _json_document(text: str) -> bool:
    """A JSON object (`{"event": …, "changed": {…}}`), as an event log or a form keeps its fields. Arrays are lists
    of values (`["vip", "anna"]`) that the rules for short values read."""
    if not (text.startswith("{") and text.endswith("}")):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def by_type(sql_type: str) -> ColumnClass:
    """Numbers, flags and dates are clear by type (integers, unless identity numbers: `identity_numbers`)."""
    return ColumnClass("clear", None, f"type {sql_type}")


def is_integer_type(sql_type: str) -> bool:
    """INTEGER, BIGINT, INT8... (drivers return their values as `int`; not POINT, which holds `INT`)."""
    upper = sql_type.upper()
    return "INT" in upper and "POINT" not in upper


def identity_numbers(values: Sequence[object]) -> ColumnClass | None:
    """An identity number stored as a number (`taxpayer_no INTEGER` holding `358514232`): the values of an integer
    column that `classify_by_values` would call national numbers written without separators. A leading zero is lost
    in a number (`012345678` is `12345678`), so seven- and eight-digit values count as nine when most have nine."""
    texts = [str(v) for v in values if isinstance(v, int) and not isinstance(v, bool) and v > 0]
    if len(texts) < 3:
        return None
    if sum(1 for t in texts if len(t) == 9) >= 0.7 * len(texts):
        texts = [t.zfill(9) if 7 <= len(t) <= 8 else t for t in texts]
    if _nine_digit_numbers(texts):
        return ColumnClass(
            "pii",
            "US_SSN",
            "values (distinct 9-digit numbers: national numbers stored as numbers)",
            "equality",
            "medium",
        )
    from mcp_server.masking.recognizers.national_ids import national_id  # Presidio: only for sampled values

    ids = Counter(entity for t in texts if len(t) >= 9 and (entity := national_id(t)))
    if sum(ids.values()) >= 0.3 * len(texts):
        share = sum(ids.values()) / len(texts)
        return ColumnClass(
            "pii",
            ids.most_common(1)[0][0],
            f"values ({share:.0%} national identity numbers, stored as numbers)",
            "equality",
        )
    return None


def _us_ssn_digits(text: str) -> bool:
    """Nine digits that are a valid US SSN once dashed (area not 000, 666 or 9xx; group and serial not zero)."""
    area, group, serial = text[:3], text[3:5], text[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _nine_digit_numbers(texts: Sequence[str]) -> bool:
    """A column of distinct 9-digit numbers kept as text, not a counter: national numbers written without
    separators (US SSN, Dutch BSN...). Order numbers and other keys are integers or grow row after row."""
    if len(set(texts)) < 3 or len(set(texts)) < 0.9 * len(texts):
        return False
    if sum(1 for t in texts if _NINE_DIGITS.match(t) and _us_ssn_digits(t)) < 0.8 * len(texts):
        return False
    numbers = [int(t) for t in texts if t.isdigit()]
    rising = sum(1 for a, b in itertools.pairwise(numbers) if b > a)
    return rising < 0.9 * (len(numbers) - 1)


def postcode_like(values: Sequence[str]) -> bool:
    """Nine in ten values shaped like postcodes (`3910`, `5000-047`, `SW1A 2AA`), several distinct, kept as
    text, and not a counter: numbers that grow row after row (`10000`, `10001`...) are keys."""
    texts = [v.strip() for v in values if v.strip()]
    if len(set(texts)) < 3 or sum(1 for t in texts if _POSTCODE_VALUE.match(t)) < 0.9 * len(texts):
        return False
    numbers = [int(t) for t in texts if t.isdigit()]
    rising = sum(1 for a, b in itertools.pairwise(numbers) if b > a)
    return not (len(numbers) >= 0.9 * len(texts) and rising >= 0.9 * (len(numbers) - 1))


def classify_by_values(
    column: str, values: Sequence[str], analyze: Callable[[Sequence[str], Sequence[str]], list[list[Finding]]]
) -> ColumnClass:
    """Statistics over distinct sampled values decide a column the name could not.

    In order: no values -> text (scanned, to be safe); birth-date-like dates -> DATE_OF_BIRTH; other dates,
    UUIDs, short numbers -> clear; long values -> text. Short values: half or more recognised whole -> pii;
    mostly name-shaped words that are not English words (`Hamanová`, `Kangerlussuaq`) -> pii; mostly
    English words in titles (`Balls to the Wall`, `Wireless Mouse`) -> clear unless a pattern (e-mail,
    phone, card...) is found in them; any other finding -> text; else clear.
    """
    texts = [v for v in (str(x).strip() for x in values) if v]
    if not texts:
        return ColumnClass("text", None, "no values to sample (scanned to be safe)")
    if sum(1 for t in texts if _json_document(t)) >= 0.5 * len(texts):
        # what a JSON document holds varies row by row (an event log, a form): the sample says nothing of the rest
        return ColumnClass("text", None, "values are JSON objects (scanned: each row holds its own fields)")
    if _birth_years(texts):
        return ColumnClass("pii", "DATE_OF_BIRTH", "values (dates 15 to 110 years back: birth dates)", "equality")
    if all(_ISO_DATE.match(t) or _ANY_DATE.match(t) for t in texts):
        return ColumnClass("clear", None, "values are dates")
    if all(_UUID.match(t) for t in texts):
        return ColumnClass("clear", None, "values are UUIDs")
    if all(_NUMBER.match(t) and len(re.sub(r"\D", "", t)) < 7 for t in texts):
        return ColumnClass("clear", None, "values are short numbers")
    if sum(1 for t in texts if _PASSWORD_HASH.match(t)) >= 0.8 * len(texts):
        return ColumnClass("pii", "SECRET", "values (password hashes)", "none")
    if len(set(texts)) >= 3 and sum(1 for t in texts if _DIGEST.match(t)) >= 0.8 * len(texts):
        # content checksums, unless the table is about people (`in_context`): then unsalted password hashes
        return ColumnClass("clear", None, DIGESTS_REASON, confidence="medium")
    if _nine_digit_numbers(texts):
        return ColumnClass(
            "pii",
            "US_SSN",
            "values (distinct 9-digit numbers: national numbers without separators)",
            "equality",
            "medium",
        )
    if all(_CODE.match(t) for t in texts):
        return ColumnClass("clear", None, "values are short codes (`AIA`, `B2`)", confidence="medium")
    if len(set(texts)) >= 3 and sum(1 for t in texts if _password_like(t)) >= 0.8 * len(texts):
        return ColumnClass("pii", "SECRET", "values (generated passwords: mixed case and digits)", "none")
    avg_words = sum(len(t.split()) for t in texts) / len(texts)
    findings = analyze(texts, _words(column))
    whole: Counter[str] = Counter()
    partial: Counter[str] = Counter()
    for text, found in zip(texts, findings, strict=True):
        covered = sum(f.end - f.start for f in found)
        if found and covered >= 0.6 * len(text):
            whole[max(found, key=lambda f: f.end - f.start).entity] += 1
        for f in found:
            partial[f.entity] += 1
    if avg_words > 6:
        return ColumnClass("text", None, f"values are free text (avg {avg_words:.0f} words)")
    from mcp_server.masking.recognizers.national_ids import national_id  # Presidio: only for sampled values

    ids = Counter(entity for t in texts if (entity := national_id(t)))
    ids["US_SSN"] += whole["US_SSN"]
    # Random 9-12 digit numbers are valid numbers of some country 0.8% of the time (measured): three in ten is an
    # identity number column, even one that mixes countries with formats Maskwire cannot check.
    if sum(ids.values()) >= 0.3 * len(texts):
        share = sum(ids.values()) / len(texts)
        return ColumnClass(
            "pii", ids.most_common(1)[0][0], f"values ({share:.0%} national identity numbers)", "equality"
        )
    lexicon = _lexicon(analyze)
    words = [w for t in texts for w in _VALUE_WORD.findall(t)]
    known = sum(1 for w in words if _known(w, lexicon)) / len(words) if words else 0.0
    # numbered names of synthetic-patient extracts (`Ramiro608 Armstrong51`) are names once the numbers go
    shaped = sum(1 for t in texts if _name_shaped(_WORD_NUMBER.sub("", t))) / len(texts)
    titles = bool(lexicon) and bool(words) and known >= 0.6 and _title_like(texts)
    distinct = len(set(texts))
    coded = any(_LONG_NUMBER.search(t) for t in texts)  # `C536228194`: a code around a number, no label
    if lexicon and distinct < 15 and known >= 0.9 and not coded and not any(e in PATTERN_ENTITIES for e in partial):
        # a handful of English words repeated over the rows: statuses and categories (`Shipped`, `On Hold`)
        return ColumnClass(
            "clear",
            None,
            f"values are {distinct} labels of English words",
            confidence="low" if distinct < FEW_VALUES else "medium",
        )
    confidence: Confidence = "low" if distinct < FEW_VALUES else "medium"
    if whole:
        entity, hits = whole.most_common(1)[0]
        share = hits / len(texts)
        # NER's guesses on titles (`Wireless Mouse - Navy`, `Restless and Wild`) do not make a personal column
        if share >= 0.5 and (entity in PATTERN_ENTITIES or shaped >= 0.7 or not titles):
            if entity == "LOCATION" and distinct < FEW_VALUES:
                # two rows NER calls places are not a decision: scan the column value by value (names stay
                # masked, at low confidence: a miss there costs more than a false mask)
                return ColumnClass("text", None, f"values ({distinct} sampled: too few to decide)", confidence="low")
            return ColumnClass("pii", entity, f"values ({share:.0%} {entity})", "equality", confidence)
    usernames = sum(1 for t in texts if _username_like(t)) / len(texts)
    numbered = sum(1 for t in texts if _username_like(t) and _TRAILING_DIGITS.search(t)) / len(texts)
    if lexicon and usernames >= 0.8 and numbered >= 0.2 and known <= 0.45 and len(set(texts)) >= 0.9 * len(texts):
        return ColumnClass(
            "pii",
            "USERNAME",
            f"values ({usernames:.0%} one-word handles, {numbered:.0%} numbered)",
            "equality",
            confidence,
        )
    if lexicon and shaped >= 0.7 and known <= 0.45:
        ner = whole + partial
        entity = "LOCATION" if ner["LOCATION"] > 2 * ner["PERSON"] else "PERSON"
        return ColumnClass(
            "pii", entity, f"values ({shaped:.0%} name-shaped, {known:.0%} English words)", "equality", confidence
        )
    patterns = sum(n for e, n in partial.items() if e in PATTERN_ENTITIES)
    if titles and not patterns:
        return ColumnClass(
            "clear", None, f"values read as titles or labels ({known:.0%} English words)", confidence=confidence
        )
    if partial:
        share = sum(1 for found in findings if found) / len(texts)
        return ColumnClass(
            "text",
            None,
            f"values ({share:.0%} contain personal data)",
            confidence=confidence,
            identifiers=patterns > 0,
        )
    if distinct < FEW_VALUES:
        return ColumnClass("text", None, f"values ({distinct} sampled: too few to call clear)", confidence="low")
    return ColumnClass("clear", None, f"values ({len(texts)} sampled, none personal)", confidence=confidence)


# Entity types whose presence in a table shows that its rows are people.
_PEOPLE_EVIDENCE = frozenset(
    {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "DATE_OF_BIRTH", "USERNAME", "US_SSN", "CREDIT_CARD", "IBAN_CODE"}
    | set(NATIONAL_ID_TYPES)
)


def in_context(
    decided: Mapping[str, ColumnClass], by_values: Sequence[str], context: TableContext
) -> dict[str, ColumnClass]:
    """Second look at the columns decided by their values, now that the whole table is known.

    Place names (`Kabul`, `Noord-Holland`) and the names or titles of things (`languages.name`, a product's
    `title`) stay clear unless the table is about people: by its name or columns (`context`), or because another
    column holds names, e-mails, phones, birth dates or identity numbers of people.
    """
    out = dict(decided)
    for column in by_values:
        cls = decided[column]
        others = [c for name, c in decided.items() if name != column]
        people = context.of_people or any(c.kind == "pii" and c.entity in _PEOPLE_EVIDENCE for c in others)
        if people:
            if cls.kind == "clear" and cls.reason == DIGESTS_REASON:
                out[column] = ColumnClass(
                    "pii", "SECRET", f"{cls.reason} in a table about people: password hashes", "none", "medium"
                )
            continue
        thing_name = bool(_words(column)) and _words(column)[-1] in THING_NAME_WORDS
        if cls.kind == "pii" and cls.entity == "LOCATION" and not (context.has_street and context.subject == "unknown"):
            out[column] = ColumnClass(
                "clear",
                None,
                f"{cls.reason}: place names, not personal outside a person's address",
                confidence="medium",
            )
        elif thing_name and cls.kind == "text" and cls.identifiers:
            # a title holding an e-mail or an SSN: scanned, and only the names NER finds stay (as in descriptions)
            out[column] = replace(
                cls, reason=f"{cls.reason}: names of things holding identifiers ({context.reason})", names=False
            )
        elif thing_name and (cls.kind == "text" or (cls.kind == "pii" and cls.entity in ("PERSON", "LOCATION"))):
            out[column] = ColumnClass(
                "clear",
                None,
                f"{cls.reason}: names of things in a table not about people ({context.reason})",
                confidence="medium",
            )
    return out


def from_override(override: ColumnOverride) -> ColumnClass:
    default_mode: PredicateMode = "equality" if override.kind == "pii" else "any"
    entity = (override.entity or "PII") if override.kind == "pii" else None
    return ColumnClass(override.kind, entity, "declared in config", override.predicates or default_mode)
