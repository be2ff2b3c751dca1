"""How a stored value reads as text: its words, and the amount it is, however it is written.

Kept apart from the recognizers (which import Presidio) so that what only needs the words of values loads fast.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)
"""A word of a value: letters and digits, joined by apostrophes and hyphens (`O'Neil`, `Abernathy-Voss`)."""

# An amount as written in text: an optional currency before it, digits with or without thousands separators
# (`,` `.` `'`, spaces), optional cents, an optional `k`, an optional currency after it. One pass, no nested
# repetition that can backtrack (benchmarks/regex_worst_case.py).
_CURRENCY = r"(?:[$€£¥₹₩]|(?:USD|EUR|GBP|CHF|CAD|AUD|JPY|INR|SEK|NOK|DKK|PLN)(?![A-Za-z]))"
AMOUNT = re.compile(
    rf"(?<![\w.,'])(?P<pre>{_CURRENCY}[ \u00a0]?)?"
    r"(?P<int>\d{1,3}(?:(?P<sep>[,.' \u00a0\u202f])\d{3})(?:(?P=sep)\d{3})*+|\d++)"
    r"(?P<dec>[.,]\d{1,2})?(?P<k>[kK](?![A-Za-z]))?"
    rf"(?P<post>[ \u00a0]?{_CURRENCY})?(?![\w]|[.,]\d)"
)
DIGIT = re.compile(r"\d")
MIN_AMOUNT_DIGITS = 4
MIN_BARE_DIGITS = 5


def amount_key(value: object) -> str | None:
    """The canonical form of a stored amount (`240000.00` -> `240000`), or None when it is not one worth
    finding again (fewer than four digits before the decimals, not a number)."""
    text = str(value).strip()
    match = AMOUNT.fullmatch(text)
    if match is None:
        return None
    return canonical_amount(match)


def canonical_amount(match: re.Match[str]) -> str | None:
    digits = match.group("int")
    sep = match.group("sep")
    if sep is not None:
        digits = digits.replace(sep, "")
    try:
        number = Decimal(digits + (("." + match.group("dec")[1:]) if match.group("dec") else ""))
    except InvalidOperation:
        return None
    if match.group("k"):
        number *= 1000
    whole = int(number)
    if len(str(whole)) < MIN_AMOUNT_DIGITS:
        return None
    return format(number.normalize(), "f")


def written_as_amount(match: re.Match[str]) -> bool:
    """A run of digits counts as an amount when something says so (a currency, separators, cents, a `k`) or
    when it is long enough not to be a year or a count."""
    marked = any(match.group(g) for g in ("pre", "post", "sep", "dec", "k"))
    return marked or len(match.group("int")) >= MIN_BARE_DIGITS
