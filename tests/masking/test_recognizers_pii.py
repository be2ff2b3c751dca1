"""Checksum helpers, the US phone and offline e-mail recognizers, and the package entry point."""

from __future__ import annotations

import pytest
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NoOpNlpEngine

from mcp_server.masking import recognizers as package
from mcp_server.masking.classify import classify_by_values
from mcp_server.masking.recognizers import (
    EMAIL_ENTITY,
    PHONE_ENTITY,
    SECRET_ENTITY,
    StrictEmailRecognizer,
    UsPhoneRecognizer,
    iban_valid,
    luhn_valid,
    maskwire_recognizers,
)
from mcp_server.masking.recognizers.national_ids import national_id

# --- checksums ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111111",  # Visa test card
        "4111 1111 1111 1111",
        "5555-5555-5555-4444",  # Mastercard test card
        "378282246310005",  # Amex test card
        "6011111111111117",  # Discover test card
        "79927398713",  # the classic Luhn example
    ],
)
def test_luhn_valid(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize(
    "number", ["4111111111111112", "1234567812345678", "79927398710", "", "7", "4111-1111-1111-111a", "４１１１"]
)
def test_luhn_invalid(number: str) -> None:
    assert not luhn_valid(number)


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 32",
        "DE89370400440532013000",
        "fr1420041010050500013m02606",
        "NL91ABNA0417164300",
        "BE68539007547034",
        "NO9386011117947",
        "CH9300762011623852957",
    ],
)
def test_iban_valid(iban: str) -> None:
    assert iban_valid(iban)


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 33",  # check digits wrong
        "DE8937040044053201300",  # one digit short for DE
        "XX89370400440532013000",  # unknown country
        "DE89-3704-0044-0532-0130-00",  # dashes are not IBAN formatting
        "",
        "GB82",
    ],
)
def test_iban_invalid(iban: str) -> None:
    assert not iban_valid(iban)


# --- US phone numbers ----------------------------------------------------------------------------


def phones(text: str) -> list[tuple[str, float]]:
    return [(text[r.start : r.end], r.score) for r in UsPhoneRecognizer().analyze(text, [PHONE_ENTITY])]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Reach me at (415) 555-0134 after 5.", "(415) 555-0134"),
        ("Office 415-555-0134", "415-555-0134"),
        ("US line +1 415 555 0134", "+1 415 555 0134"),
        ("Fax: 415.555.0134", "415.555.0134"),
        ("+1 (212) 555-0199", "+1 (212) 555-0199"),
        ("1-800-555-0100 toll free", "1-800-555-0100"),
        ("+14155550134", "+14155550134"),
    ],
)
def test_formatted_phone_scores_above_threshold(text: str, number: str) -> None:
    found = phones(text)
    assert [n for n, _ in found] == [number]
    assert found[0][1] >= 0.6


def test_context_word_raises_formatted_score() -> None:
    (plain,) = phones("Office 415-555-0134")
    (with_context,) = phones("Mobile: 415-555-0134")
    assert with_context[1] > plain[1]


@pytest.mark.parametrize("text", ["phone 4155550134", "Tel: 4155550134", "cell #4155550134", "fax 2125550199"])
def test_bare_ten_digits_need_context(text: str) -> None:
    ((number, score),) = phones(text)
    assert number.isdigit() and len(number) == 10
    assert score >= 0.6


@pytest.mark.parametrize(
    "text",
    [
        "order 4155550134 shipped",  # bare digits without context
        "phone 0155550134",  # area code cannot start with 0
        "phone 4151550134",  # exchange cannot start with 1
        "call 911-555-0134",  # N11 is not an area code
        "ORD-415-555-0134",
        "10.415.555.0134",
        "card 4111111111111111",
        "2024-05-12 10:11:12",
        "ip 192.168.100.123",
        "415-555-01345",
    ],
)
def test_phone_near_misses(text: str) -> None:
    assert phones(text) == []


# --- e-mail ----------------------------------------------------------------------------------------


def emails(text: str) -> list[str]:
    return [text[r.start : r.end] for r in StrictEmailRecognizer().analyze(text, [EMAIL_ENTITY])]


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("Contact jane.doe@example.com today", "jane.doe@example.com"),
        ("<first.last+tag@mail.co.uk>", "first.last+tag@mail.co.uk"),
        ("mailto:ops@acme.io", "ops@acme.io"),
        ("Email:bob_99@sub.example-corp.com.", "bob_99@sub.example-corp.com"),
    ],
)
def test_email_hits(text: str, email: str) -> None:
    assert emails(text) == [email]
    (result,) = StrictEmailRecognizer().analyze(text, [EMAIL_ENTITY])
    assert result.score == 0.9


@pytest.mark.parametrize(
    "text",
    [
        "icon logo@2x.png",
        "postgresql://app:secret@db.internal/orders",
        "ftp://anonymous@ftp.example.com/pub",
        "user@localhost",
        "a..b@example.com",
        "not an email: @example.com",
    ],
)
def test_email_near_misses(text: str) -> None:
    assert emails(text) == []


# --- entry point ---------------------------------------------------------------------------------


def test_entry_point_lists_every_family() -> None:
    recognizers = maskwire_recognizers()
    assert all(isinstance(r, EntityRecognizer) for r in recognizers)
    entities = {e for r in recognizers for e in r.supported_entities}
    assert entities == {SECRET_ENTITY, PHONE_ENTITY, EMAIL_ENTITY}
    assert package.SECRET_ENTITY == "SECRET"
    assert package.luhn_valid is luhn_valid and package.iban_valid is iban_valid
    # Fresh instances each call, so two registries never share recognizer ids.
    assert {r.id for r in recognizers}.isdisjoint({r.id for r in maskwire_recognizers()})


def test_analyzer_engine_with_only_maskwire_recognizers_and_no_spacy() -> None:
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in maskwire_recognizers():
        registry.add_recognizer(recognizer)
    engine = AnalyzerEngine(
        registry=registry,
        nlp_engine=NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "noop"}]),
        supported_languages=["en"],
    )
    text = "Call (415) 555-0134 or mail ops@acme.io; DB_PASSWORD=Sup3rS3cret! AKIAIOSFODNN7EXAMPLE"
    results = engine.analyze(text, language="en", score_threshold=0.5)
    found = sorted((r.entity_type, text[r.start : r.end]) for r in results)
    assert found == [
        (EMAIL_ENTITY, "ops@acme.io"),
        (PHONE_ENTITY, "(415) 555-0134"),
        (SECRET_ENTITY, "AKIAIOSFODNN7EXAMPLE"),
        (SECRET_ENTITY, "Sup3rS3cret!"),
    ]


@pytest.mark.parametrize(
    ("value", "entity"),
    [
        ("190641-4941", "DK_CPR"),
        ("2791269679323 49", "FR_INSEE"),
        ("308.271.618-08", "BR_CPF"),
        ("54030268860", "PL_PESEL"),
        ("760211-4105", "SE_PERSONNUMMER"),
        ("280689-867U", "FI_PERSONAL_IDENTITY_CODE"),
    ],
)
def test_national_identity_numbers(value: str, entity: str) -> None:
    assert national_id(value) == entity


@pytest.mark.parametrize(
    "value",
    [
        "320641-4941",  # no 32nd day
        "2791269679323 48",  # wrong INSEE key
        "308.271.618-09",  # wrong CPF check digit
        "111.111.111-11",  # passes the CPF checksum, but is a placeholder
        "54030268861",  # wrong PESEL check digit
        "ORD-2024000019",
        "12345",
    ],
)
def test_national_identity_near_misses(value: str) -> None:
    assert national_id(value) is None


def test_national_numbers_in_free_text_need_a_word_that_announces_them(detector) -> None:  # type: ignore[no-untyped-def]
    said = "Her PESEL is 54030268860 and her CPR number 190641-4941."
    found = {(said[f.start : f.end], f.entity) for f in detector.analyze(said)}
    assert {("54030268860", "PL_PESEL"), ("190641-4941", "DK_CPR")} <= found
    bare = "Shipment 54030268860 left on 190641-4941."
    assert not [f for f in detector.analyze(bare) if f.entity in ("PL_PESEL", "DK_CPR")]


def test_a_column_of_national_numbers_from_many_countries(detector) -> None:  # type: ignore[no-untyped-def]
    values = ["190641-4941", "591-28-5104", "54030268860", "760211-4105", "2791269679323 49", "308.271.618-08"]
    cls = classify_by_values("c27", values, detector.analyze_batch)
    assert cls.kind == "pii" and "national identity numbers" in cls.reason
    references = [str(10_000_000_000 + 7919 * i) for i in range(40)]  # some pass a checksum by chance
    assert classify_by_values("c28", references, detector.analyze_batch).kind != "pii"


def test_national_identity_types_are_listed_once_for_each_recognizer() -> None:
    from mcp_server.masking.recognizers.national_ids import ANNOUNCING_WORDS, national_id_recognizers
    from mcp_server.vocabulary import DIGIT_ENTITIES, NATIONAL_ID_TYPES, TEXT_ENTITIES

    recognized = {e for r in national_id_recognizers() for e in r.supported_entities}
    assert recognized == set(NATIONAL_ID_TYPES) == set(ANNOUNCING_WORDS)
    assert recognized <= set(TEXT_ENTITIES) and recognized <= DIGIT_ENTITIES


@pytest.mark.parametrize(
    "text",
    [
        "write to bart.fizz[at]grommet.example today",
        "bart.fizz%40grommet.example",
        "o dot vexley at plinth dot example",
        "mail bart.fizz at grommet.example",
        "ann (at) example (dot) org",
    ],
)
def test_obfuscated_email_addresses(text: str) -> None:
    from mcp_server.masking.recognizers.email_address import ObfuscatedEmailRecognizer

    assert ObfuscatedEmailRecognizer().find(text, []), text


@pytest.mark.parametrize("text", ["find us at acme.com", "we met at home", "logo (at) site.png", "ann@example.com"])
def test_obfuscated_email_near_misses(text: str) -> None:
    from mcp_server.masking.recognizers.email_address import ObfuscatedEmailRecognizer

    assert ObfuscatedEmailRecognizer().find(text, []) == [], text
