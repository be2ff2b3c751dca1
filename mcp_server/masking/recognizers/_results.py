"""What Maskwire's pure-Python recognizers share: the base class (no NLP artifacts, nothing to load, named
after its class) and the RecognizerResult they report: entity, span and score, an AnalysisExplanation, and
the recognizer's name and id in the recognition metadata (which Presidio's context enhancement reads)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts


class TextRecognizer(LocalRecognizer):
    """A recognizer that reads the text alone. Subclasses list ENTITIES and implement `find`."""

    ENTITIES: ClassVar[tuple[str, ...]]

    def __init__(self) -> None:
        super().__init__(supported_entities=list(self.ENTITIES), name=type(self).__name__, supported_language="en")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(
        self, text: str, entities: list[str] | None, nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if entities and not any(e in entities for e in self.ENTITIES):
            return []
        return self.find(text, entities or ())

    @abstractmethod
    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        """Results in `text`; `entities` (empty: all) is what the caller asked for."""


def result(
    recognizer: EntityRecognizer, entity: str, start: int, end: int, score: float, why: str | None = None
) -> RecognizerResult:
    """A result found by `recognizer`; `why` is the explanation's text (none when omitted)."""
    return RecognizerResult(
        entity,
        start,
        end,
        score,
        AnalysisExplanation(recognizer.name, score, textual_explanation=why),
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
        },
    )
