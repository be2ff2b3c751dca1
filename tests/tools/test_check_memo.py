"""A statement's check is remembered per schema snapshot: a repeated query is not parsed again, a schema change
is seen once the source is read again, and a statement holding a token is checked every time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mcp_server.config import parse_config
from mcp_server.runtime import Runtime
from mcp_server.tools.problems import ToolProblem


def test_the_check_follows_the_schema_and_tokens_are_checked_every_time(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT, owner_email TEXT)")
        conn.execute("INSERT INTO items VALUES (1, 'lamp', 'ann@example.com')")
    config = parse_config(
        f'[server]\nstate_dir = "{tmp_path / "state"}"\n[[sources]]\nname = "shop"\nkind = "sql"\nurl = "sqlite:///{path}"\n'
    )
    runtime = Runtime.start(config, agent="reviewer")
    try:
        sql = "SELECT id, title FROM items ORDER BY id"
        reads = runtime.pipeline.sql
        first = reads._prepared(runtime.sources.catalogs["shop"], sql)
        assert reads._prepared(runtime.sources.catalogs["shop"], sql) is first  # remembered
        assert runtime.service.query("shop", sql).rows == 1
        with sqlite3.connect(path) as conn:
            conn.execute("ALTER TABLE items DROP COLUMN title")
        runtime.sources.catalogs["shop"].tables(refresh=True)
        with pytest.raises(ToolProblem, match="does not exist"):
            runtime.service.query("shop", sql)
        masked = runtime.service.query("shop", "SELECT owner_email FROM items").text
        token = next(w for w in masked.split() if w.startswith("<EMAIL_ADDRESS:")).strip("|")
        with_token = f"SELECT id FROM items WHERE owner_email = '{token}'"
        catalog = runtime.sources.catalogs["shop"]
        assert reads._prepared(catalog, with_token) is not reads._prepared(catalog, with_token)
        assert runtime.service.query("shop", with_token).rows == 1
    finally:
        runtime.close()
