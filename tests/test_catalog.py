"""Table-level classification: a column is judged with its neighbours when its own values cannot say."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from connectors.sql import SqlDatabase
from mcp_server.catalog import SqlCatalog
from mcp_server.config import parse_config
from mcp_server.runtime import Runtime

ADDRESSES = [
    ("24 Clarke Avenue", "Springfield", "3910", "4"),
    ("50345 Wingertweg 126", "Harstad", "5000-047", "2"),
    ("8 Rue de Tanger", "Marseille", "13001", "9"),
    ("1317 Kimberly Way", "Grand Rapids", "49503", "1"),
    ("77 Via Roma", "Montafia", "14014", "3"),
    ("12 Harbour Road", "Sisimiut", "3911", "6"),
]


def _catalog(tmp_path: Path, rows: list[tuple[str, ...]], detector) -> SqlCatalog:  # type: ignore[no-untyped-def]
    path = tmp_path / "anon.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (c01 TEXT, c02 TEXT, c03 TEXT, c04 TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    config = parse_config(f'[[sources]]\nname = "anon"\nkind = "sql"\nurl = "sqlite:///{path}"\n')
    source = config.source("anon")
    return SqlCatalog(source, SqlDatabase("anon", config.sql_url(source)), detector, 50)  # type: ignore[arg-type]


def test_postcodes_are_known_by_the_address_next_to_them(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    catalog = _catalog(tmp_path, ADDRESSES, detector)
    classes = catalog.classify_table("t")
    assert classes["c01"].entity == "STREET_ADDRESS"
    assert (classes["c03"].kind, classes["c03"].entity) == ("pii", "POSTAL_CODE")
    assert classes["c04"].kind == "clear"  # one-digit quantities are not postcodes
    catalog.database.dispose()


def test_postcode_shaped_codes_without_an_address_stay_clear(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    rows = [("Wireless Mouse", "Rock", code, "4") for _, _, code, _ in ADDRESSES]
    catalog = _catalog(tmp_path, rows, detector)
    assert catalog.classify_table("t")["c03"].kind == "clear"
    catalog.database.dispose()


def test_counters_next_to_an_address_are_keys_not_postcodes(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    rows = [(street, city, str(10000 + i), "4") for i, (street, city, _, _) in enumerate(ADDRESSES)]
    catalog = _catalog(tmp_path, rows, detector)
    assert catalog.classify_table("t")["c03"].kind == "clear"
    catalog.database.dispose()


def test_a_schema_change_is_seen_by_the_name_index_and_the_classes(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    """The index and the signature are kept per schema snapshot; a refresh that changes the schema must not leave
    a check or a column's masking decided on the old one."""
    catalog = _catalog(tmp_path, ADDRESSES, detector)
    index = catalog.schema_index()
    assert catalog.schema_index() is index  # built once per snapshot
    assert catalog.classify("t", "c01").entity == "STREET_ADDRESS"
    with sqlite3.connect(tmp_path / "anon.sqlite") as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT)")
    assert "people" not in catalog.schema_index().columns  # cached until the source reads its schema again
    catalog.tables(refresh=True)
    fresh = catalog.schema_index()
    assert fresh is not index and fresh.columns["people"] == ["id", "email"]
    assert "email" in fresh.names and "people" in fresh.names
    assert catalog.classify("people", "email").entity == "EMAIL_ADDRESS"
    assert catalog.classify("t", "c01").entity == "STREET_ADDRESS"  # classified again after the change
    catalog.database.dispose()


def test_a_column_repeating_the_tables_names_is_masked_as_names(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    """Lower-case first names in a tags list, or a label column of first names, are names of the table's people
    even where NER and the name-shape rules cannot tell (generated names, not a dictionary)."""
    import random
    import string

    rng = random.Random(7)
    people = [
        ("".join(rng.choice(string.ascii_lowercase) for _ in range(7)).title(), f"Lastname{i}") for i in range(12)
    ]
    path = tmp_path / "staff.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE employees (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, tags TEXT, c07 TEXT)"
        )
        for i, (first, last) in enumerate(people):
            tags = f'["{first.lower()}", "{people[(i + 1) % len(people)][0].lower()}"]'
            label = first if i % 3 else ["urgent", "vip"][i % 2]
            conn.execute("INSERT INTO employees VALUES (?, ?, ?, ?, ?)", (i, first, last, tags, label))
        conn.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, tags TEXT)")
        conn.executemany("INSERT INTO products VALUES (?, ?)", [(i, '["blue", "large"]') for i in range(12)])
    config = parse_config(f'[[sources]]\nname = "staff"\nkind = "sql"\nurl = "sqlite:///{path}"\n')
    source = config.source("staff")
    catalog = SqlCatalog(source, SqlDatabase("staff", config.sql_url(source)), detector, 50)  # type: ignore[arg-type]
    classes = catalog.classify_table("employees")
    assert (classes["tags"].kind, classes["tags"].entity) == ("pii", "PERSON"), classes["tags"]
    assert (classes["c07"].kind, classes["c07"].entity) == ("pii", "PERSON"), classes["c07"]
    assert catalog.classify_table("products")["tags"].kind != "pii"  # no people, no names to repeat
    catalog.database.dispose()


def test_a_code_built_around_identity_numbers_is_not_a_label(tmp_path: Path) -> None:
    """`'C' || ssn`: a letter and nine digits read as one short word and a number, never as a label of words."""

    path = tmp_path / "d.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, full_name TEXT, ssn TEXT)")
        numbers = ["536-22-8194", "304-67-1298", "219-09-9998", "457-55-5462", "078-05-1120"]
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?)", [(i, f"N{i} P", n) for i, n in enumerate(numbers)])
        conn.execute("CREATE VIEW directory AS SELECT id, 'C' || replace(ssn, '-', '') AS ref_code FROM customers")
    config = parse_config(
        f'[server]\nstate_dir = "{tmp_path / "state"}"\n[[sources]]\nname = "x"\nkind = "sql"\nurl = "sqlite:///{path}"\n'
    )
    runtime = Runtime.start(config, agent="reviewer")
    try:
        assert runtime.sources.catalogs["x"].classify("directory", "ref_code").kind == "pii"
        text = runtime.service.query("x", "SELECT ref_code FROM directory").text
    finally:
        runtime.close()
    assert not any(n.replace("-", "") in text for n in numbers), text


def test_names_of_things_in_clear_columns_are_not_taken_for_people_in_free_text(tmp_path: Path) -> None:
    """A ticket that names products of the source's own clear `products.name` column keeps them; the people in it
    are masked (a language model alone took `Jordan Runner` and `Harper Chair` for persons)."""
    path = tmp_path / "shop.db"
    products = ["Madison Desk", "Atlas Mini", "Jordan Runner", "Harper Chair", "Kafka Lamp", "Oak Shelf", "Nova Kettle"]
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
        conn.executemany("INSERT INTO products VALUES (?, ?, ?)", [(i, n, 9.5 + i) for i, n in enumerate(products)])
        conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, body TEXT)")
        bodies = [
            "The Madison Desk arrived broken; Maria Gonzalez called twice about it.",
            "Jordan Runner sneakers in sizes 9-12 are back, said Harper Chair fan Tom Baker.",
        ]
        conn.executemany("INSERT INTO tickets (body) VALUES (?)", [(b,) for b in bodies * 3])
    config = parse_config(
        f'[server]\nstate_dir = "{tmp_path / "state"}"\n[[sources]]\nname = "x"\nkind = "sql"\nurl = "sqlite:///{path}"\n'
    )
    runtime = Runtime.start(config, agent="reviewer")
    try:
        text = runtime.service.query("x", "SELECT body FROM tickets LIMIT 2").text
    finally:
        runtime.close()
    assert "Madison Desk" in text and "Jordan Runner" in text and "Harper Chair" in text, text
    assert "Maria Gonzalez" not in text and "Tom Baker" not in text, text
