"""Operators: what a personal value becomes, chosen per entity type, per role and per column.

- pseudonym  `<EMAIL_ADDRESS:7f3a9c2e1b0d>`: keyed, stable, joinable; usable as a literal in later calls
- redact     `<EMAIL_ADDRESS>`
- partial    the end of the value only: `<CREDIT_CARD:…4242>`, `<PHONE_NUMBER:…0134>`, `<EMAIL_ADDRESS:…@example.com>`
- hash       `<US_SSN:#…64 hex…>`: the full keyed HMAC-SHA256, for exact matching in other systems that share the key
- generalize dates to the year, postal codes to their first three characters (`000` for the US ZIP prefixes
             of fewer than 20,000 people), ages to a ten-year band (`90+` over 89), street addresses to the
             street without the house number, coordinates to two decimals (about 1.1 km); anything else is
             redacted
- keep       the value in clear (for roles allowed to see an entity type)
"""

from __future__ import annotations

import hashlib
import hmac
import re

from mcp_server.masking.pseudonyms import Pseudonymizer, normalise
from mcp_server.vocabulary import Operator as Operator  # re-exported: the query path imports it here

# What a masked value looks like in output: <ENTITY>, <ENTITY:token>, <ENTITY:…4242>, <ENTITY:#hash>.
MASK_MARK = re.compile(r"<([A-Z][A-Z0-9_]*)(?::[^<>\s]{1,80})?>")
_YEAR = re.compile(r"\b(1[89]\d{2}|20\d{2})\b")
_HOUSE_NUMBER = re.compile(r"^\s*\d+[A-Za-z]?\s+")
# Ages above this are one group (`90+`): HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(C).
OLDEST_AGE = 89
# The 17 three-digit US ZIP prefixes whose areas had 20,000 people or fewer in the 2000 Census, which Safe Harbor
# replaces with 000 (45 CFR 164.514(b)(2)(i)(B); HHS OCR, "Guidance Regarding Methods for De-identification of
# Protected Health Information", 2012, and 67 FR 53182, 53233-53234).
RESTRICTED_ZIP3 = frozenset(
    {
        "036",
        "059",
        "063",
        "102",
        "203",
        "556",
        "692",
        "790",
        "821",
        "823",
        "830",
        "831",
        "878",
        "879",
        "884",
        "890",
        "893",
    }
)
_US_ZIP = re.compile(r"\d{5}(?:-\d{4})?")
# No leading `\s*`: searched over a long value it would retry at every blank (quadratic); the caller strips.
_UNIT = re.compile(r"(?i)\b(?:apt|apartment|suite|ste|unit|flat|floor|room)\b\.?\s*\S.*$|#\s*\S.*$")


def apply(operator: Operator, entity: str, value: str, pseudonyms: Pseudonymizer) -> str:
    if operator == "keep":
        return value
    if operator == "pseudonym":
        return pseudonyms.token(entity, value)
    if operator == "hash":
        digest = hmac.new(pseudonyms.key, normalise(value).encode("utf-8"), hashlib.sha256).hexdigest()
        return f"<{entity}:#{digest}>"
    if operator == "partial":
        return partial(entity, value)
    if operator == "generalize":
        return generalize(entity, value)
    return f"<{entity}>"


def partial(entity: str, value: str) -> str:
    """The last four letters or digits (the domain of an email); short values reveal nothing."""
    if entity == "EMAIL_ADDRESS" and "@" in value:
        return f"<{entity}:…@{value.rsplit('@', 1)[1].strip()}>"
    tail = re.sub(r"[^0-9A-Za-z]", "", value)
    if len(tail) < 8:  # four characters of a short value give too much of it away
        return f"<{entity}>"
    return f"<{entity}:…{tail[-4:]}>"


def generalize(entity: str, value: str) -> str:
    if entity in ("DATE_OF_BIRTH", "DATE_TIME"):
        year = _YEAR.search(value)
        return year.group(1) if year else f"<{entity}>"
    if entity == "AGE" and value.strip().isdigit():
        if int(value) > OLDEST_AGE:  # HIPAA Safe Harbor, 164.514(b)(2)(i)(C): ages over 89 in one group
            return f"{OLDEST_AGE + 1}+"
        low = int(value) // 10 * 10
        return f"{low}-{low + 9}"
    compact = value.strip()
    if entity == "COORDINATE":
        try:
            return f"{round(float(compact), 2):.2f}"  # 0.01 degree: about 1.1 km of latitude
        except ValueError:
            return f"<{entity}>"
    if entity == "POSTAL_CODE" and _US_ZIP.fullmatch(compact) and compact[:3] in RESTRICTED_ZIP3:
        return "000"  # HIPAA Safe Harbor, 164.514(b)(2)(i)(B): the prefix of fewer than 20,000 people
    if entity == "POSTAL_CODE" and len(compact) >= 4 and any(ch.isdigit() for ch in compact):
        keep = 3 if len(compact.replace(" ", "")) >= 5 else 2
        return compact[:keep] + "…"  # the postal district: `941…` of 94103, `91…` of 9100
    if entity == "STREET_ADDRESS" and _HOUSE_NUMBER.match(compact):
        street = _HOUSE_NUMBER.sub("", compact).split(",")[0].split("\n")[0]
        street = _UNIT.sub("", street).strip()
        return street or f"<{entity}>"  # the street, without the house, the unit and the lines after it
    return f"<{entity}>"
