"""A column's declared operator wins over its entity's operator in `query` results."""

from __future__ import annotations

from pathlib import Path

from mcp_server.config import parse_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.runtime import Runtime

SOURCE = """
[[sources]]
name = "crm"
kind = "sql"
url = "sqlite:///crm.sqlite"
[sources.columns."customers.email"]
kind = "pii"
entity = "EMAIL_ADDRESS"
operator = "redact"
"""


def test_a_column_declared_redact_is_redacted_in_query(tmp_path: Path) -> None:
    prepare_demo(tmp_path)
    runtime = Runtime.start(parse_config(SOURCE, tmp_path / "maskwire.toml"))
    try:
        out = runtime.service.query("crm", "SELECT email FROM customers ORDER BY id LIMIT 3")
    finally:
        runtime.close()
    cells = [row[0] for row in out.structured.rows]  # type: ignore[attr-defined]
    assert cells == ["<EMAIL_ADDRESS>"] * 3
    assert "@" not in out.text
