"""NER pre- and post-processing: the text spaCy's NER reads (`_for_ner`) and how its PERSON / LOCATION
spans are made to fit the text (`_tidy`: line breaks, first names and initials, a place's postcode).

NER reads a copy of the text in which ALL-CAPS words of four letters or more are capitalised
(`HELSINKI` -> `Helsinki`, same length, same offsets): the small English model misses most uppercase names.
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from mcp_server.masking.recognizers.addresses import NAME_PARTICLES

# Words NER reads capitalised (see `_for_ner`): ALL-CAPS words of 4+ letters, lower-case words of 3+.
_CAPS_WORD = re.compile(r"\b[^\W\d_]{4,}\b")
_LOWER_WORD = re.compile(r"(?<![\w@./:#-])[^\W\d_A-Z]{3,}(?![\w@/-]|\.\w)")


def _for_ner(text: str, english: frozenset[str] = frozenset()) -> str:
    """The text NER reads, same length and offsets: ALL-CAPS words of 4+ letters capitalised (`HELSINKI`),
    and lower-case words of 3+ letters that are not English words capitalised too (`borna jerković`):
    the small English model finds names by their capital letter."""
    if any(ch.isupper() for ch in text):
        text = _CAPS_WORD.sub(_capitalise, text)
    if english:
        text = _LOWER_WORD.sub(lambda m: _unknown_capitalised(m, english), text)
    return text


def _capitalise(match: re.Match[str]) -> str:
    word = match.group(0)
    if not word.isupper():
        return word
    fixed = word.capitalize()
    return fixed if len(fixed) == len(word) else word


def _unknown_capitalised(match: re.Match[str], english: frozenset[str]) -> str:
    word = match.group(0)
    if word in english or word in STOP_WORDS or _inflected(word, english):
        return word
    fixed = word[0].upper() + word[1:]
    return fixed if len(fixed) == len(word) else word


def _inflected(word: str, english: frozenset[str]) -> bool:
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        if word.endswith(suffix) and word[: -len(suffix)] + repl in english:
            return True
    return False


# Entity types whose NER spans `_tidy` fits to the text.
_NER_TYPES = frozenset({"PERSON", "LOCATION"})
_TOKEN = re.compile(r"\S+")
# Capitalised words that are not the first name of the name they precede.
_NOT_FIRST_NAMES = frozenset(
    [
        "dear",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "regards",
        "best",
        "cheers",
        "sincerely",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "prof",
        "sir",
        "madam",
        "ask",
        "call",
        "contact",
        "customer",
        "client",
        "user",
        "agent",
        "manager",
        "director",
        "president",
        "ceo",
        "cto",
        "cfo",
        "professor",
        "doctor",
        "judge",
        "officer",
        "saint",
        "st",
    ]
)


_POSTCODE_AFTER = re.compile(r",? (?:\d{4,5}(?:-\d{3,4})?|\d{3} \d{2}|\d{2}-\d{3})(?![\w-])")
_POSTCODE_BEFORE = re.compile(r"(?<![\w-])(\d{4,5}) $")
_LINE = re.compile(r"[^\n]*[^\s][^\n]*")
_ALPHA_WORD = re.compile(r"(?<![\w-])[^\W\d_]{2,}(?![\w-])")
_PREV_WORD = re.compile(r"([^\W\d_]+(?:-[^\W\d_]+)*\.?) $")


def _first_names(text: str, start: int) -> int:
    """Move a name's start over an initial (`A` of `Juliusz A Kwiatkowski`) and the capitalised word before
    it, or over the given name before a particle (`Maika` of `Maika van de Noort`)."""
    pulled = text[start : start + 4].split(" ")[0].lower() in NAME_PARTICLES
    for _ in range(3):
        m = _PREV_WORD.search(text, max(0, start - 40), start)
        if not m:
            break
        word = m.group(1)
        initial = len(word.rstrip(".")) == 1 and word[0].isupper()
        if initial:
            start, pulled = m.start(), True
            continue
        low = word.rstrip(".").lower()
        if not pulled or not word[0].isupper() or low in STOP_WORDS or low in _NOT_FIRST_NAMES:
            break
        start, pulled = m.start(), False
    return start


def _tidy(text: str, result: RecognizerResult) -> list[RecognizerResult]:
    """NER spans made to fit: a name does not run over a line break, does not start with a lower-case word
    when a capitalised one follows (`ex-Zombie Ahtisaari`), and leaves out a possessive `'s`. A PERSON
    span takes in capitalised words just before it on the same line (`Maika` of `Maika van de Noort`)."""
    if (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY) != "SpacyRecognizer":
        return [result]
    pieces = [
        (result.start + m.start(), result.start + m.end()) for m in _LINE.finditer(text[result.start : result.end])
    ]
    if len(pieces) > 1:  # a name does not run over a line break: each line is tidied on its own
        out = []
        for a, b in pieces:
            part = RecognizerResult(
                result.entity_type, a, b, result.score, result.analysis_explanation, dict(result.recognition_metadata)
            )
            out.extend(_tidy(text, part))
        return out
    start, end = result.start, result.end
    words = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text, start, end)]
    if len(words) > 1 and not words[0][2][:1].isupper() and words[0][2] not in NAME_PARTICLES:
        start = next((a for a, _, w in words if w[:1].isupper() or w in NAME_PARTICLES), start)
    while end > start and text[end - 1] in " \t.,;:":
        end -= 1
    for suffix in ("'s", "’s"):
        if text[start:end].endswith(suffix):
            end -= len(suffix)
    if result.entity_type == "PERSON":
        start = _first_names(text, start)
    else:  # a place with its postcode: "Costamezzana 43015", "75001 Paris"
        after = _POSTCODE_AFTER.match(text, end)
        before = _POSTCODE_BEFORE.search(text, max(0, start - 12), start)
        end = after.end() if after else end
        start = before.start(1) if before else start
    if end - start < 2 or not _ALPHA_WORD.search(text, start, end):
        return []  # no word of letters: `ORD-2024000019` is not a place
    if (start, end) != (result.start, result.end):
        result.start, result.end = start, end
    return [result]
