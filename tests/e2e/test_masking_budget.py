"""The masking budget, end to end over HTTP with two clients.

One client asks for a page of long, distinct free texts whose scanning would take far longer than the call's
masking budget allows; it must come back with the cells past the budget withheld (never raw), while a second
client's call on the same server is answered before the first one finishes.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections.abc import Iterator

import anyio
import pytest
from e2e.test_http_session import _add_agent, _client, _everything, serving_http

pytestmark = pytest.mark.e2e

ROWS = 240
HTTP_ARGS = ("--transport", "http", "--port", "0")
WORDS = ["the", "invoice", "customer", "called", "about", "delivery", "refund", "order", "account", "update"]


def _notes(rng: random.Random) -> tuple[str, str]:
    """A long note about one person, and that person's e-mail (a planted value)."""
    email = f"{''.join(rng.choice('abcdefghij') for _ in range(9))}{rng.randint(10, 99)}@example.org"
    words = " ".join(rng.choice(WORDS) for _ in range(250))
    return f"{words} Contact {email} for details. {words}", email


@pytest.fixture(scope="module")
def budget_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, list[str]]]:
    root = tmp_path_factory.mktemp("budget")
    rng = random.Random(5)
    database = root / "notes.sqlite"
    conn = sqlite3.connect(database)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    planted = []
    for i in range(ROWS):
        body, email = _notes(rng)
        planted.append(email)
        conn.execute("INSERT INTO notes VALUES (?, ?)", (i, body))
    conn.commit()
    conn.close()
    config = root / "maskwire.toml"
    config.write_text(
        f'[server]\nstate_dir = "{root / "state"}"\n'
        "[masking]\nscan_budget_seconds = 2\nscan_budget_chars = 100000000\nner_workers = 0\n"
        "[tokens]\nmax_output_tokens = 1000000\n"
        f'[[sources]]\nname = "notes"\nkind = "sql"\nurl = "sqlite:///{database}"\n'
        '[sources.columns]\n"notes.body" = { kind = "text" }\n'
    )
    token = _add_agent(config, "budget-agent")
    with serving_http(config, {"MASKWIRE_LOG_LEVEL": "INFO"}, []) as url:
        yield url, token, planted


async def test_huge_masking_is_withheld_and_others_are_answered_meanwhile(
    budget_server: tuple[str, str, list[str]],
) -> None:
    url, token, planted = budget_server
    finished: dict[str, float] = {}
    texts: dict[str, str] = {}

    async def heavy() -> None:
        async with _client(url, token) as client:
            result = await client.call_tool("query", {"source": "notes", "sql": "SELECT id, body FROM notes"})
            texts["heavy"] = _everything(result)
            finished["heavy"] = time.monotonic()

    async def light() -> None:
        async with _client(url, token) as client:
            await anyio.sleep(1.0)  # the heavy call is masking by now
            result = await client.call_tool("query", {"source": "notes", "sql": "SELECT count(*) AS n FROM notes"})
            texts["light"] = _everything(result)
            finished["light"] = time.monotonic()

    async with anyio.create_task_group() as group:
        group.start_soon(heavy)
        group.start_soon(light)

    assert str(ROWS) in texts["light"]
    assert finished["light"] < finished["heavy"], "the second client waited for the first call's masking"
    withheld = len(re.findall(r"<WITHHELD:masking budget>", texts["heavy"]))
    assert 0 < withheld < 2 * ROWS  # some cells scanned, the rest withheld (text and structured content)
    folded = texts["heavy"].casefold()
    assert not [email for email in planted if email.casefold() in folded]
