"""Column classification: which columns hold personal data, which hold free text, which are clear.

Decided once per column and cached by the caller, in this order: the declared policy in config,
then the column's name and type, then statistics over sampled values. A personal column is masked
whole (a bare first name is still a name because the column says so); a free-text column is scanned
value by value; a clear column is returned as it is and never sent to NER.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from mcp_server.config import ColumnOverride, PredicateMode

if TYPE_CHECKING:
    from mcp_server.masking.detector import Finding

ColumnKind = Literal["pii", "text", "clear"]


@dataclass(frozen=True)
class ColumnClass:
    kind: ColumnKind
    entity: str | None
    reason: str
    predicates: PredicateMode = "any"

    @property
    def label(self) -> str:
        if self.kind == "pii":
            return f"masked as {self.entity}"
        return "scanned for personal data" if self.kind == "text" else "clear"


def _words(name: str) -> list[str]:
    """`FirstName`, `first_name`, `FIRST-NAME`, `customerEmail` -> lowercase words."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


# (entity, any of these word sequences as a contiguous run in the column name)
_NAME_RULES: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    (
        "SECRET",
        (
            ("password",),
            ("passwd",),
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
    ("EMAIL_ADDRESS", (("email",), ("e", "mail"), ("mail",), ("emailaddress",))),
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
    ("DATE_OF_BIRTH", (("birth",), ("dob",), ("birthday",), ("birthdate",), ("born",))),
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
            ("contact", "name"),
            ("customer", "name"),
            ("employee", "name"),
            ("patient", "name"),
        ),
    ),
    (
        "LOCATION",
        (
            ("address",),
            ("street",),
            ("addr",),
            ("address", "line"),
            ("city",),
            ("zip",),
            ("zipcode",),
            ("postal", "code"),
            ("postalcode",),
            ("postcode",),
            ("country",),
        ),
    ),
    ("ORGANIZATION", (("company",), ("employer",))),
)

# Only personal when the table also has an address: `state` of an order is a status.
_ADDRESS_PART = {"state", "province", "region", "county"}
_TEXT_WORDS = {
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
_KEY_WORDS = {"id", "uuid", "guid", "pk", "fk", "sku"}
_TEXTUAL_ENTITIES = {"EMAIL_ADDRESS", "PERSON", "USERNAME", "ORGANIZATION", "SECRET", "IP_ADDRESS"}
_NUMERIC_TYPES = ("INT", "REAL", "FLOA", "DOUB", "NUMERIC", "DECIMAL", "BOOL", "MONEY", "SERIAL")
_DATE_TYPES = ("DATE", "TIME")


def _contains(words: Sequence[str], run: Sequence[str]) -> bool:
    n = len(run)
    return any(tuple(words[i : i + n]) == tuple(run) for i in range(len(words) - n + 1))


def classify_by_name(column: str, sql_type: str, table_columns: Sequence[str]) -> ColumnClass | None:
    """A decision from the name and type alone, or None when the values must decide."""
    words = _words(column)
    type_upper = sql_type.upper()
    is_key = bool(words) and words[-1] in _KEY_WORDS
    is_number = any(t in type_upper for t in _NUMERIC_TYPES)
    is_date = any(t in type_upper for t in _DATE_TYPES)
    for entity, runs in _NAME_RULES:
        run = next((r for r in runs if _contains(words, r)), None)
        if run is None or (is_key and run[-1] not in _KEY_WORDS):
            continue  # address_id is a key, not an address
        if (is_date and entity != "DATE_OF_BIRTH") or (is_number and entity in _TEXTUAL_ENTITIES):
            continue  # last_login_at is a timestamp, not a username
        return ColumnClass("pii", entity, f"name ({column})", "equality")
    if words and words[-1] in _ADDRESS_PART:
        siblings = {w for other in table_columns for w in _words(other)}
        if siblings & {"address", "street", "city", "zip", "postal", "postcode"}:
            return ColumnClass("pii", "LOCATION", f"name ({column}) next to address columns", "equality")
    if is_key:
        return ColumnClass("clear", None, f"key ({column})")
    if is_number or is_date:
        return ColumnClass("clear", None, f"type {sql_type}")
    if type_upper in {"BLOB", "BYTEA", "BINARY", "VARBINARY", "LONGBLOB"}:
        return ColumnClass("pii", "BINARY", f"type {sql_type} (binary is never returned)", "none")
    if set(words) & _TEXT_WORDS:
        return ColumnClass("text", None, f"name ({column})")
    return None


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")


def classify_by_values(
    column: str, values: Sequence[str], analyze: Callable[[Sequence[str], Sequence[str]], list[list[Finding]]]
) -> ColumnClass:
    """Statistics over distinct sampled values decide a column the name could not."""
    texts = [v for v in (str(x).strip() for x in values) if v]
    if not texts:
        return ColumnClass("text", None, "no values to sample (scanned to be safe)")
    if all(_ISO_DATE.match(t) for t in texts):
        return ColumnClass("clear", None, "values are dates")
    if all(_NUMBER.match(t) and len(re.sub(r"\D", "", t)) < 7 for t in texts):
        return ColumnClass("clear", None, "values are short numbers")
    avg_words = sum(len(t.split()) for t in texts) / len(texts)
    findings = analyze(texts, _words(column))
    whole: Counter[str] = Counter()
    partial = 0
    for text, found in zip(texts, findings, strict=True):
        covered = sum(f.end - f.start for f in found)
        if found and covered >= 0.6 * len(text):
            whole[max(found, key=lambda f: f.end - f.start).entity] += 1
        elif found:
            partial += 1
    if avg_words > 6:
        return ColumnClass("text", None, f"values are free text (avg {avg_words:.0f} words)")
    if whole:
        entity, hits = whole.most_common(1)[0]
        share = hits / len(texts)
        if share >= 0.5:
            return ColumnClass("pii", entity, f"values ({share:.0%} {entity})", "equality")
    if whole or partial:
        share = (sum(whole.values()) + partial) / len(texts)
        return ColumnClass("text", None, f"values ({share:.0%} contain personal data)")
    return ColumnClass("clear", None, f"values ({len(texts)} sampled, none personal)")


def from_override(override: ColumnOverride) -> ColumnClass:
    default_mode: PredicateMode = "equality" if override.kind == "pii" else "any"
    entity = (override.entity or "PII") if override.kind == "pii" else None
    return ColumnClass(override.kind, entity, "declared in config", override.predicates or default_mode)
