"""Agent input the ledger would show as written (a literal compared with a clear column, an English alias, the
client's name and version, a self-reported agent name) is a keyed token when it holds a word or a value of the
data's personal values, or a number in pieces; ledger tokens are keyed apart from the tokens agents see."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client
from mcp_types import Implementation

from mcp_server.config import Config, parse_config
from mcp_server.runtime import Runtime
from mcp_server.server import build_server

SURNAME = "Etxeberria"
FIRST = "Zebulon"
STREET = "1313 Mockingbird Lane"
DIAGNOSES = ("HIV positive", "Bipolar disorder")
BIRTH = dt.date(1985, 3, 12)
SALARY = 85_000


def _config(tmp_path: Path) -> Config:
    path = tmp_path / "clinic.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE patients (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, street_address TEXT,"
            " diagnosis TEXT, date_of_birth DATE, salary INTEGER)"
        )
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, amount INTEGER, ordered_at TEXT)")
        people = [
            (FIRST, SURNAME, STREET, DIAGNOSES[0], BIRTH.isoformat(), SALARY),
            ("Ysolde", "Brackenridge", "42 Quarry Road", DIAGNOSES[1], "1990-07-01", 91_250),
            *((f"Name{i}", f"Surname{i}", f"{i} Elm Street", "asthma", "1970-01-01", 50_000 + i) for i in range(30)),
        ]
        conn.executemany("INSERT INTO patients VALUES (NULL, ?, ?, ?, ?, ?, ?)", people)
        conn.executemany(
            "INSERT INTO orders VALUES (NULL, ?, ?, ?)", [("shipped", 120, "2026-01-05"), ("pending", 80, "2026-02-01")]
        )
    return parse_config(
        f'[server]\nstate_dir = "{tmp_path / "state"}"\n'
        f'[[sources]]\nname = "clinic"\nkind = "sql"\nurl = "sqlite:///{path}"\n'
        "[sources.columns]\n"
        '"patients.diagnosis" = { kind = "pii", entity = "SENSITIVE" }\n'
        '"patients.salary" = { kind = "pii", entity = "SENSITIVE" }\n'
        '"patients.date_of_birth" = { kind = "pii", entity = "DATE_OF_BIRTH" }\n'
    )


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = Runtime.start(_config(tmp_path_factory.mktemp("personal-input")), agent="reviewer")
    yield runtime
    runtime.close()


def _stored(runtime: Runtime, sql: str) -> str:
    return runtime.pipeline.masked_sql(sql, "clinic")


@pytest.mark.parametrize(
    ("sql", "hidden"),
    [
        ("SELECT id FROM orders WHERE status = 'hiv positive'", ["hiv", "positive"]),
        ("SELECT id FROM orders WHERE status IN ('pending', 'mockingbird lane')", ["mockingbird"]),
        ("SELECT id FROM orders WHERE status = 'etxeberria'", ["etxeberria"]),
        ("SELECT id AS bipolar_disorder FROM orders", ["bipolar"]),
        ("WITH mockingbird AS (SELECT id FROM orders) SELECT id FROM mockingbird", ["mockingbird"]),
        ("SELECT id FROM orders WHERE ordered_at = '1985-03-12'", ["1985-03-12"]),
        ("SELECT id FROM orders WHERE amount = 85000", ["85000"]),
        ("SELECT id FROM orders WHERE amount = 91250.00", ["91250"]),
    ],
)
def test_input_holding_a_known_personal_word_or_value_is_a_token(runtime: Runtime, sql: str, hidden: list[str]) -> None:
    stored = _stored(runtime, sql)
    for text in hidden:
        assert text not in stored.lower(), stored
    assert "<LITERAL:" in stored


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM orders WHERE amount IN (536, 22, 8841)",
        "SELECT id FROM orders WHERE amount = 536 OR amount = 22 OR amount = 8841",
        "SELECT id FROM orders WHERE amount BETWEEN 536 AND 228841",
        "SELECT id FROM orders WHERE amount = 536 LIMIT 22 OFFSET 8841",
        "SELECT id FROM orders WHERE status IN ('536', '22', '8841')",
    ],
)
def test_a_number_written_in_pieces_is_not_shown(runtime: Runtime, sql: str) -> None:
    """At most six digits of numbers are shown per statement: an SSN (536-22-8841) cannot be written in pieces."""
    stored = _stored(runtime, sql)
    digits = "".join(re.findall(r"(?<![:\w])\d+(?![\w…])", stored))
    assert len(digits) <= 6, stored
    assert "8841" not in stored, stored


def test_business_literals_are_still_shown(runtime: Runtime) -> None:
    sql = (
        "SELECT status, COUNT(*) AS n FROM orders WHERE status IN ('shipped', 'pending') AND amount > 100 "
        "AND ordered_at BETWEEN '2026-01-01' AND '2026-12-31' GROUP BY status LIMIT 1000 OFFSET 5000"
    )
    assert _stored(runtime, sql) == sql


def test_nothing_is_shown_before_the_known_values_are_loaded(tmp_path: Path) -> None:
    """A server reads the known values after its first call: until then no literal is shown, and what was stored
    then is not reused once they are loaded."""
    runtime = Runtime.start(_config(tmp_path), agent="reviewer", warm_up_in_background=True)
    try:
        sql = "SELECT id FROM orders WHERE status = 'shipped'"
        if not runtime.warm.is_set():
            assert "'shipped'" not in _stored(runtime, sql)
        assert runtime.warm.wait(60)
        assert "'shipped'" in _stored(runtime, sql)
        assert "mockingbird" not in _stored(runtime, "SELECT id FROM orders WHERE status = 'mockingbird lane'")
    finally:
        runtime.close()


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("Zebulon Quackenbush", "536.22.8841"),
        ("mockingbird lane", "1.0"),
        ("etxeberria-agent", "0.1"),
        ("claude-ai", "156.0.8078.73"),
    ],
)
async def test_a_self_reported_name_holding_personal_words_is_a_token_everywhere(
    tmp_path: Path, name: str, version: str
) -> None:
    """Over stdio without --agent the client's name is the agent: it is stored like the client's name, as a token
    unless it reads like software and holds no word of the data's personal values; a version of more than six
    digits is a token."""
    runtime = Runtime.start(_config(tmp_path))
    try:
        async with Client(build_server(runtime), client_info=Implementation(name=name, version=version)) as client:
            await client.call_tool("list_sources", {})
        [entry] = list(runtime.ledger.entries())
    finally:
        runtime.close()
    row = f"{entry.agent} {entry.client_name} {entry.client_version}".lower()
    for secret in ("quackenbush", "zebulon", "mockingbird", "etxeberria", "8841", "8078"):
        assert secret not in row, row
    if name == "claude-ai":
        assert entry.agent == entry.client_name == "claude-ai"
    else:
        assert entry.agent == entry.client_name and entry.agent.startswith("<LITERAL:")


async def test_software_names_and_versions_are_kept(tmp_path: Path) -> None:
    runtime = Runtime.start(_config(tmp_path))
    try:
        info = Implementation(name="Visual Studio Code", version="1.96.2")
        async with Client(build_server(runtime), client_info=info) as client:
            await client.call_tool("list_sources", {})
        [entry] = list(runtime.ledger.entries())
    finally:
        runtime.close()
    assert (entry.agent, entry.client_name, entry.client_version) == ("Visual Studio Code",) * 2 + ("1.96.2",)


def test_ledger_tokens_are_keyed_apart_from_the_tokens_agents_see(runtime: Runtime) -> None:
    """A ledger reader cannot link an agent's literal to a token of a result: their digests differ."""
    masker = runtime.masker
    literal = masker.literal(SURNAME)
    seen = masker.pseudonyms.token("PERSON", SURNAME)
    assert literal.startswith("<LITERAL:") and literal == masker.literal(SURNAME.upper())
    assert literal.split(":")[1] != seen.split(":")[1]
    assert SURNAME.lower() not in _stored(runtime, f"SELECT id FROM patients WHERE last_name = '{SURNAME}'").lower()


async def test_long_numbers_and_made_up_refs_are_tokens(tmp_path: Path) -> None:
    """A count or offset of six digits or more could be an identifier; a ref-shaped string Maskwire never issued
    is agent input: both are stored as tokens, while a ref from `search` is stored as sent."""
    from mcp_server.config import load_config
    from mcp_server.demo.workspace import prepare_demo

    prepare_demo(tmp_path)
    runtime = Runtime.start(load_config(tmp_path / "maskwire.toml"), agent="reviewer")
    forged = "<DOC:5362281940000000>"
    try:
        async with Client(build_server(runtime)) as client:
            await client.call_tool("search_schema", {"pattern": "email", "offset": 536228194})
            await client.call_tool("search_schema", {"pattern": "email", "offset": 50})
            await client.call_tool("read", {"source": "docs", "ref": forged})
            found = await client.call_tool("search", {"query": "refund"})
            issued = re.search(r"<DOC:[0-9a-f]{16}>", str(found.structured_content))
            assert issued is not None
            await client.call_tool("read", {"source": "docs", "ref": issued.group(0)})
        entries = list(runtime.ledger.entries())
    finally:
        runtime.close()
    big, small, made_up, _, real = entries
    assert str(big.arguments["offset"]).startswith("<LITERAL:") and small.arguments["offset"] == 50
    assert made_up.arguments["ref"].startswith("<LITERAL:") and "536228194" not in str(made_up.arguments)
    assert real.arguments["ref"] == issued.group(0)


def test_a_birth_date_kept_as_a_date_is_known_in_notes_and_the_ledger(postgres_url: str, tmp_path: Path) -> None:
    """PostgreSQL returns a `date` column as dates, not text: a birth date is still a known value, found in notes
    however it is written, and kept out of the ledger's stored SQL."""
    import uuid

    import sqlalchemy as sa

    name = f"mw_dob_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.engine.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE patients (id serial PRIMARY KEY, first_name text, last_name text, date_of_birth date)"
            )
            conn.exec_driver_sql("CREATE TABLE visits (id serial PRIMARY KEY, note text, day date)")
            conn.exec_driver_sql(
                "INSERT INTO patients (first_name, last_name, date_of_birth) VALUES"
                " ('Zebulon', 'Etxeberria', '1979-04-23'), ('Ysolde', 'Brackenridge', '1985-11-02')"
            )
            conn.exec_driver_sql(
                "INSERT INTO visits (note, day) VALUES ('checked DOB 04/23/1979 and 23.04.1979', '2026-01-05')"
            )
        engine.dispose()
        config = parse_config(
            f'[server]\nstate_dir = "{tmp_path / "state"}"\n[[sources]]\nname = "clinic"\nkind = "sql"\nurl = "{url}"\n'
            '[sources.columns]\n"visits.note" = { kind = "text" }\n'
        )
        runtime = Runtime.start(config, agent="reviewer")
        try:
            out = runtime.service.query("clinic", "SELECT note FROM visits")
            stored = runtime.pipeline.masked_sql("SELECT id FROM visits WHERE day = '1979-04-23'", "clinic")
        finally:
            runtime.close()
        assert "1979" not in out.text, out.text
        assert "1979-04-23" not in stored and "<LITERAL:" in stored
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
