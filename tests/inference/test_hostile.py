"""The hostile corpus (hostile_corpus.py) on SQLite, PostgreSQL and MariaDB, through the real tool service.

For every query: no planted value comes out, raw, case-folded, as digits, reversed, or hex- or base64-decoded;
every token that comes out stands for a whole value of the data (never a chosen literal or a fragment); and a
query of a class the rule forbids is refused.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import sqlite3
from collections.abc import Iterator

import pytest
from crm_engines import Target, crm_target
from inference.hostile_corpus import expand

from mcp_server.tools.problems import ToolProblem

pytestmark = pytest.mark.e2e

CORPUS = expand()
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}){4,}")
_B64 = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")
_TOKEN = re.compile(r"<[A-Z][A-Z0-9_]*:[0-9a-f]{12}>")


@pytest.fixture(scope="module", params=["sqlite", "postgres", "mysql"])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    yield from crm_target(request, tmp_path_factory)


def _decodings(text: str) -> list[str]:
    """The text and what an agent could decode from it."""
    found = [text, text[::-1]]
    for match in _HEX.findall(text):
        with contextlib.suppress(binascii.Error, ValueError):
            found.append(binascii.unhexlify(match).decode("utf-8", errors="ignore"))
    for match in _B64.findall(text):
        with contextlib.suppress(binascii.Error, ValueError):
            found.append(base64.b64decode(match + "=" * (-len(match) % 4)).decode("utf-8", errors="ignore"))
    return found


def leaks(text: str, seeded: tuple[str, ...]) -> list[str]:
    views = [v.casefold() for v in _decodings(text)]
    digits = re.sub(r"\D", "", text)
    out = []
    for value in seeded:
        folded = value.casefold()
        value_digits = re.sub(r"\D", "", value)
        if any(folded in view for view in views) or (len(value_digits) >= 7 and value_digits in digits):
            out.append(value)
    return out


def whole_values(target: Target) -> set[str]:
    """Every cell of the CRM, and every word run of its free text: what a token may stand for."""
    conn = sqlite3.connect(target.workspace.database)
    values: set[str] = set()
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        for row in conn.execute(f"SELECT * FROM {table}"):
            values.update(str(v).casefold() for v in row if v is not None)
    conn.close()
    return values


def _in_data(value: str, cells: set[str]) -> bool:
    """A whole cell, or (for what free text scanning found) a run of at least four characters of one."""
    folded = " ".join(value.split()).casefold()
    return folded in cells or (len(folded) >= 4 and any(folded in cell for cell in cells))


def test_corpus_is_large_and_covers_every_class() -> None:
    per_engine = {d: sum(1 for h in CORPUS if d in h.dialects) for d in ("sqlite", "postgres", "mysql")}
    assert all(n >= 300 for n in per_engine.values()), per_engine
    assert len({h.cls for h in CORPUS}) >= 8


def _token_for(target: Target, column: str) -> str:
    out = target.runtime.service.query("crm", f"SELECT {column} FROM customers WHERE id = 1")
    return str(out.structured.rows[0][0])  # type: ignore[attr-defined]


def test_hostile_queries_leak_nothing(target: Target) -> None:
    service = target.runtime.service
    resolve = target.runtime.masker.pseudonyms.resolve
    seeded = target.workspace.seeded.must_not_leak()
    cells = whole_values(target)
    failures: list[str] = []
    tried = refused = 0
    for hostile in (h for h in CORPUS if target.engine in h.dialects):
        sql = hostile.sql
        if "{t}" in sql:
            sql = sql.replace("{t}", _token_for(target, hostile.column))
        tried += 1
        try:
            out = service.query("crm", sql)
            text = out.text + out.structured.model_dump_json()
            answered = True
        except ToolProblem as problem:
            text, answered = str(problem), False
            refused += bool((problem.error_class or "SqlDenied").startswith("SqlDenied"))
        if hostile.expect == "refused" and answered:
            failures.append(f"[{hostile.cls}] answered, must be refused: {sql}")
        leaked = leaks(text, seeded)
        if leaked:
            failures.append(f"[{hostile.cls}] leaked {len(leaked)} value(s): {sql}")
        for token in set(_TOKEN.findall(text)):
            value = resolve(token)
            if value is not None and not _in_data(value, cells):
                failures.append(f"[{hostile.cls}] a token stands for a value that is not in the data: {sql}")
    assert not failures, "\n".join(failures[:20]) + f"\n({len(failures)} failures of {tried})"
    assert refused >= 0.5 * tried


def test_grouped_pages_follow_a_canonical_order(target: Target) -> None:
    """Paging one group at a time through a result grouped by a protected column: the pages come in the order of
    the tokens (what the agent sees), never in the order of the hidden values, and together hold every group."""
    service = target.runtime.service
    sql = "SELECT email, count(*) AS n FROM customers GROUP BY email"
    cursor, seen = None, []
    for _ in range(100):
        out = service.query("crm", sql, max_rows=7, cursor=cursor)
        seen += [row[0] for row in out.structured.rows]  # type: ignore[attr-defined]
        cursor = out.structured.cursor  # type: ignore[attr-defined]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 60
    assert seen == sorted(seen)


def test_grouped_limits_are_applied_after_a_canonical_sort(target: Target) -> None:
    """`GROUP BY email ORDER BY n LIMIT 5`: ties on n come in token order, so the five rows kept are the first five
    of what the agent sees, never the first five of the hidden sort order."""
    service = target.runtime.service
    everything = service.query("crm", "SELECT min(id) AS i, email, count(*) AS n FROM customers GROUP BY email")
    rows = sorted(everything.structured.rows, key=lambda r: (r[2], r[0], r[1]))  # type: ignore[attr-defined]
    limited = service.query(
        "crm", "SELECT min(id) AS i, email, count(*) AS n FROM customers GROUP BY email ORDER BY n LIMIT 5 OFFSET 2"
    )
    assert limited.structured.rows == rows[2:7]  # type: ignore[attr-defined]
