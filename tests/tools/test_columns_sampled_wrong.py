"""Columns whose sample misleads: identity numbers kept as integers, and JSON documents whose first rows are
harmless. Seeded values must not come out of `query` in any form."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_server.config import parse_config
from mcp_server.runtime import Runtime

SSNS = [358514232, 197838556, 461631011, 523190442, 288730155, 741209334, 605118273, 412907356]
PERSON, SSN, CARD = "Seraphina Uttley-Brook", "529-31-8876", "5500 0000 0000 0004"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    db = tmp_path / "crm.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE members (id INTEGER PRIMARY KEY, ref_code INTEGER, visits INTEGER)")
        conn.executemany(
            "INSERT INTO members VALUES (?, ?, ?)", [(i, ssn, i * 3) for i, ssn in enumerate(SSNS, start=1)]
        )
        conn.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, payload TEXT)")
        rows = [(i, json.dumps({"event": "login", "ok": True, "n": i})) for i in range(1, 81)]
        rows.append((81, json.dumps({"event": "update", "changed": {"name": PERSON, "ssn": SSN, "card": CARD}})))
        conn.executemany("INSERT INTO audit VALUES (?, ?)", rows)
    config = parse_config(
        f'[server]\nstate_dir = "{tmp_path / "state"}"\n'
        f'[[sources]]\nname = "crm"\nkind = "sql"\nurl = "sqlite:///{db}"\n'
    )
    started = Runtime.start(config, agent="reviewer")
    yield started
    started.close()


def _out(runtime: Runtime, sql: str) -> str:
    found = runtime.service.query("crm", sql)
    return found.text + found.structured.model_dump_json()


def test_identity_numbers_kept_as_integers_come_back_as_tokens(runtime: Runtime) -> None:
    out = _out(runtime, "SELECT id, ref_code, visits FROM members")
    assert "<US_SSN:" in out
    assert not any(str(ssn) in out for ssn in SSNS)
    assert "24" in out  # visits stay numbers


def test_a_json_column_is_scanned_past_its_sample(runtime: Runtime) -> None:
    out = _out(runtime, "SELECT id, payload FROM audit WHERE id > 70")
    for value in (PERSON, "Uttley", SSN, CARD, CARD.replace(" ", "")):
        assert value not in out
