"""`field: value` pairs in text (CSV rows, JSON, YAML, forms): the field name says what the value is.

Extracted CSV and JSON documents become lines like `name: Leila Thompson; email: ...`. The column
classifier already knows that a field called `name`, `customer`, `phone` or `dob` holds personal data,
so the value after it is masked whole, whatever NER thinks of it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from mcp_server.masking.classify import classify_by_name

FIELD = re.compile(
    r"""(?:^|(?<=[;,{\n\t]))[ \t]*["']?(?P<key>[A-Za-z][A-Za-z0-9 _.-]{0,40}?)["']?[ \t]*[:=][ \t]*"""
    r"""["']?(?P<value>[^;\n"',}\]]{1,200}?)["']?[ \t]*(?=$|[;,}\n\]])""",
    re.MULTILINE,
)
# In free text a bare `name`/`customer`/`contact` field is a person (a catalogue column would be
# classified by its values instead, but a document has no column statistics).
PERSON_FIELDS = {"name", "customer", "contact", "employee", "owner", "recipient", "sender", "patient", "to", "from"}
SCORE = 0.85
SKIP = {"SECRET", "BINARY"}  # secrets have their own recognizers with exact spans


@lru_cache(maxsize=4096)
def field_entity(key: str) -> str | None:
    words = key.strip().lower()
    if words in PERSON_FIELDS:
        return "PERSON"
    cls = classify_by_name(key.strip(), "TEXT", ())
    if cls is None or cls.kind != "pii" or cls.entity in SKIP:
        return None
    return cls.entity


class FieldValueRecognizer(LocalRecognizer):
    ENTITIES = (
        "PERSON",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "US_SSN",
        "CREDIT_CARD",
        "IBAN_CODE",
        "LOCATION",
        "DATE_OF_BIRTH",
        "USERNAME",
        "US_PASSPORT",
        "US_DRIVER_LICENSE",
        "ORGANIZATION",
        "IP_ADDRESS",
    )

    def __init__(self) -> None:
        super().__init__(supported_entities=list(self.ENTITIES), name="FieldValueRecognizer", supported_language="en")

    def load(self) -> None:
        """Pure regex: nothing to load."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = []
        for match in FIELD.finditer(text):
            entity = field_entity(match.group("key"))
            value = match.group("value").strip()
            if entity is None or not value or (entities and entity not in entities):
                continue
            start = match.start("value") + match.group("value").index(value)
            results.append(
                RecognizerResult(
                    entity,
                    start,
                    start + len(value),
                    SCORE,
                    AnalysisExplanation(self.name, SCORE, textual_explanation=f"value of field {match.group('key')}"),
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
        return results
