"""Maskwire's free-text recognizers and the detector's batch path: hits and near-misses."""

from __future__ import annotations

import re._parser as sre_parse

import pytest

from mcp_server.masking.detector import (
    SECRET_MIN_RUN,
    CardNumberRecognizer,
    CountryRecognizer,
    InternationalPhoneRecognizer,
    StreetAddressRecognizer,
    _for_ner,
)
from mcp_server.masking.field_values import CueRecognizer
from mcp_server.masking.recognizers import secret_recognizers
from mcp_server.masking.recognizers._base import RegexSecretRecognizer


def _spans(recognizer, text: str, threshold: float = 0.5) -> list[str]:  # type: ignore[no-untyped-def]
    return [text[r.start : r.end] for r in recognizer.analyze(text, None) if r.score >= threshold]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Ship it to 24 Clarke Avenue, please", [("24 Clarke Avenue", "STREET_ADDRESS")]),
        ("lives at 50345 Wingertweg 126\n Suite 408", [("50345 Wingertweg 126\n Suite 408", "STREET_ADDRESS")]),
        ("Via dei Fiorentini 1 is closed", [("Via dei Fiorentini 1", "STREET_ADDRESS")]),
        (
            "6750 Koskikatu 25 Apt. 864\nArtilleros\n, CO\n Uruguay 64677",
            [
                ("6750 Koskikatu 25 Apt. 864", "STREET_ADDRESS"),
                ("Artilleros", "LOCATION"),
                ("CO", "LOCATION"),
                ("Uruguay", "LOCATION"),
                ("64677", "POSTAL_CODE"),
            ],
        ),
        ("the corner of ul. Cicha 86 and Leokadia Trail?", [("ul. Cicha 86 and Leokadia Trail", "STREET_ADDRESS")]),
        ("PSC 0725, Box 6031\nAPO AP 99241", [("PSC 0725, Box 6031\nAPO AP 99241", "STREET_ADDRESS")]),
        ("Send to P.O. Box 242", [("P.O. Box 242", "STREET_ADDRESS")]),
        (
            "It's at 1317 Kimberly Way\n Grand Rapids\nMobile: 737 219 628",
            [("1317 Kimberly Way", "STREET_ADDRESS"), ("Grand Rapids", "LOCATION")],
        ),
        (
            "Flat 3, 10 Downing Street, London SW1A 2AA, United Kingdom",
            [("10 Downing Street", "STREET_ADDRESS"), ("London", "LOCATION"), ("SW1A 2AA", "POSTAL_CODE")],
        ),
        (
            "Mrs. Barbara Yudina, 62314 Mellemvej 32\nAalborg NO 9100",
            [("62314 Mellemvej 32", "STREET_ADDRESS"), ("Aalborg NO", "LOCATION"), ("9100", "POSTAL_CODE")],
        ),
    ],
)
def test_street_addresses_and_their_parts(text: str, parts: list[tuple[str, str]]) -> None:
    found = [(text[r.start : r.end], r.entity_type) for r in StreetAddressRecognizer().analyze(text, None)]
    for part in parts:
        assert part in found


@pytest.mark.parametrize(
    "text",
    [
        "Chapter 5 The Way Forward",
        "We sold 20 songs for Entertainment Weekly",
        "Order 12345 shipped on 2024-05-01",
        "Symphony No. 3 in E Flat Major",
        "3 x Wireless Mouse",
    ],
)
def test_not_street_addresses(text: str) -> None:
    assert _spans(StreetAddressRecognizer(), text) == []


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("call me at 0699 868 88 55 please", "0699 868 88 55"),
        ("+46 (0)8 928 571 38", "+46 (0)8 928 571 38"),
        ("+447700677662", "+447700677662"),
        ("082 490 1693-Office", "082 490 1693"),
        ("+1-903-140-4508x769", "+1-903-140-4508x769"),
        ("0490 39 07 81", "0490 39 07 81"),
    ],
)
def test_international_phones(text: str, phone: str) -> None:
    assert _spans(InternationalPhoneRecognizer(), text) == [phone]


@pytest.mark.parametrize(
    "text",
    ["2020-06-20", "12.11.1992", "195.206.132.199", "791-10-5487", "1 000 000", "ORD-415-555-0134", "total 781 1704"],
)
def test_not_phones(text: str) -> None:
    assert _spans(InternationalPhoneRecognizer(), text) == []


def test_card_numbers_of_every_length() -> None:
    rec = CardNumberRecognizer()
    assert _spans(rec, "card 4273468222888969924") == ["4273468222888969924"]  # 19-digit Visa
    assert _spans(rec, "2297051310616322") == ["2297051310616322"]  # 2-series Mastercard
    assert _spans(rec, "maestro card 584528792610") == ["584528792610"]  # 12 digits with a card word
    assert _spans(rec, "ref 584528792610") == []  # 12 digits without one
    assert _spans(rec, "4273468222888969925") == []  # Luhn fails
    assert _spans(rec, "1234567890123452") == []  # no issuer starts with 1


def test_countries() -> None:
    rec = CountryRecognizer()
    assert _spans(rec, "shipped from FINLAND to New Zealand") == ["FINLAND", "New Zealand"]
    assert _spans(rec, "a spain-based firm, the chad") == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("my name is borna jerković but everyone calls me B", "borna jerković"),
        ("Her maiden name is LeBatelier", "LeBatelier"),
        ("I'd like to join accounts with ms. Quinzia", "Quinzia"),
        ("Hi, I'm Misty", "Misty"),
        ("For my take on Mrs. Labrie, see", "Labrie"),
    ],
)
def test_cue_names(text: str, name: str) -> None:
    assert name in _spans(CueRecognizer(), text)


@pytest.mark.parametrize("text", ["I'm sorry about that", "Hi Team, thanks", "my name is not important", "I am happy"])
def test_cue_names_near_misses(text: str) -> None:
    assert [r for r in CueRecognizer().analyze(text, ["PERSON"])] == []


def test_zip_code_cue() -> None:
    assert _spans(CueRecognizer(), "zip code 43015 please") == ["43015"]
    assert _spans(CueRecognizer(), "postal code: B0J 2H0") == ["B0J 2H0"]


@pytest.mark.parametrize(
    ("text", "value", "entity"),
    [
        ("phone:\n0393 1144137\n\ne-mail:", "0393 1144137", "PHONE_NUMBER"),
        ("Phone: +44 (0)20 7946 0958", "+44 (0)20 7946 0958", "PHONE_NUMBER"),
        ("My driver's license number is 5130634", "5130634", "US_DRIVER_LICENSE"),
        ("passport no. X12345678 expires in May", "X12345678", "US_PASSPORT"),
        ("points won on credit card 060426070011 transactions", "060426070011", "CREDIT_CARD"),
        ("bank account number: 12345678", "12345678", "US_BANK_NUMBER"),
    ],
)
def test_numbers_announced_by_their_name(text: str, value: str, entity: str) -> None:
    found = [(text[r.start : r.end], r.entity_type) for r in CueRecognizer().analyze(text, None)]
    assert (value, entity) in found


@pytest.mark.parametrize(
    "text",
    [
        "my passport is valid until May",
        "tel 12",
        "call extension 4411",
        "the account is 12345678 days old",  # no "number" after "account"
        "driver's license renewed in 2024",
        "credit card limits for 2024",
    ],
)
def test_number_cues_near_misses(text: str) -> None:
    entities = ["PHONE_NUMBER", "US_DRIVER_LICENSE", "US_PASSPORT", "CREDIT_CARD", "US_BANK_NUMBER"]
    assert CueRecognizer().analyze(text, entities) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("In case of my child's account, we need to add Ryan P Costa as guardian", "Ryan P Costa"),
        ("Cormac Allan\nEchocardiographer", "Cormac Allan"),
    ],
)
def test_names_grow_over_initials_and_words_that_are_not_english(detector, text: str, name: str) -> None:  # type: ignore[no-untyped-def]
    assert name in [text[f.start : f.end] for f in detector.analyze(text) if f.entity == "PERSON"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Dear Luca,\nthanks for the order.", "Luca"),
        ("Luca called twice.", "Luca"),
        ("Priya Nair emailed the invoice.", "Priya Nair"),
        ("Ask Priya about the invoice.", "Priya"),
        ("cc: Olamide", "Olamide"),
    ],
)
def test_first_names_alone(detector, text: str, name: str) -> None:  # type: ignore[no-untyped-def]
    assert name in [text[f.start : f.end] for f in detector.analyze(text) if f.entity == "PERSON"]


@pytest.mark.parametrize("text", ["Customer called twice.", "Support called back.", "Someone called.", "Nobody Called"])
def test_no_name_before_a_verb_of_contact(detector, text: str) -> None:  # type: ignore[no-untyped-def]
    assert [f for f in detector.analyze(text) if f.entity == "PERSON"] == []


def test_names_do_not_grow_over_english_words(detector) -> None:  # type: ignore[no-untyped-def]
    text = "Yesterday Maria Lopez Called Support about Billing."
    names = [text[f.start : f.end] for f in detector.analyze(text) if f.entity == "PERSON"]
    assert names and all("Yesterday" not in n and "Called" not in n for n in names)


@pytest.mark.parametrize("text", ["We live in Paris 75001 now.", "The parcel went to 75001 Paris yesterday."])
def test_a_place_and_its_postcode_are_two_findings(detector, text: str) -> None:  # type: ignore[no-untyped-def]
    found = {(text[f.start : f.end], f.entity) for f in detector.analyze(text)}
    assert found == {("Paris", "LOCATION"), ("75001", "POSTAL_CODE")}


def test_a_postcode_is_cut_off_a_name_and_still_masked(detector) -> None:  # type: ignore[no-untyped-def]
    text = "She moved to Costamezzana 43015 last spring."
    found = {(text[f.start : f.end], f.entity) for f in detector.analyze(text)}
    assert ("43015", "POSTAL_CODE") in found
    assert all(not any(ch.isdigit() for ch in value) for value, entity in found if entity == "PERSON")


def test_ner_text_keeps_offsets() -> None:
    english = frozenset({"the", "city", "of"})
    text = "HELSINKI is the city of borna jerković, USA"
    prepared = _for_ner(text, english)
    assert len(prepared) == len(text)
    assert prepared.startswith("Helsinki is the city of Borna Jerković, USA")


def test_every_regex_secret_needs_a_long_run() -> None:
    """The detector skips the regex secret rules on texts without SECRET_MIN_RUN non-blank characters."""
    for recognizer in secret_recognizers():
        if isinstance(recognizer, RegexSecretRecognizer):
            for rule in recognizer.rules:
                assert sre_parse.parse(rule.regex).getwidth()[0] >= SECRET_MIN_RUN, rule.kind


def test_detector_batch(detector) -> None:  # type: ignore[no-untyped-def]
    texts = [
        "Maika van de Noort\nEmployment manager",
        "This song by ex-Zombie Ahtisaari is a perfect example",
        "ORD-2024000019",
        "12345 67890",
        "",
        "Call Maria Gonzalez at +44 7700 900 123 or write to maria@example.com",
    ]
    found = detector.analyze_batch(texts)
    shown = [[(t[f.start : f.end], f.entity) for f in fs] for t, fs in zip(texts, found, strict=True)]
    assert ("Maika van de Noort", "PERSON") in shown[0]
    assert shown[1] == [("Ahtisaari", "PERSON")]
    assert shown[2] == [] and shown[3] == [] and shown[4] == []
    assert ("+44 7700 900 123", "PHONE_NUMBER") in shown[5] and ("maria@example.com", "EMAIL_ADDRESS") in shown[5]


def test_nhs_numbers_need_a_word(detector) -> None:  # type: ignore[no-untyped-def]
    assert detector.analyze("ORD-2024000002") == []
    assert [f.entity for f in detector.analyze("NHS number 2024000002")] == ["UK_NHS"]
