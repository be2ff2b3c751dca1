"""The RecognizerResult every Maskwire recognizer reports: entity, span and score, an AnalysisExplanation,
and the recognizer's name and id in the recognition metadata (which Presidio's context enhancement reads)."""

from __future__ import annotations

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult


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
