"""National identity numbers beyond the US SSN, each checked by its checksum or embedded birth date.

Presidio ships recognizers for the Finnish, Polish, Swedish, British and Canadian numbers, registered for
their own languages only; they are registered here for any language. Maskwire adds the Danish CPR number
(birth date + serial), the French INSEE number (mod-97 key) and the Brazilian CPF (two check digits).

A checksum still lets about one random number in ten through, so in free text these numbers count only
after a word that announces them (`NEEDS_CONTEXT`, applied by the detector): "PESEL 54030268860",
"personnummer: 760211-4105". A column of values is judged differently, by the share of whole values that
are valid numbers (`national_id`, used by the column classifier): random 9-12 digit numbers are valid
numbers of some country 0.8% of the time, national identity numbers every time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import (
    CaSinRecognizer,
    FiPersonalIdentityCodeRecognizer,
    PlPeselRecognizer,
    SePersonnummerRecognizer,
    UkNinoRecognizer,
)

from ._results import TextRecognizer, result

SCORE = 0.9
_CPR = re.compile(r"(?<![\w-])(\d{2})(\d{2})(\d{2})-(\d{4})(?![\w-])")
_INSEE = re.compile(r"(?<![\w-])([12])\s?(\d{2})\s?(\d{2})\s?(\d{2}|2[AB])\s?(\d{3})\s?(\d{3})\s?(\d{2})(?![\w-])")
_CPF = re.compile(r"(?<![\w.-])(\d{3})\.(\d{3})\.(\d{3})-(\d{2})(?![\w.-])")


def _date_ok(day: int, month: int, year: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _insee_ok(digits: str, key: str) -> bool:
    number = int(digits.replace("2A", "19").replace("2B", "18"))
    return 97 - number % 97 == int(key)


def _cpf_ok(digits: str) -> bool:
    if len(set(digits)) == 1:  # 000.000.000-00 and the like pass the checksum
        return False
    numbers = [int(d) for d in digits]
    for length in (9, 10):
        total = sum(n * (length + 1 - i) for i, n in enumerate(numbers[:length]))
        if (total * 10 % 11) % 10 != numbers[length]:
            return False
    return True


class NationalIdRecognizer(TextRecognizer):
    """Danish CPR (`190641-4941`: a valid birth date), French INSEE (`2791269679323 49`: sex, birth year and
    month, place, key mod 97) and Brazilian CPF (`308.271.618-08`: two check digits)."""

    ENTITIES = ("DK_CPR", "FR_INSEE", "BR_CPF")

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        found = []
        for m in _CPR.finditer(text):
            day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if _date_ok(day, month, 1900 + year) or _date_ok(day, month, 2000 + year):
                found.append(result(self, "DK_CPR", m.start(), m.end(), SCORE, "date of birth and serial"))
        for m in _INSEE.finditer(text):
            sex, yy, mm, dept, commune, order, key = m.groups()
            month_ok = 1 <= int(mm) <= 12 or 20 <= int(mm) <= 42 or 50 <= int(mm) <= 99
            if month_ok and _insee_ok(sex + yy + mm + dept + commune + order, key):
                found.append(result(self, "FR_INSEE", m.start(), m.end(), SCORE, "mod-97 key"))
        for m in _CPF.finditer(text):
            if _cpf_ok("".join(m.groups())):
                found.append(result(self, "BR_CPF", m.start(), m.end(), SCORE, "check digits"))
        return [r for r in found if not entities or r.entity_type in entities]


_SSN_CUE = re.compile(r"(?i)\bssn\b|social security|\bsocial sec\b|taxpayer|\btax id\b|\btin\b|\bitin\b")
_NINE = re.compile(r"(?<![\w\-])(\d{3})([ \-.]?)(\d{2})\2(\d{4})(?![\w\-]|\.\d)")


class AnnouncedSsnRecognizer(TextRecognizer):
    """A US SSN written without its dashes or with other marks (`ssn 482197364`, `SSN 482.19.7364`) within 40
    characters after a word that announces it; Presidio's own pattern scores such a number too low to mask. The
    number must be a valid SSN (area not 000, 666 or 9xx; group and serial not zero)."""

    ENTITIES = ("US_SSN",)

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        if (entities and "US_SSN" not in entities) or not _SSN_CUE.search(text):
            return []
        found = []
        for m in _NINE.finditer(text):
            area, _, group, serial = m.groups()
            if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
                continue
            if _SSN_CUE.search(text, max(0, m.start() - 40), m.start()):
                found.append(result(self, "US_SSN", m.start(), m.end(), SCORE, "SSN after a word announcing it"))
        return found


def national_id_recognizers() -> list[EntityRecognizer]:
    """Fresh instances, for the detector's registry."""
    presidio = [
        FiPersonalIdentityCodeRecognizer(supported_language="en"),
        PlPeselRecognizer(supported_language="en"),
        SePersonnummerRecognizer(supported_language="en"),
        UkNinoRecognizer(supported_language="en"),
        CaSinRecognizer(supported_language="en"),
    ]
    return [*presidio, NationalIdRecognizer()]


# Words that announce each number in free text (checked within 60 characters before it); one entry per
# entity of `national_id_recognizers` and of `entities.NATIONAL_ID_TYPES` (tests/masking checks both).
ANNOUNCING_WORDS: dict[str, str] = {
    "FI_PERSONAL_IDENTITY_CODE": r"henkilötunnus|hetu|personal identity code|identity code|id code",
    "PL_PESEL": r"pesel",
    "SE_PERSONNUMMER": r"personnummer|personal identity number|person number",
    "UK_NINO": r"\bnino\b|national insurance|\bni\b number|\bni no",
    "CA_SIN": r"\bsin\b|social insurance",
    "DK_CPR": r"\bcpr\b|personnummer|civil registration",
    "FR_INSEE": r"insee|sécurité sociale|securite sociale|social security|\bnir\b",
    "BR_CPF": r"\bcpf\b",
}

_ALL = national_id_recognizers()


def national_id(value: str) -> str | None:
    """The national identity number a whole value is (its entity type), or None. For column statistics."""
    text = value.strip()
    if not 9 <= len(text) <= 20 or not any(ch.isdigit() for ch in text):
        return None
    for recognizer in _ALL:
        for found in recognizer.analyze(text, list(recognizer.supported_entities), None) or []:  # type: ignore[arg-type]
            if found.start == 0 and found.end == len(text) and found.score >= 0.5:
                return found.entity_type
    return None
