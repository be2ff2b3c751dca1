"""PgDocStore against the real PostgreSQL test database (own uniquely named tables, dropped after)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from connectors.base import ConnectorError, DocumentNotFound, InvalidRequest, QueryTimeout, SourceUnavailable
from connectors.pgdocs import PgDocStore, match_window

pytestmark = pytest.mark.services

FILLER = " ".join(f"filler{i}" for i in range(450))


@pytest.fixture
def tables(postgres_url: str) -> Iterator[tuple[str, str]]:
    """(text-body table, jsonb-body table), both in the public schema."""
    suffix = uuid.uuid4().hex[:10]
    text_table, json_table = f"mw_docs_text_{suffix}", f"MW Docs JSON {suffix}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE TABLE "{text_table}" (id integer PRIMARY KEY, title text, body text)'))
        conn.execute(
            sa.text(f'INSERT INTO "{text_table}" VALUES (:id, :title, :body)'),
            [
                {
                    "id": 1,
                    "title": "Refund policy",
                    "body": "Refunds are paid within 14 days. Refunds need a receipt.",
                },
                {"id": 2, "title": "Shipping", "body": "Parcels ship on Monday. A refund is rare."},
                {"id": 3, "title": "Long memo", "body": f"{FILLER} the warehouse inventory audit {FILLER}"},
                {"id": 4, "title": None, "body": "Untitled budget note."},
            ],
        )
        conn.execute(sa.text(f'CREATE TABLE "{json_table}" ("Doc Id" text PRIMARY KEY, "Body" jsonb)'))
        conn.execute(
            sa.text(f'INSERT INTO "{json_table}" VALUES (:id, CAST(:body AS jsonb))'),
            [
                {
                    "id": "cust-1",
                    "body": json.dumps({"customer": {"name": "Alice", "city": "Paris"}, "vip": True}),
                },
                {"id": "cust-2", "body": json.dumps({"customer": {"name": "Bob", "city": "Berlin"}})},
            ],
        )
    yield text_table, json_table
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{text_table}"'))
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{json_table}"'))
    engine.dispose()


@pytest.fixture
def text_store(postgres_url: str, tables: tuple[str, str]) -> Iterator[PgDocStore]:
    store = PgDocStore("kb", postgres_url, table=tables[0], id_column="id", title_column="title", body_column="body")
    yield store
    store.close()


@pytest.fixture
def json_store(postgres_url: str, tables: tuple[str, str]) -> Iterator[PgDocStore]:
    store = PgDocStore(
        "crm",
        postgres_url,
        table=tables[1],
        schema="public",
        id_column="Doc Id",
        title_column=None,
        body_column="Body",
    )
    yield store
    store.close()


def test_text_search_and_read(text_store: PgDocStore) -> None:
    hits = text_store.search("refund")
    assert [h.ref for h in hits] == ["1", "2"]
    assert hits[0].score > hits[1].score > 0
    assert hits[0].title == "Refund policy" and "receipt" in hits[0].chunk
    assert [h.ref for h in text_store.search('"within 14 days" -parcels')] == ["1"]
    assert [h.ref for h in text_store.search("budget")] == ["4"]
    assert text_store.search("budget")[0].title == "4"
    doc = text_store.read("2")
    assert (doc.ref, doc.title, doc.text, doc.media_type) == (
        "2",
        "Shipping",
        "Parcels ship on Monday. A refund is rare.",
        "text/plain",
    )


def test_chunk_is_the_window_of_the_first_match(text_store: PgDocStore) -> None:
    (hit,) = text_store.search("inventories")
    assert hit.chunk_index == 2
    assert "inventory" in hit.chunk and len(hit.chunk.split()) == 200
    assert text_store.read("3").text.count("filler") == 900


def test_hostile_queries(text_store: PgDocStore) -> None:
    for query in ['"', "AND OR", "NEAR(", "*", "foo:bar", "-x", "'; DROP TABLE x; --", "!&|()"]:
        assert isinstance(text_store.search(query), list)
    with pytest.raises(InvalidRequest):
        text_store.search(" ")


def test_unknown_and_injection_refs(text_store: PgDocStore, postgres_url: str, tables: tuple[str, str]) -> None:
    for ref in (
        "99",
        "1; DROP TABLE x",
        f'1; DROP TABLE "{tables[0]}"',
        "1 OR 1=1",
        "abc",
        "1\x00",
        "",
        "9" * 40,
    ):
        with pytest.raises(DocumentNotFound):
            text_store.read(ref)
    assert text_store.stats().documents == 4


def test_jsonb_body(json_store: PgDocStore) -> None:
    hits = json_store.search("berlin")
    assert [h.ref for h in hits] == ["cust-2"]
    # jsonb stores keys in its own order (shorter first), so compare lines as sets
    assert set(hits[0].chunk.splitlines()) == {"customer.name: Bob", "customer.city: Berlin"}
    doc = json_store.read("cust-1")
    assert set(doc.text.splitlines()) == {"customer.name: Alice", "customer.city: Paris", "vip: true"}
    assert (doc.title, doc.media_type) == ("cust-1", "application/json")
    with pytest.raises(DocumentNotFound):
        json_store.read("cust-1' OR '1'='1")
    stats = json_store.stats()
    assert stats.documents == 2 and json_store.body_type == "jsonb"
    assert (json_store.id_column, json_store.title_column, json_store.body_column) == ("Doc Id", None, "Body")


def test_identifiers_are_validated(postgres_url: str, tables: tuple[str, str]) -> None:
    with pytest.raises(SourceUnavailable, match="not found"):
        PgDocStore("kb", postgres_url, table="no_such_table", id_column="id", title_column=None, body_column="b")
    with pytest.raises(SourceUnavailable, match=r"title_column='nope'.*body_column='body; DROP'"):
        PgDocStore("kb", postgres_url, table=tables[0], id_column="id", title_column="nope", body_column="body; DROP")
    with pytest.raises(SourceUnavailable, match="not text or json"):
        PgDocStore("kb", postgres_url, table=tables[0], id_column="id", title_column=None, body_column="id")


def test_statements_are_read_only_with_timeout(text_store: PgDocStore, tables: tuple[str, str]) -> None:
    with pytest.raises(ConnectorError), text_store._read_only() as conn:
        conn.execute(sa.text(f'DELETE FROM "{tables[0]}"'))
    assert text_store.stats().documents == 4
    text_store.statement_timeout_ms = 50
    with pytest.raises(QueryTimeout), text_store._read_only() as conn:
        conn.execute(sa.text("SELECT pg_sleep(1)"))


def test_match_window() -> None:
    text = " ".join(["alpha"] * 5 + ["policies"] + ["beta"] * 5)
    assert match_window(text, ["polici"], 4) == (1, "alpha policies beta beta")
    assert match_window(text, ["zzz"], 4) == (0, "alpha alpha alpha alpha")
    assert match_window("", ["x"], 4) == (0, "")
