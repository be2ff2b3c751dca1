"""Cue words and address blocks in free text: hits and near misses (names before a contact verb or an address,
phones after a verb of calling, street lines in French, Italian, Spanish, Portuguese and Dutch forms)."""

from __future__ import annotations

import pytest

from mcp_server.masking.field_values import CueRecognizer
from mcp_server.masking.ner import names_before_addresses
from mcp_server.masking.recognizers.addresses import StreetAddressRecognizer


def _found(recognizer, text: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(text[r.start : r.end], r.entity_type) for r in recognizer.find(text, [])]


def test_a_name_before_a_contact_verb_and_a_phone_after_calling() -> None:
    assert ("Justin", "PERSON") in _found(CueRecognizer(), "Justin asked to ship to the new address.")
    assert ("2749142207", "PHONE_NUMBER") in _found(CueRecognizer(), "Customer called from 2749142207 today.")
    assert _found(CueRecognizer(), "Support asked for a refund.") == []
    assert _found(CueRecognizer(), "We called at 10:30 on 2024-05-01.") == []


@pytest.mark.parametrize(
    ("text", "street", "postcode", "place"),
    [
        (
            "à Denise Techer, 80, boulevard Patrick Poirier, 23982 Fournier-sur-Roussel. Tél. +33",
            "80, boulevard Patrick Poirier",
            "23982",
            "Fournier-sur-Roussel",
        ),
        (
            "a Ennio, Viale Ficino, 5 Piano 0, 90143 Caglio. Tel. +39 0776293873.",
            "Viale Ficino, 5 Piano 0",
            "90143",
            "Caglio",
        ),
        ("naar Maud, Evibaan 15, 7312 CU Burdaard. Tel. 048 9344447.", "Evibaan 15", "7312 CU", "Burdaard"),
        (
            "a Donato, Via Rosalva Pascual 48, 41469 Cuenca. Tel. +34 837 887 092.",
            "Via Rosalva Pascual 48",
            "41469",
            "Cuenca",
        ),
        ("Nicolas Renard, 171, rue Dubois, 17933 Denis. Tél. +33", "171, rue Dubois", "17933", "Denis"),
    ],
)
def test_street_lines_in_other_languages(text: str, street: str, postcode: str, place: str) -> None:
    found = _found(StreetAddressRecognizer(), text)
    assert (street, "STREET_ADDRESS") in found
    assert (postcode, "POSTAL_CODE") in found
    assert (place, "LOCATION") in found


@pytest.mark.parametrize(
    "text",
    [
        "Place 12 orders by Friday, 3 items each.",
        "In 2019, during 12 weeks we shipped.",
        "Version 2, 3 bugs fixed.",
    ],
)
def test_street_near_misses(text: str) -> None:
    assert [e for _, e in _found(StreetAddressRecognizer(), text) if e == "STREET_ADDRESS"] == []


def test_the_addressee_before_an_address_block(detector) -> None:  # type: ignore[no-untyped-def]
    text = "Bitte die Rechnung an Henny Hahn, Säuberlichplatz 35-51, 35827 Scheinfeld senden."
    found = [(text[f.start : f.end], f.entity) for f in detector.analyze(text)]
    assert ("Henny Hahn", "PERSON") in found
    for near in (
        "Deliver it to The Office, Säuberlichplatz 35, 35827 Scheinfeld.",
        "Ship, Säuberlichplatz 35, Scheinfeld.",
    ):
        street = StreetAddressRecognizer().find(near, ["STREET_ADDRESS"])
        assert street and names_before_addresses(near, street) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("See you on the trail,\nLars Ferreira  \nCustomer Support, Trailhead Outfitters", "Lars Ferreira"),
        ("Best regards,\nAnna Schmidt\nHead of Sales", "Anna Schmidt"),
        ("Mit freundlichen Grüßen\nJürgen Weiß", "Jürgen Weiß"),
        ("Cordialement,\nÉlodie Marchand", "Élodie Marchand"),
        ("Met vriendelijke groet,\nSanne de Vries", "Sanne"),
    ],
)
def test_the_name_under_a_sign_off_is_a_person(text: str, name: str) -> None:
    found = [text[r.start : r.end] for r in CueRecognizer().find(text, ["PERSON"])]
    assert any(name in f for f in found), found


@pytest.mark.parametrize("text", ["Thanks,\nthe team", "Cheers!\nWe ship on Monday", "Regards,\n\n"])
def test_a_sign_off_without_a_name_finds_nothing(text: str) -> None:
    assert CueRecognizer().find(text, ["PERSON"]) == []


def test_a_sign_off_in_text_whose_lines_were_joined() -> None:
    text = "You can change these at any time. See you on the trail, Lars Ferreira Customer Support, Trailhead"
    found = [text[r.start : r.end] for r in CueRecognizer().find(text, ["PERSON"])]
    assert any("Lars Ferreira" in f for f in found), found


def test_a_sign_off_with_a_blank_line_before_the_name() -> None:
    text = (
        "Thank you for joining.\n\nSee you on the trail,\n\nLars Ferreira  \nCustomer Support, Trailhead Outfitters\n"
    )
    found = [text[r.start : r.end] for r in CueRecognizer().find(text, ["PERSON"])]
    assert "Lars Ferreira" in found, found
