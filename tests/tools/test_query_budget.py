"""Query pages honour the output-token budget exactly, and never stall on an oversized row."""

from __future__ import annotations

import sqlite3

import pytest
from mcp import Client

from mcp_server.config import parse_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.masking.masker import ScanBudget
from mcp_server.runtime import Runtime
from mcp_server.server import build_server
from mcp_server.tokens import TokenCounter
from mcp_server.tools.problems import ToolProblem

NOTES = 120
FILLER = "the customer called about the delivery of the order and asked for an update on the refund " * 8


def _note(i: int) -> str:
    return f"{FILLER} Contact note{i}.owner@example.org for details."


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    root = tmp_path_factory.mktemp("budget")
    workspace = prepare_demo(root)
    with sqlite3.connect(workspace.database) as conn:
        conn.execute("CREATE TABLE essays (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO essays VALUES (1, ?), (2, 'short')", ("lorem ipsum dolor sit amet " * 4000,))
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.executemany("INSERT INTO notes VALUES (?, ?)", [(i, _note(i)) for i in range(NOTES)])
        conn.execute("CREATE TABLE tagged (tag TEXT, body TEXT)")
        rows = [(f"tag{i % 3}", f"{FILLER} Contact {chr(97 + i % 26)}{i}.owner@example.org.") for i in range(NOTES)]
        conn.executemany("INSERT INTO tagged VALUES (?, ?)", rows)
    config = parse_config(
        '[tokens]\nmax_output_tokens = 400\n[[sources]]\nname = "crm"\nkind = "sql"\nurl = "sqlite:///crm.sqlite"\n'
        '[sources.columns]\n"notes.body" = { kind = "text" }\n"tagged.body" = { kind = "text" }\n'
        '"tagged.tag" = { kind = "clear" }\n',
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


def _recorded_budgets(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[ScanBudget]:
    """The masking budget of every call from now on (its `used_chars`: how much free text the call scanned)."""
    masker = runtime.pipeline.policy_for(None).masker
    budgets: list[ScanBudget] = []
    real_budget = masker.budget

    def recorded_budget() -> ScanBudget:
        budgets.append(real_budget())
        return budgets[-1]

    monkeypatch.setattr(masker, "budget", recorded_budget)
    return budgets


@pytest.mark.parametrize("order", ["ORDER BY id", ""])
def test_masking_follows_the_page(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, order: str) -> None:
    """A query over long free text scans the rows the page can hold, not every fetched row, also when Maskwire
    orders the rows itself (no ORDER BY): structured cells decide that order."""
    policy = runtime.pipeline.policy_for(None)
    budgets = _recorded_budgets(runtime, monkeypatch)
    sql = f"SELECT id, body FROM notes {order}"
    cursor, ids, pages = None, [], 0
    while True:
        out = runtime.pipeline.query("crm", sql, cursor=cursor, policy=policy)
        pages += 1
        assert TokenCounter().count(out.text) <= 400
        assert "@example.org" not in out.text and "<EMAIL_ADDRESS" in out.text
        ids += [row[0] for row in out.structured.rows]  # type: ignore[attr-defined]
        cursor = out.structured.cursor  # type: ignore[attr-defined]
        if pages == 1:
            scanned, fetched = budgets[0].used_chars, sum(len(_note(i)) for i in range(NOTES))
            assert 0 < scanned < fetched / 10, (scanned, fetched)
        if not cursor or pages > NOTES:
            break
    assert ids == list(range(NOTES))


async def test_the_result_text_is_counted_once_and_the_ledger_reuses_the_count(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: list[str] = []
    real_count = runtime.counter.count

    def recorded_count(text: str, *, remember: bool = True) -> int:
        counted.append(text)
        return real_count(text, remember=remember)

    monkeypatch.setattr(runtime.counter, "count", recorded_count)
    async with Client(build_server(runtime)) as client:
        fits = await client.call_tool("query", {"source": "crm", "sql": "SELECT id FROM notes ORDER BY id LIMIT 5"})
        cut = await client.call_tool("query", {"source": "crm", "sql": "SELECT id, body FROM notes ORDER BY id"})
    entries = list(runtime.ledger.entries())[-2:]
    for result, entry in zip((fits, cut), entries, strict=True):
        text = result.content[0].text  # type: ignore[union-attr]
        assert entry.tokens_out == real_count(text) <= 400
    assert counted.count(fits.content[0].text) == 1  # type: ignore[union-attr]
    assert counted.count(cut.content[0].text) == 1  # type: ignore[union-attr]


def test_rows_tied_before_their_free_text_are_ordered_by_it(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ORDER BY the rows are sorted by what the agent sees; rows alike in the columns before a free-text
    column are ordered by its masked text, which is scanned for them."""
    budgets = _recorded_budgets(runtime, monkeypatch)
    out = runtime.service.query("crm", "SELECT tag, body FROM tagged")
    rows = out.structured.rows  # type: ignore[attr-defined]
    assert rows == sorted(rows) and rows[0][0] == "tag0"
    assert "@example.org" not in out.text and budgets[0].used_chars >= sum(len(r[1]) for r in rows) // 2
