"""US (NANP) phone numbers, scored high enough to survive a 0.5 threshold.

Presidio's PhoneRecognizer scores 0.4, so numbers vanish at threshold 0.5. Here a formatted number
((415) 555-0134, 415-555-0134, 415.555.0134, +1 415 555 0134) scores 0.7, or 0.85 with a context word
(phone, tel, mobile, cell, fax...) shortly before it. A bare 10-digit run is only reported with such a
context word (0.65): unannounced digit runs are order ids, timestamps or account numbers as often as
phones. Area code and exchange must follow NANP rules (first digit 2-9, area code not N11).

Context is handled here rather than through Presidio's ``context`` list so the score does not get
boosted twice by the LemmaContextAwareEnhancer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

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


class UsPhoneRecognizer(LocalRecognizer):
    """US phone numbers, formatted (0.7 / 0.85 with context) or bare 10 digits with context (0.65)."""

    FORMATTED_SCORE = 0.7
    CONTEXT_SCORE = 0.85
    BARE_SCORE = 0.65

    def __init__(self) -> None:
        super().__init__(supported_entities=[PHONE_ENTITY], name="UsPhoneRecognizer", supported_language="en")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(
        self,
        text: str,
        entities: list[str] | None,
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        """Find US phone numbers in text."""
        if entities and PHONE_ENTITY not in entities:
            return []
        results: list[RecognizerResult] = []
        taken: list[tuple[int, int]] = []
        for pattern in (_FORMATTED, _PLUS_ONE_BARE):
            for match in pattern.finditer(text):
                if _area_code(match).endswith("11"):
                    continue
                score = self.CONTEXT_SCORE if self._has_context(text, match.start()) else self.FORMATTED_SCORE
                results.append(self._result(match.start(), match.end(), score))
                taken.append(match.span())
        for match in _BARE.finditer(text):
            if _area_code(match).endswith("11") or any(s <= match.start() < e for s, e in taken):
                continue
            if self._has_context(text, match.start()):
                results.append(self._result(match.start(), match.end(), self.BARE_SCORE))
        return results

    @staticmethod
    def _has_context(text: str, start: int) -> bool:
        return _CONTEXT.search(text, max(0, start - CONTEXT_WINDOW), start) is not None

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            entity_type=PHONE_ENTITY,
            start=start,
            end=end,
            score=score,
            analysis_explanation=AnalysisExplanation(recognizer=self.name, original_score=score),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
