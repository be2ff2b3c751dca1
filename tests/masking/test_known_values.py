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


def test_one_word_names_are_found_alone_only_when_no_english_word() -> None:
    known = KnownValuesRecognizer(english=lambda: frozenset({"grace", "mark"}))
    assert known.add("PERSON", ["Grace", "Ignatius", "Mark"]) == 0  # not values of their own
    assert known.add("USERNAME", ["maria1987"]) == 1
    found = spans(known, "Grace and Mark met Ignatius, Ignatius's aide, grace, and ignatius; maria1987 too")
    assert sorted(found) == [
        ("Ignatius", "PERSON"),
        ("Ignatius", "PERSON"),
        ("ignatius", "PERSON"),  # in lower case too: in no dictionary
        ("maria1987", "USERNAME"),
    ]


def test_words_apart_or_across_lines_are_not_one_value() -> None:
    known = KnownValuesRecognizer(english=lambda: frozenset({"maria", "lopez"}))
    known.add("PERSON", ["Maria Lopez"])
    assert spans(known, "Maria\nLopez, Maria -- Lopez, Maria      Lopez") == []
    assert spans(known, "Maria  Lopez") == [("Maria  Lopez", "PERSON")]
    assert spans(known, "Maria Lopez's file") == [("Maria Lopez", "PERSON")]  # a possessive ends the name


def test_secrets_of_letters_and_with_punctuation_are_found_whole() -> None:
    known = KnownValuesRecognizer()
    known.add("SECRET", ["CorrectHorseBatteryStaple", "Hunter2Secret!"])
    assert spans(known, "pw CorrectHorseBatteryStaple, or Hunter2Secret!.") == [
        ("CorrectHorseBatteryStaple", "SECRET"),
        ("Hunter2Secret!", "SECRET"),
    ]


def test_entities_filter() -> None:
    known = KnownValuesRecognizer()
    known.add("PERSON", ["Maria Lopez"])
    assert spans(known, "Maria Lopez", ("LOCATION",)) == []
    assert spans(known, "Maria Lopez", ("PERSON",)) == [("Maria Lopez", "PERSON")]


def test_single_chunk_values_are_found_with_their_punctuation_and_separators() -> None:
    """Values of any masked column come back masked in free text: an SSN the checksum rules reject, a password,
    an e-mail address, a username, a number written with or without its separators."""
    known = KnownValuesRecognizer()
    known.add("US_SSN", ["123-45-6789"])
    known.add("SECRET", ["p@ssw0rd-crisp"])
    known.add("EMAIL_ADDRESS", ["o.vexley@plinth.example"])
    known.add("USERNAME", ["cmapple68"])
    text = (
        "Her SSN 123-45-6789, also 123456789; the new login for CMAPPLE68 is p@ssw0rd-crisp. "
        "Write to (o.vexley@plinth.example)."
    )
    assert spans(known, text) == [
        ("123-45-6789", "US_SSN"),
        ("123456789", "US_SSN"),
        ("CMAPPLE68", "USERNAME"),
        ("p@ssw0rd-crisp", "SECRET"),
        ("o.vexley@plinth.example", "EMAIL_ADDRESS"),
    ]
    # near misses stay as they are
    assert spans(known, "123-45-6780 and p@ssw0rd-crispy and cmapple69") == []


def test_short_chunks_are_not_remembered_and_plain_words_only_after_a_cue() -> None:
    """A secret of one English word (`Garden`) is found only after a login or password cue; a short chunk
    (`abc12`) never."""
    known = KnownValuesRecognizer(english=lambda: frozenset({"garden"}))
    assert known.add("SECRET", ["abc12", "Garden"]) == 1
    assert known.find("Weed the garden, abc12 too", []) == []
    [found] = known.find("her login password: Garden", [])
    assert (found.entity_type, found.start) == ("SECRET", len("her login password: "))


def test_a_known_birth_date_is_found_as_people_write_it() -> None:
    known = KnownValuesRecognizer()
    known.add("DATE_OF_BIRTH", ["1981-03-14"])
    for text, found in [
        ("born 14.03.1981 in Lyon", "14.03.1981"),
        ("on March 14, 1981 she", "March 14, 1981"),
        ("DOB 03/14/1981", "03/14/1981"),
        ("14th March 1981", "14th March 1981"),
        ("DOB 3/14/81 on file", "3/14/81"),
        ("born 14.03.81", "14.03.81"),
    ]:
        assert spans(known, text) == [(found, "DATE_OF_BIRTH")], text
    assert spans(known, "on March 15, 1981 and 15.03.1981") == []


def test_an_address_is_found_with_its_street_words_abbreviated_or_written_out() -> None:
    """`4417 Juniper Hollow Road` as `4417 juniper hollow rd`, `88 N. Pine St` as `88 North Pine Street`, and in
    hyphenated form."""
    known = KnownValuesRecognizer()
    known.add("STREET_ADDRESS", ["4417 Juniper Hollow Road", "88 N. Pine St", "9 Larkspur Avenue Apartment 4"])
    text = (
        "sent to 4417 juniper hollow rd. Then 88 North Pine Street, then 9 Larkspur Ave Apt 4; "
        "also 4417-Juniper-Hollow-Rd and 4417 Juniper Hollow Road"
    )
    assert [value for value, _ in spans(known, text)] == [
        "4417 juniper hollow rd",
        "88 North Pine Street",
        "9 Larkspur Ave Apt 4",
        "4417-Juniper-Hollow-Rd",
        "4417 Juniper Hollow Road",
    ]
    assert spans(known, "the road to juniper hollow; 4417 visitors") == []
