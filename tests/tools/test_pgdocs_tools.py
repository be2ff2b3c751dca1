"""pgdocs sources through Runtime -> ToolService -> DocumentTools against the real PostgreSQL test database.

Two uniquely named tables (text body, jsonb body) are seeded with personal data and secrets, served as
`pgdocs` sources, and dropped afterwards. Every seeded value is looked for in everything the tools return.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mcp_server.config import parse_config
from mcp_server.pipeline.documents import DOC_REF, DocumentTools
from mcp_server.policy import Policy
from mcp_server.runtime import Runtime
from mcp_server.tools.problems import ToolOutput, ToolProblem

pytestmark = pytest.mark.services

API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
JSON_API_KEY = "sk_live_9xQ2mN7bV4cL1kJ8hG5fD3sA"
PG_PASSWORD = "Hunter2Secret"
PG_URL = f"postgresql://reporting:{PG_PASSWORD}@db.internal:5432/billing"
JSON_PG_PASSWORD = "S3cr3tPassw0rd"
JSON_PG_URL = f"postgresql://app:{JSON_PG_PASSWORD}@10.0.0.5:5432/crm"
FILLER = " ".join(f"inventory{i} shelf audit" for i in range(300))
RAW_JSON_ID = "customer-desmond-okonkwo"
"""A row id that itself carries a name: it must never be shown (refs are opaque, titles fall back)."""

SEEDED: tuple[str, ...] = (
    # names
    "Desmond Okonkwo",
    "David Miller",
    "Michael Brown",
    "Robert Johnson",
    "Maria Gonzalez",
    # emails
    "desmond.okonkwo@example.net",
    "michael.brown@example.com",
    "robert.johnson@example.org",
    "maria.gonzalez@example.com",
    # phones
    "212-555-0187",
    "(415) 555-0142",
    "617-555-0199",
    "+1 303 555 0111",
    # SSNs
    "521-38-4476",
    "372-45-9183",
    "604-12-7788",
    # secrets
    API_KEY,
    JSON_API_KEY,
    PG_PASSWORD,
    PG_URL,
    JSON_PG_PASSWORD,
    JSON_PG_URL,
    # an id with a name in it
    RAW_JSON_ID,
)

TEXT_ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "title": "Refund request from Desmond Okonkwo",
        "body": "Desmond Okonkwo (desmond.okonkwo@example.net, phone 212-555-0187) asked for a refund of order "
        "1042. Customer SSN 521-38-4476. Approved by David Miller on Monday.",
    },
    {
        "id": 2,
        "title": "Billing integration runbook",
        "body": f"The billing integration API key is {API_KEY} and the reporting replica is {PG_URL} "
        "(rotate the key and the password when Michael Brown leaves). Escalation contact: "
        "michael.brown@example.com, (415) 555-0142.",
    },
    {
        "id": 3,
        "title": "Escalation notes",
        "body": f"{FILLER}\n\nEscalation for Robert Johnson: robert.johnson@example.org called from 617-555-0199 "
        f"about a double charge; SSN 372-45-9183 was read out on the call.\n\n{FILLER}",
    },
    {"id": 4, "title": None, "body": "Shipping policy: parcels ship on Monday. A refund takes 14 days."},
]

JSON_ROWS: list[dict[str, Any]] = [
    {
        "id": RAW_JSON_ID,
        "title": None,
        "body": {
            "customer": {
                "name": "Maria Gonzalez",
                "email": "maria.gonzalez@example.com",
                "phone": "+1 303 555 0111",
                "ssn": "604-12-7788",
            },
            "notes": "refund approved after escalation",
            "integration": {"api_key": JSON_API_KEY},
        },
    },
    {
        "id": "acct-2",
        "title": "Key account",
        "body": {
            "account": {"owner": "Robert Johnson", "contact": "robert.johnson@example.org"},
            "credentials": {"database_url": JSON_PG_URL},
            "notes": ["escalation handled by support", "refund declined"],
        },
    },
]


@dataclass
class Env:
    runtime: Runtime
    docs: DocumentTools
    policy: Policy
    text_table: str
    json_table: str
    engine: sa.Engine


@pytest.fixture(scope="module")
def env(postgres_url: str, detector, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:  # type: ignore[no-untyped-def]
    suffix = uuid.uuid4().hex[:10]
    text_table, json_table = f"mw_tools_text_{suffix}", f"mw_tools_json_{suffix}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE TABLE "{text_table}" (id integer PRIMARY KEY, title text, body text)'))
        conn.execute(sa.text(f'INSERT INTO "{text_table}" VALUES (:id, :title, :body)'), TEXT_ROWS)
        conn.execute(sa.text(f'CREATE TABLE "{json_table}" (id text PRIMARY KEY, title text, body jsonb)'))
        conn.execute(
            sa.text(f'INSERT INTO "{json_table}" VALUES (:id, :title, CAST(:body AS jsonb))'),
            [{**row, "body": json.dumps(row["body"])} for row in JSON_ROWS],
        )
    state = tmp_path_factory.mktemp("pgdocs-state")
    config = parse_config(
        f"""
[server]
state_dir = "{state.as_posix()}"
[tokens]
max_output_tokens = 300
[[sources]]
name = "kb"
kind = "pgdocs"
url = "{postgres_url}"
table = "{text_table}"
description = "Support knowledge base"
[[sources]]
name = "kbjson"
kind = "pgdocs"
url = "{postgres_url}"
table = "{json_table}"
schema = "public"
""",
        Path(state / "maskwire.toml"),
    )
    runtime = Runtime.start(config)
    try:
        yield Env(runtime, runtime.pipeline.documents, runtime.service.policy_for(None), text_table, json_table, engine)
    finally:
        runtime.close()
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{text_table}"'))
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{json_table}"'))
        engine.dispose()


def _dump(out: ToolOutput) -> str:
    return out.text + "\n" + out.structured.model_dump_json()


def _leaks(text: str) -> list[str]:
    folded = text.casefold()
    return [value for value in SEEDED if value.casefold() in folded]


def _search(env: Env, query: str, sources: list[str] | None = None, limit: int | None = None) -> ToolOutput:
    return env.docs.search(query, sources, limit, env.policy)


def _read(env: Env, source: str, ref: str, cursor: str | None = None) -> ToolOutput:
    return env.docs.read(source, ref, cursor, env.policy)


def _read_all(env: Env, source: str, ref: str) -> list[ToolOutput]:
    pages, cursor = [], None
    while True:
        out = _read(env, source, ref, cursor)
        pages.append(out)
        cursor = out.structured.cursor  # type: ignore[attr-defined]
        if not cursor:
            return pages
        assert len(pages) < 50, "read never ends"


# -- list_sources / describe ------------------------------------------------------------------------


def test_list_sources_and_describe_show_the_document_count(env: Env) -> None:
    out = env.runtime.service.list_sources()
    by_name = {s.name: s for s in out.structured.sources}  # type: ignore[attr-defined]
    assert by_name["kb"].kind == "pgdocs" and by_name["kb"].status == "ok"
    assert by_name["kb"].documents == len(TEXT_ROWS)
    assert by_name["kbjson"].documents == len(JSON_ROWS)
    assert f"{len(TEXT_ROWS)} documents" in out.text
    for name, rows in (("kb", TEXT_ROWS), ("kbjson", JSON_ROWS)):
        described = env.runtime.service.describe(name)
        assert described.structured.kind == "pgdocs"  # type: ignore[attr-defined]
        assert described.structured.documents.documents == len(rows)  # type: ignore[attr-defined]
        assert f"{len(rows)} documents" in described.text
        assert not _leaks(_dump(described))
    assert env.text_table not in out.text  # the table name is configuration, not something to show


# -- search ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["refund", "escalation", "api key", "password", "phone", "ssn", "customer", "Okonkwo", "double charge"],
)
def test_search_returns_no_seeded_value(env: Env, query: str) -> None:
    out = _search(env, query, limit=20)
    assert not _leaks(_dump(out)), query


def test_search_finds_rows_of_both_tables_with_opaque_refs(env: Env) -> None:
    out = _search(env, "refund", limit=20)
    hits = out.structured.hits  # type: ignore[attr-defined]
    assert {h.source for h in hits} == {"kb", "kbjson"}
    assert len(hits) >= 4
    for hit in hits:
        assert DOC_REF.fullmatch(hit.ref), hit.ref
        assert hit.ref not in {"<DOC:1>", "<DOC:2>"} and RAW_JSON_ID not in hit.ref
        assert hit.snippet
    titles = {h.title for h in hits}
    assert "untitled text document" in titles  # NULL title: the row id is never shown as a title
    assert any(t.startswith("Refund request from <PERSON:") for t in titles), titles
    assert out.structured.entities_masked  # type: ignore[attr-defined]


def test_snippet_of_a_long_row_is_the_matching_window_masked(env: Env) -> None:
    out = _search(env, "double charge", sources=["kb"])
    hits = out.structured.hits  # type: ignore[attr-defined]
    assert len(hits) == 1 and hits[0].title == "Escalation notes"
    assert "double charge" in hits[0].snippet
    assert "<EMAIL_ADDRESS:" in hits[0].snippet and "<US_SSN:" in hits[0].snippet


@pytest.mark.parametrize(
    ("entity", "value", "source"),
    [
        ("EMAIL_ADDRESS", "robert.johnson@example.org", "kb"),
        ("EMAIL_ADDRESS", "maria.gonzalez@example.com", "kbjson"),
        ("US_SSN", "521-38-4476", "kb"),
    ],
)
def test_token_in_query_finds_the_row_holding_its_value(env: Env, entity: str, value: str, source: str) -> None:
    token = env.docs.masker.pseudonyms.token(entity, value)
    out = _search(env, token, sources=[source])
    hits = out.structured.hits  # type: ignore[attr-defined]
    assert len(hits) == 1, out.text
    assert not _leaks(_dump(out))
    text = "".join(p.structured.text for p in _read_all(env, source, hits[0].ref))  # type: ignore[attr-defined]
    assert token in text  # the row read back masks the value with the very token searched for


def test_unknown_token_in_query_is_an_error(env: Env) -> None:
    with pytest.raises(ToolProblem, match="unknown or expired token"):
        _search(env, "<EMAIL_ADDRESS:0123456789ab>")


# -- read ------------------------------------------------------------------------------------------


def test_read_every_row_fully_masked_and_paged(env: Env) -> None:
    refs: dict[tuple[str, str], str] = {}
    for query in ("refund", "escalation", "key", "shipping", "customer", "account"):
        for hit in _search(env, query, limit=50).structured.hits:  # type: ignore[attr-defined]
            refs[(hit.source, hit.ref)] = hit.title
    assert sum(1 for source, _ in refs if source == "kb") == len(TEXT_ROWS)
    assert sum(1 for source, _ in refs if source == "kbjson") == len(JSON_ROWS)
    counter = env.runtime.counter
    paged = 0
    for source, ref in refs:
        pages = _read_all(env, source, ref)
        paged += len(pages) > 1
        for page in pages:
            assert not _leaks(_dump(page)), (source, page.structured.title)  # type: ignore[attr-defined]
            assert counter.count(page.text) <= 300
        text = "".join(p.structured.text for p in pages)  # type: ignore[attr-defined]
        if source == "kbjson":
            assert pages[0].structured.media_type == "application/json"  # type: ignore[attr-defined]
            assert "customer.email: <EMAIL_ADDRESS:" in text or "account.contact: <EMAIL_ADDRESS:" in text
    assert paged >= 1, "the long row does not fit in a 300-token page"


def test_read_of_the_secrets_row_masks_key_and_password(env: Env) -> None:
    hits = _search(env, "billing integration", sources=["kb"]).structured.hits  # type: ignore[attr-defined]
    text = "".join(p.structured.text for p in _read_all(env, "kb", hits[0].ref))  # type: ignore[attr-defined]
    assert "sk_live_" not in text and PG_PASSWORD not in text
    assert "<SECRET" in text
    assert "billing integration API key" in text  # the prose around the values survives


def test_unknown_forged_and_foreign_refs_are_errors(env: Env) -> None:
    hits = _search(env, "refund", sources=["kb"]).structured.hits  # type: ignore[attr-defined]
    kb_ref = hits[0].ref
    wrong_key = hmac.new(b"x" * 32, b"doc\0kb\x001", hashlib.sha256).hexdigest()[:16]
    for ref in [
        "<DOC:0000000000000000>",
        f"<DOC:{wrong_key}>",
        "1",
        "<DOC:1>",
        "' OR 1=1 --",
        RAW_JSON_ID,
        "",
        "../etc/passwd",
        kb_ref[:-2] + ">",
    ]:
        with pytest.raises(ToolProblem) as caught:
            _read(env, "kb", ref)
        assert not _leaks(str(caught.value))
    with pytest.raises(ToolProblem):
        _read(env, "kbjson", kb_ref)  # a ref issued for another source
    with pytest.raises(ToolProblem):
        _read(env, "nope", kb_ref)
    with pytest.raises(ToolProblem, match="cursor"):
        _read(env, "kb", kb_ref, "garbage")
    _read(env, "kb", kb_ref)  # the real ref still works


def test_a_row_deleted_after_search_is_an_error_not_a_crash(env: Env) -> None:
    with env.engine.begin() as conn:
        conn.execute(
            sa.text(f'INSERT INTO "{env.text_table}" VALUES (99, :t, :b)'),
            {"t": "Ephemeral", "b": "zanzibarquux note for David Miller"},
        )
    try:
        hits = _search(env, "ephemeral", sources=["kb"]).structured.hits  # type: ignore[attr-defined]
        assert len(hits) == 1
    finally:
        with env.engine.begin() as conn:
            conn.execute(sa.text(f'DELETE FROM "{env.text_table}" WHERE id = 99'))
    with pytest.raises(ToolProblem, match="no longer readable"):
        _read(env, "kb", hits[0].ref)
