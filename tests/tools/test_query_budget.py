"""Query pages honour the output-token budget exactly, and never stall on an oversized row."""

from __future__ import annotations

import sqlite3

import pytest

from mcp_server.config import parse_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.runtime import Runtime
from mcp_server.tokens import TokenCounter
from mcp_server.tools.problems import ToolProblem


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    root = tmp_path_factory.mktemp("budget")
    workspace = prepare_demo(root)
    with sqlite3.connect(workspace.database) as conn:
        conn.execute("CREATE TABLE essays (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO essays VALUES (1, ?), (2, 'short')", ("lorem ipsum dolor sit amet " * 4000,))
    config = parse_config(
        '[tokens]\nmax_output_tokens = 400\n[[sources]]\nname = "crm"\nkind = "sql"\nurl = "sqlite:///crm.sqlite"\n',
        root / "maskwire.toml",
    )
    started = Runtime.start(config)
    yield started
    started.close()


@pytest.mark.parametrize("sql", ["SELECT * FROM customers", "SELECT id, subject, body FROM support_tickets"])
def test_every_page_fits_and_pages_cover_all_rows(runtime: Runtime, sql: str) -> None:
    counter = TokenCounter()
    cursor, ids = None, []
    for _ in range(200):
        out = runtime.service.query("crm", sql, cursor=cursor)
        assert counter.count(out.text) <= 400
        ids += [row[0] for row in out.structured.rows]  # type: ignore[attr-defined]
        cursor = out.structured.cursor  # type: ignore[attr-defined]
        if not cursor:
            break
    assert ids == sorted(set(ids)) and len(ids) == (60 if "customers" in sql else 40)


def test_an_oversized_row_is_cut_and_paging_moves_on(runtime: Runtime) -> None:
    first = runtime.service.query("crm", "SELECT id, body FROM essays ORDER BY id")
    data = first.structured
    assert data.rows[0][0] == 1 and "characters cut]" in data.rows[0][1]  # type: ignore[attr-defined]
    assert TokenCounter().count(first.text) <= 400
    second = runtime.service.query("crm", "SELECT id, body FROM essays ORDER BY id", cursor=data.cursor)  # type: ignore[attr-defined]
    assert second.structured.rows == [[2, "short"]]  # type: ignore[attr-defined]


def test_database_errors_keep_identifiers_readable(runtime: Runtime) -> None:
    sql = "SELECT id FROM customers c JOIN support_tickets t ON t.customer_id = c.id"
    with pytest.raises(ToolProblem, match="ambiguous column name: id") as problem:
        runtime.service.query("crm", sql)
    assert problem.value.status == "error"
