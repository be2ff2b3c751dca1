"""Known values: personal values from classified columns, found again in free text."""

from __future__ import annotations

from mcp_server.masking.known_values import KnownValuesRecognizer


def spans(recognizer: KnownValuesRecognizer, text: str, entities: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(text[r.start : r.end], r.entity_type) for r in recognizer.find(text, list(entities))]


def test_multi_word_values_are_found_case_insensitively() -> None:
    known = KnownValuesRecognizer()
    known.add("PERSON", ["Maria Lopez", "Seán O’Brien"])
    known.add("LOCATION", ["12 Harbour Road"])
    text = "Ticket from MARIA LOPEZ, cc sean o'brien? no: Seán O'Brien, shipped to 12 harbour road."
    assert spans(known, text) == [
        ("MARIA LOPEZ", "PERSON"),
        ("Seán O'Brien", "PERSON"),
        ("12 harbour road", "LOCATION"),
    ]


def test_the_longest_known_value_wins_when_several_start_alike() -> None:
    known = KnownValuesRecognizer()
    known.add("PERSON", ["Anna Maria", "Anna Maria Rossi"])
    known.add("LOCATION", ["Anna Maria Island"])
    assert spans(known, "met Anna Maria Rossi and Anna Maria at Anna Maria Island") == [
        ("Anna Maria Rossi", "PERSON"),
        ("Anna Maria", "PERSON"),
        ("Anna Maria Island", "LOCATION"),
    ]


def test_single_ordinary_words_are_not_remembered() -> None:
    known = KnownValuesRecognizer()
    assert known.add("PERSON", ["Grace", "Austin"]) == 0
    assert known.add("USERNAME", ["maria1987"]) == 1
    assert spans(known, "Grace from Austin is maria1987") == [("maria1987", "USERNAME")]


def test_words_apart_or_across_lines_are_not_one_value() -> None:
    known = KnownValuesRecognizer()
    known.add("PERSON", ["Maria Lopez"])
    assert spans(known, "Maria\nLopez, Maria -- Lopez, Maria      Lopez") == []
    assert spans(known, "Maria  Lopez") == [("Maria  Lopez", "PERSON")]


def test_entities_filter() -> None:
    known = KnownValuesRecognizer()
    known.add("PERSON", ["Maria Lopez"])
    assert spans(known, "Maria Lopez", ("LOCATION",)) == []
    assert spans(known, "Maria Lopez", ("PERSON",)) == [("Maria Lopez", "PERSON")]
