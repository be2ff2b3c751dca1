import pytest

from mcp_server.masking.classify import classify_by_name, classify_by_values, in_context
from mcp_server.masking.context import table_context

CUSTOMER_COLUMNS = ["id", "FirstName", "LastName", "Email", "Phone", "Address", "City", "State", "PostalCode"]


@pytest.mark.parametrize(
    ("column", "sql_type", "entity"),
    [
        ("email", "TEXT", "EMAIL_ADDRESS"),
        ("EMAIL", "VARCHAR(200)", "EMAIL_ADDRESS"),
        ("customerEmail", "TEXT", "EMAIL_ADDRESS"),
        ("FirstName", "NVARCHAR(40)", "PERSON"),
        ("LAST_NAME", "TEXT", "PERSON"),
        ("surname", "TEXT", "PERSON"),
        ("phone", "TEXT", "PHONE_NUMBER"),
        ("Fax", "NVARCHAR(24)", "PHONE_NUMBER"),
        ("mobile_number", "BIGINT", "PHONE_NUMBER"),
        ("ssn", "TEXT", "US_SSN"),
        ("card_number", "TEXT", "CREDIT_CARD"),
        ("street_address", "TEXT", "STREET_ADDRESS"),
        ("PostalCode", "NVARCHAR(10)", "POSTAL_CODE"),
        ("zip", "INTEGER", "POSTAL_CODE"),
        ("birth_date", "DATE", "DATE_OF_BIRTH"),
        ("BirthDate", "DATETIME", "DATE_OF_BIRTH"),
        ("password_hash", "TEXT", "SECRET"),
        ("api_key", "TEXT", "SECRET"),
        ("username", "TEXT", "USERNAME"),
        ("passport_no", "TEXT", "US_PASSPORT"),
        ("drivers_license", "TEXT", "US_DRIVER_LICENSE"),
        ("City", "NVARCHAR(40)", "LOCATION"),
        ("pw_sha1", "TEXT", "SECRET"),
    ],
)
def test_personal_columns_by_name(column: str, sql_type: str, entity: str) -> None:
    cls = classify_by_name(column, sql_type, table_context("Customer", CUSTOMER_COLUMNS))
    assert cls is not None and cls.kind == "pii" and cls.entity == entity
    assert cls.predicates == "equality"


@pytest.mark.parametrize(
    ("column", "sql_type"),
    [
        ("id", "INTEGER"),
        ("CustomerId", "INTEGER"),
        ("address_id", "INTEGER"),
        ("InvoiceDate", "DATETIME"),
        ("ordered_at", "TEXT"),  # decided by values, not by name
        ("Total", "NUMERIC(10,2)"),
        ("last_login_at", "TIMESTAMP"),
        ("sku", "TEXT"),
        ("order_uuid", "UUID"),
    ],
)
def test_keys_amounts_and_business_dates_are_not_personal(column: str, sql_type: str) -> None:
    cls = classify_by_name(column, sql_type)
    assert cls is None or cls.kind == "clear"


@pytest.mark.parametrize("column", ["State", "Country", "BillingCountry", "ship_country", "district", "country_code"])
def test_regions_and_countries_are_not_personal_by_themselves(column: str) -> None:
    for columns in (CUSTOMER_COLUMNS, ["id", "state", "amount"]):
        cls = classify_by_name(column, "TEXT", table_context("Customer", columns))
        assert cls is not None and cls.kind == "clear"


@pytest.mark.parametrize("column", ["Company", "CompanyName", "employer"])
def test_company_names_are_not_personal_by_themselves(column: str) -> None:
    cls = classify_by_name(column, "TEXT")
    assert cls is not None and cls.kind == "clear"


def test_free_text_names_are_scanned() -> None:
    cls = classify_by_name("notes", "TEXT")
    assert cls is not None and cls.kind == "text"


def test_values_decide_ambiguous_columns(detector) -> None:  # type: ignore[no-untyped-def]
    emails = ["ann@example.com", "bob.smith@example.org", "c.d@mail.example.net"]
    assert classify_by_values("contact", emails, detector.analyze_batch).entity == "EMAIL_ADDRESS"
    dates = ["2025-01-03", "2025-02-11T10:00:00", "2024-12-30"]
    assert classify_by_values("happened", dates, detector.analyze_batch).kind == "clear"
    ids = ["10001", "10002", "10003"]
    assert classify_by_values("ref", ids, detector.analyze_batch).kind == "clear"
    tiers = ["bronze", "silver", "gold"]
    assert classify_by_values("tier", tiers, detector.analyze_batch).kind == "clear"
    prose = ["Customer Maria Gonzalez called about her order and asked for a refund by email today"] * 3
    assert classify_by_values("remark", prose, detector.analyze_batch).kind == "text"
    assert classify_by_values("empty", [], detector.analyze_batch).kind == "text"


@pytest.mark.parametrize(
    ("column", "sql_type", "entity"),
    [
        ("fn", "TEXT", "PERSON"),
        ("ln", "TEXT", "PERSON"),
        ("eml", "TEXT", "EMAIL_ADDRESS"),
        ("tel", "TEXT", "PHONE_NUMBER"),
        ("addr1", "TEXT", "STREET_ADDRESS"),
        ("nombre", "TEXT", "PERSON"),
        ("apellido", "TEXT", "PERSON"),
        ("correo", "TEXT", "EMAIL_ADDRESS"),
        ("telefono", "TEXT", "PHONE_NUMBER"),
        ("direccion", "TEXT", "STREET_ADDRESS"),
        ("geburtsdatum", "TEXT", "DATE_OF_BIRTH"),
        ("strasse", "TEXT", "STREET_ADDRESS"),
        ("vorname", "TEXT", "PERSON"),
        ("nachname", "TEXT", "PERSON"),
        ("MothersMaiden", "TEXT", "PERSON"),
        ("CVV2", "TEXT", "CREDIT_CARD"),
    ],
)
def test_abbreviated_and_foreign_column_names(column: str, sql_type: str, entity: str) -> None:
    cls = classify_by_name(column, sql_type)
    assert cls is not None and cls.kind == "pii" and cls.entity == entity


def test_business_and_hire_dates_stay_clear() -> None:
    for column in ("InvoiceDate", "ordered_at", "created_at", "HireDate", "hired"):
        cls = classify_by_name(column, "DATETIME")
        assert cls is not None and cls.kind == "clear"


def test_values_name_shaped_words_are_personal(detector) -> None:  # type: ignore[no-untyped-def]
    first = ["Marie", "Patricia", "Hamanová", "Desrosiers", "Kubíková", "Gijsbrecht", "Wacława", "Tomomi"]
    cls = classify_by_values("c1", first, detector.analyze_batch)
    assert cls.kind == "pii" and cls.entity in ("PERSON", "LOCATION")
    upper = ["MARIE HAMANOVÁ", "PATRICIA DESROSIERS", "GIJSBRECHT VAN DIJK", "TOMOMI NISHIYAMA"]
    assert classify_by_values("c2", upper, detector.analyze_batch).kind == "pii"


def test_values_titles_and_labels_stay_clear(detector) -> None:  # type: ignore[no-untyped-def]
    titles = ["Balls to the Wall", "For Those About To Rock (We Salute You)", "Restless and Wild", "Fast As a Shark"]
    assert classify_by_values("t", titles, detector.analyze_batch).kind == "clear"
    products = ["Wireless Mouse - Navy", "Laptop Stand - Black", "Coffee Grinder - Red", "Yoga Mat - Green"]
    assert classify_by_values("p", products, detector.analyze_batch).kind == "clear"
    uuids = ["6b0b4f2e-1a2b-4c3d-8e9f-0123456789ab", "5e3c1d7a-9b40-4b8e-a6f1-3f0a2b9c8d71"]
    assert classify_by_values("u", uuids, detector.analyze_batch).kind == "clear"


def test_values_titles_with_an_email_are_scanned(detector) -> None:  # type: ignore[no-untyped-def]
    values = ["Balls to the Wall", "Contact ann@example.com", "Restless and Wild", "Fast As a Shark"]
    assert classify_by_values("t", values, detector.analyze_batch).kind == "text"


def test_names_of_things_holding_identifiers_are_scanned(detector) -> None:  # type: ignore[no-untyped-def]
    """A `title` in a table not about people stays clear for the names NER finds in it, not for identifiers."""
    context = table_context("docs", ["id", "title"])
    for values in (
        ["Quarterly report", "Offer letter for Ysolde Brackenridge 478-22-9013 ysolde.b@quuxpost.org", "Roadmap"],
        ["Release notes 4.2", "Holiday rota", "Access for vendor: key sk_live_4eC39HqLyjWDarjtT1zdp7dc"],
    ):
        cls = in_context({"title": classify_by_values("title", values, detector.analyze_batch)}, ["title"], context)
        assert cls["title"].kind == "text" and not cls["title"].names, cls["title"]
    films = ["Academy Dinosaur", "A Epic Drama of a Feminist And a Mad Scientist who must Battle a Teacher"]
    cls = in_context({"title": classify_by_values("title", films, detector.analyze_batch)}, ["title"], context)
    assert cls["title"].kind == "clear"  # names of things NER alone finds stay readable


def test_values_birth_dates(detector) -> None:  # type: ignore[no-untyped-def]
    births = ["3/29/1982", "2/28/1956", "11/2/1990", "7/14/1971", "1/5/1949", "9/30/2001"]
    cls = classify_by_values("d", births, detector.analyze_batch)
    assert cls.kind == "pii" and cls.entity == "DATE_OF_BIRTH"
    orders = ["2024-01-03", "2024-05-11", "2023-12-30", "2024-02-14", "2024-03-01", "2023-11-20"]
    assert classify_by_values("d", orders, detector.analyze_batch).kind == "clear"


def test_values_generated_passwords_are_secrets(detector) -> None:  # type: ignore[no-untyped-def]
    passwords = ["eiZookooB7", "eb6soCha4ae", "sha3Sohzee", "Aekie7ohs", "jeiziejohH3ai", "lohhee8Zah"]
    cls = classify_by_values("c16", passwords, detector.analyze_batch)
    assert (cls.kind, cls.entity) == ("pii", "SECRET")


@pytest.mark.parametrize(
    "values",
    [
        ["Wasco1982", "Trely1962", "Deace1999", "Wilthe84", "Fiect1941", "Lovol1990"],  # usernames
        ["SKU-1234", "SKU-2231", "SKU-9981", "SKU-1002"],
        ["d41d8cd98f00b204e9800998ecf8427e", "9e107d9d372bb6826bd81d3542a419d6", "e4d909c290d0fb1ca068ffaddf22cbd0"],
        ["XR500", "ZX80", "T1000", "RX7800"],
        ["Widget2000", "Gadget3000", "Sprocket12"],
    ],
)
def test_values_that_are_not_generated_passwords(detector, values: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert classify_by_values("c", values, detector.analyze_batch).entity != "SECRET"


def test_values_numbered_handles_are_usernames(detector) -> None:  # type: ignore[no-untyped-def]
    handles = ["Wasco1982", "Fultses", "Cognoy", "Restlys", "Trely1962", "Hatelt", "Thattere", "Deace1999", "Wilthe84"]
    cls = classify_by_values("c15", handles, detector.analyze_batch)
    assert (cls.kind, cls.entity) == ("pii", "USERNAME")
    catalogue = ["Widget2000", "Gadget3000", "Sprocket12", "Hammer", "Wrench", "Spanner", "Drill", "Saw", "Lathe"]
    assert classify_by_values("c", catalogue, detector.analyze_batch).entity != "USERNAME"
    models = ["XR500", "ZX80", "T1000", "RX7800", "GT40", "MK2"]
    assert classify_by_values("c", models, detector.analyze_batch).entity != "USERNAME"


@pytest.mark.parametrize(
    "values",
    [
        [
            "$2b$12$KIXQJ1qkzJ0s5b9Tq3xY9eW8Zr3Q1a2b3c4d5e6f7g8h9i0j1k2l3m",
            "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGx",
        ],
        ["$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"],
        ["pbkdf2_sha256$600000$Fk0yQ2V2$Kq6Vb2pQ8c0mYx1QH9tq0Z0Y3q1J5n3cD5c0w1x2y3z="],
        ["$6$rounds=5000$saltsalt$Fq6gk9G1kH0mH9Yw5Hh6Xo0Q1aJ2.Q3bN4cM5dL6eK7fJ8gI9hH0"],
    ],
)
def test_values_password_hashes_are_secrets(detector, values: list[str]) -> None:  # type: ignore[no-untyped-def]
    cls = classify_by_values("c07", values, detector.analyze_batch)
    assert (cls.kind, cls.entity, cls.reason) == ("pii", "SECRET", "values (password hashes)")


def test_values_content_hashes_are_not_secrets(detector) -> None:  # type: ignore[no-untyped-def]
    digests = [
        "d41d8cd98f00b204e9800998ecf8427e",
        "9e107d9d372bb6826bd81d3542a419d6",
        "e4d909c290d0fb1ca068ffaddf22cbd0",
    ]
    assert classify_by_values("c08", digests, detector.analyze_batch).kind == "clear"


@pytest.mark.parametrize(
    ("column", "sql_type"),
    [
        ("salary", "INTEGER"),
        ("annual_income", "NUMERIC"),
        ("diagnosis", "TEXT"),
        ("hiv_status", "TEXT"),
        ("religion", "TEXT"),
        ("ethnicity", "VARCHAR(40)"),
        ("blood_type", "TEXT"),
        ("medications", "TEXT"),
    ],
)
def test_health_pay_and_special_categories_of_people_are_masked(column: str, sql_type: str) -> None:
    people = table_context("employees", ["id", "first_name", "last_name", "email", column])
    found = classify_by_name(column, sql_type, people)
    assert found is not None and found.kind == "pii" and found.entity == "SENSITIVE", found


def test_the_same_words_about_things_stay_readable() -> None:
    products = table_context("products", ["id", "name", "condition", "price"])
    found = classify_by_name("condition", "TEXT", products)
    assert found is None or found.kind != "pii", found
    keyed = classify_by_name("salary_band_id", "INTEGER", table_context("employees", ["id", "first_name"]))
    assert keyed is not None and keyed.kind == "clear", keyed  # a key, not the pay


def test_identity_numbers_kept_as_integers_are_personal() -> None:
    """An SSN in an INTEGER column (`358514232`, a leading zero lost: `12345678`) is masked; keys, counters and
    quantities in integer columns stay clear by their type."""
    from mcp_server.masking.classify import identity_numbers

    ssns = [358514232, 197838556, 461631011, 12345678, 523190442, 288730155, 741209334, 605118273]
    found = identity_numbers(ssns)
    assert found is not None and found.kind == "pii" and found.entity == "US_SSN"
    assert identity_numbers(list(range(100_000_000, 100_000_040))) is None  # a counter
    assert identity_numbers([5, 17, 230, 4_100, 99_000]) is None
    assert identity_numbers([123_456, 234_567, 345_678]) is None


def test_a_column_of_json_documents_is_scanned_whatever_its_first_rows_hold() -> None:
    """The sample of a JSON column says nothing of the rows after it: each row holds its own fields."""
    values = [f'{{"event": "login", "n": {i}}}' for i in range(50)]
    found = classify_by_values("payload", values, lambda texts, _context: [[] for _ in texts])
    assert found.kind == "text"
