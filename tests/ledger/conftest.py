"""Ledger databases for the ledger tests: a SQLite file, or a fresh schema in the real PostgreSQL test database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mcp_server.ledger.keys import LedgerKey

KEY = LedgerKey(b"ledger-tests-key-0123456789abcdef")


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'ledger.sqlite'}"
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    schema = f"mw_ledger_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.engine.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
