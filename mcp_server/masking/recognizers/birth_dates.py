"""Birth dates in free text: a date right after a word that says it is one (`DOB 1984/11/23`, `born 3rd of June
1971`, `date of birth: 23.11.1984`, `Geburtsdatum 23.11.1984`).

Dates alone are left as they are (every order date and timestamp would be masked); a date of birth of a person
in the data is also found as a known value, in any of the ways it is written (`known_values.date_spellings`).
The cue must come at most three short words before the date (`born on the 3rd of June 1971`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from presidio_analyzer import RecognizerResult

from ._results import TextRecognizer, result

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE = (
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})"
    rf"|{_DAY}(?:\s+of)?\s+{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+{_DAY},?\s+\d{{4}})"
)
_CUE = (
    r"(?:\bd\.?o\.?b\b\.?|\bdate\s+of\s+birth\b|\bbirth\s*date\b|\bbirthday\b|\bborn\b|\bgeburtsdatum\b|\bgeb\.|"
    r"\bn[ée]e?\s+le\b|\bfecha\s+de\s+nacimiento\b|\bdata\s+di\s+nascita\b|\bdata\s+de\s+nascimento\b)"
)
_FILLER = r"(?:[\s:=,(\-]|\b(?:is|was|on|in|the|of|at)\b)*"
_BIRTH_DATE = re.compile(rf"(?i){_CUE}{_FILLER}(?P<date>{_DATE})(?![\w/.-]\d)")
SCORE = 0.85


class BirthDateRecognizer(TextRecognizer):
    ENTITY = "DATE_OF_BIRTH"
    ENTITIES = (ENTITY,)

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        return [
            result(self, self.ENTITY, m.start("date"), m.end("date"), SCORE, "a date after a word saying it is a birth")
            for m in _BIRTH_DATE.finditer(text)
        ]
