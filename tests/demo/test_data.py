"""The demo workspace generator: deterministic, well-formed, and exact about what it planted."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from mcp_server.demo.data import SeededValues, build_demo_workspace

TABLES = ("customers", "products", "orders", "support_tickets")
CONTROL_DOCUMENTS = ("policies/privacy-policy.md", "sales/q3-report.txt")
EXPECTED_DOCUMENT_DIRS = ("customers", "hr", "it", "onboarding", "policies", "sales", "support")

Rows = dict[str, list[tuple[object, ...]]]


def _tables(database: Path) -> Rows:
    with closing(sqlite3.connect(database)) as db:
        return {table: db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall() for table in TABLES}


def _documents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _column(database: Path, sql: str) -> list[str]:
    with closing(sqlite3.connect(database)) as db:
        return [str(value) for (value,) in db.execute(sql)]


def _luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory):
    return build_demo_workspace(tmp_path_factory.mktemp("demo"))


def test_same_seed_same_content_different_seed_different(tmp_path: Path) -> None:
    first = build_demo_workspace(tmp_path / "a", seed=11)
    second = build_demo_workspace(tmp_path / "b", seed=11)
    other = build_demo_workspace(tmp_path / "c", seed=12)

    assert _tables(first.database) == _tables(second.database)
    assert _documents(first.documents) == _documents(second.documents)
    assert first.seeded == second.seeded

    assert _tables(first.database)["customers"] != _tables(other.database)["customers"]
    assert _tables(first.database)["support_tickets"] != _tables(other.database)["support_tickets"]
    assert _documents(first.documents) != _documents(other.documents)
    assert first.seeded != other.seeded


def test_layout_and_row_counts(workspace) -> None:
    assert workspace.database == workspace.root / "crm.sqlite"
    assert workspace.documents == workspace.root / "documents"
    counts = {table: len(rows) for table, rows in _tables(workspace.database).items()}
    assert counts == {"customers": 60, "products": 25, "orders": 300, "support_tickets": 40}
    assert _column(workspace.database, "SELECT min(id) FROM orders") == ["10001"]
    assert _column(workspace.database, "SELECT max(id) FROM orders") == ["10300"]


def test_customer_count_is_configurable(tmp_path: Path) -> None:
    small = build_demo_workspace(tmp_path, customers=20)
    counts = {table: len(rows) for table, rows in _tables(small.database).items()}
    assert counts == {"customers": 20, "products": 25, "orders": 100, "support_tickets": 40}
    with pytest.raises(ValueError, match="customers"):
        build_demo_workspace(tmp_path, customers=3)


def test_foreign_keys_are_declared_and_hold(workspace) -> None:
    with closing(sqlite3.connect(workspace.database)) as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        orders_fk = {row[2] for row in db.execute("PRAGMA foreign_key_list(orders)")}
        tickets_fk = {row[2] for row in db.execute("PRAGMA foreign_key_list(support_tickets)")}
        customers_without_orders = db.execute(
            "SELECT count(*) FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)"
        ).fetchone()
    assert orders_fk == {"customers", "products"}
    assert tickets_fk == {"customers"}
    assert customers_without_orders == (0,)


def test_card_numbers_are_luhn_valid_test_like_numbers(workspace) -> None:
    stored = _column(workspace.database, "SELECT card_number FROM customers")
    assert len(set(stored)) == len(stored)
    for number in stored:
        assert re.fullmatch(r"[45]\d{15}", number), number
        assert _luhn_valid(number), number
    for written in workspace.seeded.card_numbers:
        digits = re.sub(r"[ -]", "", written)
        assert re.fullmatch(r"\d{16}", digits) and _luhn_valid(digits), written


def test_personal_value_formats(workspace) -> None:
    seeded = workspace.seeded
    for ssn in seeded.ssns:  # what Presidio's UsSsnRecognizer accepts
        area, group, serial = ssn.split("-")
        assert 100 <= int(area) <= 665 and group != "00" and serial != "0000", ssn
    phone = re.compile(r"\(\d{3}\) 555-01\d\d|\d{3}-555-01\d\d|\+1 \d{3} 555 01\d\d|\d{3}\.555\.01\d\d")
    assert all(phone.fullmatch(value) for value in seeded.phones)
    assert all(re.fullmatch(r"(19[5-9]\d|200[0-2])-\d\d-\d\d", value) for value in seeded.birth_dates)
    assert all(re.fullmatch(r"[\w.-]+@[\w.-]+\.(com|org|net)", value) for value in seeded.emails)
    assert all(re.fullmatch(r"\d{3,4} [A-Z][a-z]+ [A-Z][a-z]+", value) for value in seeded.street_addresses)
    assert {"José", "Zoë", "O'Brien", "Smith-Jones"} & {part for n in seeded.names for part in n.split(" ")}
    assert any(name.isupper() for name in seeded.names)


def test_tickets_vary_and_some_contain_credentials(workspace) -> None:
    bodies = _column(workspace.database, "SELECT body FROM support_tickets")
    subjects = _column(workspace.database, "SELECT subject FROM support_tickets")
    assert len({re.sub(r"\d+", "#", subject) for subject in subjects}) >= 8
    credential = re.compile(
        r"sk_live_[A-Za-z0-9]{24}|ghp_[A-Za-z0-9]{36}|AKIA[A-Z0-9]{16}|password=|postgresql://app:S3cretPass!@"
    )
    assert sum(bool(credential.search(body)) for body in bodies) == 6
    assert sum(secret in body for body in bodies for secret in workspace.seeded.secrets) == 6


def test_documents_are_utf8_and_well_formed(workspace) -> None:
    docs = _documents(workspace.documents)
    assert 10 <= len(docs) <= 14
    assert sorted({path.split("/")[0] for path in docs}) == list(EXPECTED_DOCUMENT_DIRS)
    assert {path.rsplit(".", 1)[1] for path in docs} == {"md", "txt", "csv", "json"}
    texts = {path: data.decode("utf-8") for path, data in docs.items()}
    assert len([p for p in docs if p.startswith("onboarding/welcome-letter-")]) == 3

    directory = list(csv.DictReader(io.StringIO(texts["hr/employee-directory.csv"])))
    assert len(directory) == 10 and set(directory[0]) == {"name", "email", "phone", "title"}
    assert {row["name"] for row in directory} <= set(workspace.seeded.names)

    records = json.loads(texts["customers/export.json"])
    assert isinstance(records, list) and len(records) == 5

    runbook = texts["it/runbook.md"]
    assert "DB_PASSWORD=" in runbook and "AWS_SECRET_ACCESS_KEY=" in runbook
    assert re.search(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+", runbook)


def _corpus(workspace) -> str:
    """Every string the workspace holds, plus each customer's "first last" as the columns spell it."""
    cells = [str(value) for rows in _tables(workspace.database).values() for row in rows for value in row]
    full_names = _column(workspace.database, "SELECT first_name || ' ' || last_name FROM customers")
    texts = [data.decode("utf-8") for data in _documents(workspace.documents).values()]
    return "\n".join([*cells, *full_names, *texts])


def test_every_must_not_leak_value_occurs(workspace) -> None:
    corpus = _corpus(workspace)
    values = workspace.seeded.must_not_leak()
    assert list(values) == sorted(set(values))
    assert all(len(value) >= 6 for value in values)
    assert len(values) > 400
    assert [value for value in values if value not in corpus] == []


def test_must_not_leak_drops_short_values() -> None:
    seeded = SeededValues(
        names=("Li Wu", "Maria Gonzalez"), emails=(), phones=(), ssns=(), card_numbers=(),
        street_addresses=(), birth_dates=(), secrets=("abc", "hunter2!"),
    )  # fmt: skip
    assert seeded.must_not_leak() == ("Maria Gonzalez", "hunter2!")


def test_no_seeded_value_in_non_personal_data(workspace) -> None:
    database = workspace.database
    non_personal = [
        *(str(value) for row in _tables(database)["orders"] for value in row),
        *(str(value) for row in _tables(database)["products"] for value in row),
        *_column(database, "SELECT loyalty_tier FROM customers"),
        *_column(database, "SELECT created_at FROM customers"),
    ]
    seeded = workspace.seeded.all_values()
    assert [(v, cell) for cell in non_personal for v in seeded if v in cell] == []
    for path in CONTROL_DOCUMENTS:
        text = (workspace.documents / path).read_text(encoding="utf-8")
        assert [v for v in seeded if v in text] == [], path


def test_rebuild_replaces_previous_content(tmp_path: Path) -> None:
    fresh = build_demo_workspace(tmp_path / "fresh")
    reused = build_demo_workspace(tmp_path / "reused", seed=99)
    (reused.documents / "stray.txt").write_text("left over", encoding="utf-8")
    (tmp_path / "reused" / "maskwire.toml").write_text("# kept", encoding="utf-8")

    rebuilt = build_demo_workspace(tmp_path / "reused")

    assert _tables(rebuilt.database) == _tables(fresh.database)
    assert _documents(rebuilt.documents) == _documents(fresh.documents)
    assert rebuilt.seeded == fresh.seeded
    assert (tmp_path / "reused" / "maskwire.toml").exists()
