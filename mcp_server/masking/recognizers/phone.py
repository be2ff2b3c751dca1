"""Phone numbers: US (NANP) numbers, and numbers in any national format (`InternationalPhoneRecognizer`),
scored high enough to survive a 0.5 threshold; neither needs NLP artifacts.

Presidio's PhoneRecognizer scores 0.4, so numbers vanish at threshold 0.5. Here a US number formatted
((415) 555-0134, 415-555-0134, 415.555.0134, +1 415 555 0134) scores 0.7, or 0.85 with a context word
(phone, tel, mobile, cell, fax...) shortly before it. A bare 10-digit run is only reported with such a
context word (0.65): unannounced digit runs are order ids, timestamps or account numbers as often as
phones. Area code and exchange must follow NANP rules (first digit 2-9, area code not N11).

Context is handled here rather than through Presidio's ``context`` list so the score does not get
boosted twice by the LemmaContextAwareEnhancer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import phonenumbers
from presidio_analyzer import RecognizerResult

from ._results import TextRecognizer, result

if TYPE_CHECKING:
    pass

PHONE_ENTITY = "PHONE_NUMBER"

_AREA = r"(?P<area>[2-9]\d{2})"
_EXCHANGE = r"(?P<exchange>[2-9]\d{2})"
_LINE = r"\d{4}"
# Not glued to digits, letters or id-like separators (ORD-415-555-0134, 10.415.555.0134).
_LEFT = r"(?<![\w.\-/+])"
_RIGHT = r"(?![\w]|[.\-/]\d)"

_FORMATTED = re.compile(
    _LEFT
    + r"(?:(?:\+1|1)[ .\-]?)?"
    + r"(?:\("
    + _AREA
    + r"\)[ ]?|"
    + _AREA.replace("area", "area2")
    + r"[ .\-])"
    + _EXCHANGE
    + r"[ .\-]"
    + _LINE
    + _RIGHT
)
_PLUS_ONE_BARE = re.compile(_LEFT + r"\+1" + _AREA + _EXCHANGE + _LINE + _RIGHT)
_BARE = re.compile(_LEFT + _AREA + _EXCHANGE + _LINE + _RIGHT)
_CONTEXT = re.compile(
    r"(?i)(?<![a-z])(?:phone|telephone|tel|mobile|cell|cellphone|fax|sms|call|whatsapp|contact)(?:s|#)?(?![a-z])"
)
CONTEXT_WINDOW = 30


def _area_code(match: re.Match[str]) -> str:
    """The area code group (named area or area2 depending on the alternative that matched)."""
    groups = match.groupdict()
    return groups.get("area") or groups.get("area2") or ""


class UsPhoneRecognizer(TextRecognizer):
    """US phone numbers, formatted (0.7 / 0.85 with context) or bare 10 digits with context (0.65)."""

    FORMATTED_SCORE = 0.7
    CONTEXT_SCORE = 0.85
    BARE_SCORE = 0.65

    ENTITIES = (PHONE_ENTITY,)

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        """Find US phone numbers in text."""
        results: list[RecognizerResult] = []
        taken: list[tuple[int, int]] = []
        for pattern in (_FORMATTED, _PLUS_ONE_BARE):
            for match in pattern.finditer(text):
                if _area_code(match).endswith("11"):
                    continue
                score = self.CONTEXT_SCORE if self._has_context(text, match.start()) else self.FORMATTED_SCORE
                results.append(result(self, PHONE_ENTITY, match.start(), match.end(), score))
                taken.append(match.span())
        for match in _BARE.finditer(text):
            if _area_code(match).endswith("11") or any(s <= match.start() < e for s, e in taken):
                continue
            if self._has_context(text, match.start()):
                results.append(result(self, PHONE_ENTITY, match.start(), match.end(), self.BARE_SCORE))
        return results

    @staticmethod
    def _has_context(text: str, start: int) -> bool:
        return _CONTEXT.search(text, max(0, start - CONTEXT_WINDOW), start) is not None


_PHONE = re.compile(
    r"(?<![\w+.\-/])(?:\+\d{8,15}(?!\d)|(?:\+\d{1,3}[ .\-]?(?:\(0\)[ .\-]?)?)?(?:\(\d{1,5}\)[ .\-]?|\d{1,5}\)[ .\-]?)?"
    r"\d{1,12}(?:[ .\-]\d{1,8}){0,5})(?P<ext>\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w]|[.,\-]\d)"
)
_DATE_LIKE = re.compile(r"\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{4}|\d{3}-\d{2}-\d{4}")
_PHONE_CONTEXT = re.compile(
    r"(?i)(?<![a-z])(?:phone|telephone|tel|mobile|mob|cell|cellphone|fax|sms|call|calls|called|ring|whatsapp|"
    r"contact|desk|office|home|work|reach|reached|dial|dialled|dialed|number|no|nr|#)(?![a-z])"
)
_PHONE_AFTER = re.compile(r"(?i)\s?[-(]?\s?(?:office|fax|mobile|home|work|cell|tel|phone)\b")


# The regions whose national formats count without a cue word: the locales Maskwire is measured on.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "PT", "BR", "NL")


def national_number(number: str) -> bool:
    """A valid number in the national format of one of `PHONE_REGIONS` (`0171 2345678`, `06 12345678`)."""
    if number.startswith("+"):
        return False
    for region in PHONE_REGIONS:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number_for_region(parsed, region):
            return True
    return False


class InternationalPhoneRecognizer(TextRecognizer):
    """Phone numbers in any national format (`0490 39 07 81`, `+44 7700 900 123`, `(99) 645-791`).

    Replaces Presidio's PhoneRecognizer (0.4, below the threshold, and the slowest recognizer). Seven to
    fifteen digits in two or more groups of two or more digits (or after `+` / an area code in brackets);
    dates, IPv4 addresses, SSN-shaped and card-length numbers are left to their recognizers. Scores: 0.75
    with `+` or a bracketed area code, 0.8 with a phone word shortly before it, 0.6 for eight or more digits
    in three or more groups, 0.65 for a valid national number of one of `PHONE_REGIONS` (by the numbering
    plan of the `phonenumbers` library, written with a trunk prefix `0` or a bracketed area code), else 0.4
    (reported, but under the threshold).
    """

    ENTITY = "PHONE_NUMBER"
    ENTITIES = (ENTITY,)
    NATIONAL = 0.65

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        results = []
        for m in _PHONE.finditer(text):
            value = text[m.start() : m.end("ext") if m.group("ext") else m.end()]
            number = value[: m.start("ext") - m.start()] if m.group("ext") else value
            digits = sum(ch.isdigit() for ch in number)
            if not 7 <= digits <= 15 or _DATE_LIKE.fullmatch(number):
                continue
            groups = re.findall(r"\d+", number.replace("(0)", " "))
            lead = number.startswith("+") or "(" in number or ")" in number
            before = _PHONE_CONTEXT.search(text, max(0, m.start() - 30), m.start()) is not None
            if len(groups) < 2 and not (lead and digits >= 9):
                # one run of digits: a valid national number with a phone word before it, or with a trunk
                # prefix (`0224589097`); other runs are order numbers and ids as often as phones
                if (before or number.startswith("0")) and national_number(number):
                    score = 0.8 if before else self.NATIONAL
                    results.append(result(self, self.ENTITY, m.start(), m.end(), score, "phone number"))
                continue
            if len(groups) == 4 and "." in number and all(len(g) <= 3 and int(g) <= 255 for g in groups):
                continue  # IPv4
            if any(len(g) < 2 for g in groups[2 if lead else 1 :]):
                continue
            if before or _PHONE_AFTER.match(text, m.end()):
                score = 0.8
            elif lead or m.group("ext"):
                score = 0.75
            elif digits >= 8 and len(groups) >= 3:
                score = 0.6
            elif number.startswith(("0", "(")) and national_number(number):  # a trunk prefix or an area code
                score = self.NATIONAL
            else:
                score = 0.4
            results.append(result(self, self.ENTITY, m.start(), m.end(), score, "phone number"))
        return results
