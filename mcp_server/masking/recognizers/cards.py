"""Payment card numbers by length and Luhn check: Presidio's CreditCardRecognizer only knows 13-16 digit
cards of a few issuers. Needs no NLP artifacts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from presidio_analyzer import RecognizerResult

from ._results import TextRecognizer, result
from .checksums import luhn_valid

if TYPE_CHECKING:
    pass

_CARD = re.compile(r"(?<![\w\-.])\d(?:[ \-]?\d){11,18}(?![\w\-]|\.\d)")
_GROUPED = re.compile(
    r"(?<![\w.\-/])\d{4}(?:(?:\.\d{4}){2,3}|(?:/\d{4}){2,3}|(?:[ \t]*\|[ \t]*\d{4}){2,3})(?![\w]|[./]\d)"
)
"""Groups of four digits with dots, slashes or table cells between them (`4539.1122.3344.5563`, `| 5500 | 0000 |
0000 | 0004 |`): the same number, written in a form the run of digits above does not take."""
_CARD_CONTEXT = re.compile(
    r"(?i)card|visa|master|maestro|amex|american express|discover|jcb|diners|credit|debit|\bcc\b"
)


class CardNumberRecognizer(TextRecognizer):
    """Payment card numbers Presidio's regex misses: 12-19 digits (19-digit Visa, 2-series Mastercard,
    12-digit Maestro), in one run or in groups, passing the Luhn check with a known issuer first digit.
    0.85; a 12-digit number needs a card word before it (random 12-digit ids pass Luhn one time in ten)."""

    ENTITY = "CREDIT_CARD"
    ENTITIES = (ENTITY,)

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        results = []
        for m in [*_CARD.finditer(text), *_GROUPED.finditer(text)]:
            digits = re.sub(r"\D", "", m.group(0))
            if digits[0] not in "23456" or not luhn_valid(digits):
                continue
            if len(digits) == 12 and not _CARD_CONTEXT.search(text, max(0, m.start() - 60), m.start()):
                continue
            results.append(result(self, self.ENTITY, m.start(), m.end(), 0.85, "card number (Luhn)"))
        return results
