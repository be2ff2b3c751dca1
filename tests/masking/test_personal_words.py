"""What the ledger may show of agent input: nothing holding a word or a showable value of a known personal value,
and nothing at all once more values were learned than are kept (fail closed)."""

from __future__ import annotations

import datetime as dt

from mcp_server.masking.personal_words import PersonalWords


def test_words_dates_numbers_and_amounts_of_personal_values_are_recognised() -> None:
    words = PersonalWords()
    words.add(["1313 Mockingbird Lane", "HIV positive", "O'Neil", dt.date(1985, 3, 12), "$85,000.00", 91250, "the end"])
    for text in ("mockingbird", "Lane", "hiv positive", "neil", "1985-03-12", "85000", "85000.00", "-91250"):
        assert words.touches(text), text
    for text in ("shipped", "the", "1985-03-13", "1313", "536", "late delivery"):
        assert not words.touches(text), text


def test_once_values_are_left_out_nothing_is_shown() -> None:
    words = PersonalWords(max_entries=3)
    words.add(["Aa Bb", "Cc Dd"])
    assert words.touches("shipped") and words.touches("1") and len(words) == 3
