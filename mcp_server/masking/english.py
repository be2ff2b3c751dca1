"""Whether a word is English, inflections included, against the word list the NLP pipeline's lemmatizer ships
(`Detector.english_words`): what the ledger and the column classifier may show as written."""

from __future__ import annotations


def is_english(word: str, english: frozenset[str]) -> bool:
    """An English word or an inflection of one (`shipped`, `refunded`, `pending`, `queries`)."""
    word = word.casefold()
    stems = [word] + [word[: -len(end)] for end in ("ed", "d", "ing", "es", "s") if word.endswith(end)]
    if word.endswith("ies"):
        stems.append(word[:-3] + "y")
    return any(stem in english for stem in stems)
