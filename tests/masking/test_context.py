"""Classification in context: the table's subject decides generic names, cities and coordinates; values in
context decide the rest. Hits and near misses for each rule, and a table read through the query path that
must not let a seeded value out."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from connectors.sql import SqlDatabase
from mcp_server.catalog import SqlCatalog
from mcp_server.config import parse_config
from mcp_server.masking.classify import classify_by_name, classify_by_values
from mcp_server.masking.context import table_context
from mcp_server.masking.operators import generalize


@pytest.mark.parametrize(
    ("table", "columns", "subject"),
    [
        ("clinicians", ["id", "NAME", "speciality"], "person"),
        ("Employee", ["EmployeeId", "LastName"], "person"),
        ("Customer", ["CustomerId", "FirstName", "LastName", "Company", "City"], "person"),
        ("customers", ["customerName", "contactLastName", "contactFirstName", "city"], "organisation"),
        ("Customers", ["CustomerID", "CompanyName", "ContactName", "City"], "organisation"),
        ("hospitals", ["id", "NAME", "CITY"], "organisation"),
        ("products", ["id", "title", "price"], "unknown"),
        ("Orders", ["OrderID", "ShipName", "ShipAddress", "ShipCity"], "unknown"),
    ],
)
def test_table_subject(table: str, columns: list[str], subject: str) -> None:
    assert table_context(table, columns).subject == subject


def _name(column: str, table: str, columns: list[str], sql_type: str = "TEXT"):  # type: ignore[no-untyped-def]
    return classify_by_name(column, sql_type, table_context(table, columns))


def test_a_generic_name_is_a_person_only_in_a_table_of_people() -> None:
    cls = _name("NAME", "clinicians", ["id", "NAME", "speciality"])
    assert cls is not None and (cls.kind, cls.entity) == ("pii", "PERSON")
    assert _name("NAME", "hospitals", ["id", "NAME", "CITY"]).kind == "clear"  # type: ignore[union-attr]
    assert _name("name", "products", ["id", "name", "price"]) is None  # the values decide


def test_cities_are_personal_in_a_persons_address_only() -> None:
    people = ["id", "FirstName", "LastName", "Address", "City"]
    assert _name("City", "Customer", people).entity == "LOCATION"  # type: ignore[union-attr]
    billing = ["InvoiceId", "BillingAddress", "BillingCity", "Total"]
    assert _name("BillingCity", "Invoice", billing).kind == "pii"  # type: ignore[union-attr]
    offices = ["officeCode", "city", "phone", "addressLine1"]
    assert _name("city", "offices", offices).kind == "clear"  # type: ignore[union-attr]
    shipping = ["OrderID", "ShipAddress", "ShipCity"]
    assert _name("ShipCity", "Orders", shipping).kind == "clear"  # type: ignore[union-attr]
    reference = ["city_id", "city", "country_id"]
    assert _name("city", "city", reference).kind == "clear"  # type: ignore[union-attr]


def test_coordinates_of_people_are_masked_of_organisations_clear() -> None:
    cls = _name("lat", "patients", ["id", "first_name", "lat", "lon"], "REAL")
    assert cls is not None and (cls.kind, cls.entity) == ("pii", "COORDINATE")
    assert _name("latitude", "hospitals", ["id", "name", "latitude"], "REAL").kind == "clear"  # type: ignore[union-attr]
    assert _name("lateness", "patients", ["id", "lateness"], "REAL").kind == "clear"  # type: ignore[union-attr]


def test_coordinates_generalise_to_about_a_kilometre() -> None:
    assert generalize("COORDINATE", "52.370215") == "52.37"
    assert generalize("COORDINATE", "-170.932") == "-170.93"
    assert generalize("COORDINATE", "north") == "<COORDINATE>"


def test_an_organisations_name_columns_stay_clear() -> None:
    columns = ["customerNumber", "customerName", "contactLastName", "contactFirstName"]
    assert _name("customerName", "customers", columns).kind == "clear"  # type: ignore[union-attr]
    assert _name("contactLastName", "customers", columns).entity == "PERSON"  # type: ignore[union-attr]


def test_password_abbreviation_in_a_column_name() -> None:
    assert _name("pw_sha", "clients", ["id", "pw_sha"]).entity == "SECRET"  # type: ignore[union-attr]
    assert _name("pwr_level", "devices", ["id", "pwr_level"]) is None


def test_nine_digit_national_numbers_without_separators(detector) -> None:  # type: ignore[no-untyped-def]
    numbers = ["111386333", "496742224", "603975148", "724915369", "140101234", "321654987"]
    cls = classify_by_values("k2", numbers, detector.analyze_batch)
    assert (cls.kind, cls.entity) == ("pii", "US_SSN")
    counter = [str(100000000 + i) for i in range(8)]  # a counter is a key
    assert classify_by_values("k2", counter, detector.analyze_batch).kind != "pii"
    invalid = ["000123456", "666123456", "912345678", "123004567", "123450000", "000999999"]
    assert classify_by_values("k2", invalid, detector.analyze_batch).entity != "US_SSN"


def test_english_labels_repeated_are_categories_not_names(detector) -> None:  # type: ignore[no-untyped-def]
    statuses = ["Shipped", "Resolved", "Cancelled", "On Hold", "Disputed", "In Process"]
    assert classify_by_values("status", statuses, detector.analyze_batch).kind == "clear"


def test_few_values_are_low_confidence(detector) -> None:  # type: ignore[no-untyped-def]
    cls = classify_by_values("title", ["Phoenix", "Bluebird"], detector.analyze_batch)
    assert cls.kind != "pii" and cls.confidence == "low"


def _db(tmp_path: Path, script: str, rows: dict[str, list[tuple[object, ...]]]) -> Path:
    path = tmp_path / "ctx.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(script)
        for table, values in rows.items():
            conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in values[0])})", values)
    return path


PEOPLE = [
    ("Brandon487 Edwards382", "cardiology"),
    ("Heimo492 Becker739", "oncology"),
    ("María Cristina495 Ledesma230", "radiology"),
    ("Gilles425 Diallo91", "general practice"),
    ("Yuki77 Tanaka12", "paediatrics"),
    ("Aoife310 Byrne8", "oncology"),
]
LANGUAGES = [("Afar",), ("Abkhazian",), ("Tigrinya",), ("Kinyarwanda",), ("Wolof",), ("Quechua",), ("Sesotho",)]
CITIES = [
    ("Kabul", "Kabol"),
    ("Qandahar", "Qandahar"),
    ("Herat", "Herat"),
    ("Haag", "Zuid-Holland"),
    ("Tilburg", "Noord-Brabant"),
    ("Utrecht", "Utrecht"),
]


def test_a_table_read_through_the_query_path(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    passwords = ["gaY6O#rujC)2", "J3&6DArmHpZ*", "i6C8Ry&_+0zz", "Xq9!mw2LpA", "tT5$hh2kLm", "Vb7&uu1pQw"]
    digests = [hashlib.sha1(p.encode()).hexdigest() for p in passwords]
    path = _db(
        tmp_path,
        "CREATE TABLE clinicians (NAME TEXT, speciality TEXT);"
        "CREATE TABLE languages (id INTEGER, name TEXT);"
        "CREATE TABLE cities (name TEXT, district TEXT);"
        "CREATE TABLE clients (nm TEXT, pw_h TEXT, lat REAL, note TEXT);",
        {
            "clinicians": PEOPLE,
            "languages": [(i, n) for i, (n,) in enumerate(LANGUAGES)],
            "cities": CITIES,
            "clients": [
                (p[0], d, 52.370215 + i, f"Customer called; password reset to {pw} as requested.")
                for i, (p, d, pw) in enumerate(zip(PEOPLE, digests, passwords, strict=True))
            ],
        },
    )
    config = parse_config(
        f'[masking]\nkey = "test-key-0123456789abcdef"\n[[sources]]\nname = "ctx"\nkind = "sql"\nurl = "sqlite:///{path}"\n'
    )
    source = config.source("ctx")
    catalog = SqlCatalog(source, SqlDatabase("ctx", config.sql_url(source)), detector, 50)  # type: ignore[arg-type]
    try:
        assert catalog.classify("clinicians", "NAME").entity == "PERSON"
        assert catalog.classify("clinicians", "NAME").reason.endswith("confidence high")
        assert catalog.classify("languages", "name").kind == "clear"
        assert catalog.classify("cities", "name").kind == "clear"
        assert catalog.classify("clients", "pw_h").entity == "SECRET"  # digests in a table about people
        assert catalog.classify("clients", "lat").entity == "COORDINATE"
    finally:
        catalog.database.dispose()

    from mcp_server.runtime import Runtime

    runtime = Runtime.start(parse_config(config_text(path, tmp_path)))
    try:
        out = runtime.service.query("ctx", "SELECT nm, pw_h, lat, note FROM clients").structured
        shown = repr(out.rows)
        for seeded in [p for p, _ in PEOPLE] + digests + passwords + ["52.370215"]:
            assert seeded not in shown
        assert "52.37" in shown  # generalised, not hidden
        languages = runtime.service.query("ctx", "SELECT name FROM languages").structured
        assert sorted(r[0] for r in languages.rows) == sorted(n for (n,) in LANGUAGES)  # clear, in any order
    finally:
        runtime.close()


def config_text(path: Path, tmp_path: Path) -> str:
    return (
        f'[server]\nstate_dir = "{tmp_path / "state"}"\n[masking]\nkey = "test-key-0123456789abcdef"\n'
        f'[[sources]]\nname = "ctx"\nkind = "sql"\nurl = "sqlite:///{path}"\n'
    )
