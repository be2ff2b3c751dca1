import pytest

from mcp_server.masking.classify import classify_by_name, classify_by_values

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
        ("street_address", "TEXT", "LOCATION"),
        ("PostalCode", "NVARCHAR(10)", "LOCATION"),
        ("zip", "INTEGER", "LOCATION"),
        ("birth_date", "DATE", "DATE_OF_BIRTH"),
        ("BirthDate", "DATETIME", "DATE_OF_BIRTH"),
        ("password_hash", "TEXT", "SECRET"),
        ("api_key", "TEXT", "SECRET"),
        ("username", "TEXT", "USERNAME"),
        ("passport_no", "TEXT", "US_PASSPORT"),
        ("drivers_license", "TEXT", "US_DRIVER_LICENSE"),
        ("Company", "NVARCHAR(80)", "ORGANIZATION"),
    ],
)
def test_personal_columns_by_name(column: str, sql_type: str, entity: str) -> None:
    cls = classify_by_name(column, sql_type, CUSTOMER_COLUMNS)
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
    cls = classify_by_name(column, sql_type, ["id", "total", "status"])
    assert cls is None or cls.kind == "clear"


def test_state_is_personal_only_next_to_an_address() -> None:
    assert classify_by_name("State", "TEXT", CUSTOMER_COLUMNS).kind == "pii"  # type: ignore[union-attr]
    assert classify_by_name("state", "TEXT", ["id", "state", "amount"]) is None


def test_free_text_names_are_scanned() -> None:
    cls = classify_by_name("notes", "TEXT", [])
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
