"""Policy presets: the operators they set, what explicit settings keep, and the dates they make personal,
checked through the query path with seeded values."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mcp_server.config import ConfigError, parse_config
from mcp_server.runtime import Runtime


def test_preset_operators_sit_between_defaults_and_explicit_settings() -> None:
    hipaa = parse_config('[masking]\npreset = "hipaa-safe-harbor"\n').masking
    assert hipaa.default_operator == "redact"
    assert hipaa.operators["POSTAL_CODE"] == "generalize" and hipaa.operators["DATE_OF_BIRTH"] == "generalize"
    pci = parse_config('[masking]\npreset = "pci"\noperators = { CREDIT_CARD = "redact" }\n').masking
    assert pci.operators["CREDIT_CARD"] == "redact"  # explicit wins
    assert pci.operators["IBAN_CODE"] == "partial"
    assert parse_config("").masking.operators == {"SECRET": "redact", "COORDINATE": "generalize"}


def test_an_unknown_preset_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"masking\.preset"):
        parse_config('[masking]\npreset = "sox"\n')


def _runtime(tmp_path: Path, preset_lines: str) -> tuple[Runtime, Path]:
    path = tmp_path / "clinic.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE patients (id INTEGER, first_name TEXT, zip TEXT, admitted DATE, born DATE)")
        conn.executemany(
            "INSERT INTO patients VALUES (?, ?, ?, ?, ?)",
            [(1, "Ramiro", "94103", "2023-04-17", "1961-02-03"), (2, "Aoife", "10027", "2022-11-02", "1975-08-30")],
        )
        conn.execute("CREATE TABLE visits_log (id INTEGER, happened DATE)")
        conn.execute("INSERT INTO visits_log VALUES (1, '2024-01-05')")
    text = (
        f'[server]\nstate_dir = "{tmp_path / "state"}"\n[masking]\nkey = "test-key-0123456789abcdef"\n{preset_lines}'
        f'[[sources]]\nname = "clinic"\nkind = "sql"\nurl = "sqlite:///{path}"\n'
    )
    return Runtime.start(parse_config(text)), path


def test_hipaa_dates_to_the_year_zip_to_three_digits_names_removed(tmp_path: Path) -> None:
    runtime, _ = _runtime(tmp_path, 'preset = "hipaa-safe-harbor"\n')
    try:
        rows = runtime.service.query(
            "clinic", "SELECT first_name, zip, admitted, born FROM patients ORDER BY id"
        ).structured.rows
        shown = repr(rows)
        for seeded in ("Ramiro", "Aoife", "94103", "10027", "2023-04-17", "1961-02-03", "2022-11-02"):
            assert seeded not in shown
        assert rows[0] == ["<PERSON>", "941…", "2023", "1961"]
        # a date of a table not about people stays as it is
        assert runtime.service.query("clinic", "SELECT happened FROM visits_log").structured.rows == [["2024-01-05"]]
    finally:
        runtime.close()


def test_without_a_preset_admission_dates_are_business_dates(tmp_path: Path) -> None:
    runtime, _ = _runtime(tmp_path, "")
    try:
        rows = runtime.service.query("clinic", "SELECT first_name, admitted FROM patients ORDER BY id").structured.rows
        assert rows[0][1] == "2023-04-17" and "Ramiro" not in repr(rows)
    finally:
        runtime.close()


def _ward(tmp_path: Path, preset_lines: str) -> Runtime:
    path = tmp_path / "ward.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE patients (id INTEGER, first_name TEXT, age INTEGER, zip TEXT)")
        conn.executemany(
            "INSERT INTO patients VALUES (?, ?, ?, ?)",
            [(1, "Ramiro", 93, "03601"), (2, "Aoife", 89, "89301-1234"), (3, "Kwame", 47, "94103")],
        )
        conn.execute("CREATE TABLE wards (id INTEGER, age INTEGER)")  # a ward's age is no person's
        conn.execute("INSERT INTO wards VALUES (1, 93)")
    text = (
        f'[server]\nstate_dir = "{tmp_path / "state"}"\n[masking]\nkey = "test-key-0123456789abcdef"\n'
        f'{preset_lines}[[sources]]\nname = "ward"\nkind = "sql"\nurl = "sqlite:///{path}"\n'
    )
    return Runtime.start(parse_config(text))


def test_hipaa_ages_over_89_in_one_group_and_small_zip_areas_to_000(tmp_path: Path) -> None:
    """Safe Harbor: every age over 89 is `90+`; a ZIP prefix of fewer than 20,000 people becomes 000."""
    runtime = _ward(tmp_path, 'preset = "hipaa-safe-harbor"\n')
    try:
        rows = runtime.service.query("ward", "SELECT age, zip FROM patients ORDER BY id").structured.rows
        assert rows == [["90+", "000"], ["80-89", "000"], ["40-49", "941…"]]
        shown = repr(rows)
        for seeded in ("93", "03601", "036", "89301", "893", "94103"):
            assert seeded not in shown
        assert runtime.service.query("ward", "SELECT age FROM wards").structured.rows == [[93]]
    finally:
        runtime.close()


def test_without_a_preset_ages_are_not_masked(tmp_path: Path) -> None:
    runtime = _ward(tmp_path, "")
    try:
        rows = runtime.service.query("ward", "SELECT age FROM patients ORDER BY id").structured.rows
        assert rows == [[93], [89], [47]]
    finally:
        runtime.close()
