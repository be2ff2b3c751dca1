"""Differential non-interference: a query's answer may not depend on protected values.

Each generated query runs on D and, with its literals and tokens renamed, on f(D) (world.py). Masked cells
aside, the answers must be identical: same refusal, same error class, same rows (tokens translated back
through f), same paging; and no stable token may appear in both raw answers (a token that survives the
renaming stands for a value the agent chose). Every stable token must stand for a real value of D.

Budget: MASKWIRE_NI_EXAMPLES queries per engine (default 150, the CI budget). The long run is
`MASKWIRE_NI_EXAMPLES=6000 .venv/bin/python -m pytest tests/inference/test_noninterference.py -q -s`; with
MASKWIRE_NI_REPORT=path the counts are written there as JSON.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inference.grammar import Grammar, Query, queries
from inference.world import World, build_world, literal_pool, run

pytestmark = pytest.mark.services

EXAMPLES = int(os.environ.get("MASKWIRE_NI_EXAMPLES", "150"))
TOKEN = re.compile(r"<[A-Z][A-Z0-9_]*:[0-9a-f]{12}>")
STATS: dict[str, Counter[str]] = {}


@pytest.fixture(scope="module", params=["sqlite", "postgres", "mysql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    engine = request.param
    server = None
    if engine != "sqlite":
        server = str(request.getfixturevalue("postgres_url" if engine == "postgres" else "mysql_url"))
    yield from build_world(engine, tmp_path_factory.mktemp(f"ni-{engine}"), server)
    counts = STATS.get(engine, Counter())
    report = os.environ.get("MASKWIRE_NI_REPORT")
    if report:
        path = Path(report)
        data = json.loads(path.read_text()) if path.exists() else {}
        data[engine] = dict(counts)
        path.write_text(json.dumps(data, indent=2, sort_keys=True))
    print(f"\n[non-interference {engine}] {dict(counts)}")


def _translate(cell: Any, back: dict[str, str]) -> Any:
    if isinstance(cell, str):
        return TOKEN.sub(lambda m: back.get(m.group(0), m.group(0)), cell)
    return cell


def _tokens(rows: tuple[tuple[Any, ...], ...]) -> set[str]:
    return {t for row in rows for cell in row if isinstance(cell, str) for t in TOKEN.findall(cell)}


def _rows(rows: tuple[tuple[Any, ...], ...], ordered: bool) -> list[tuple[str, ...]]:
    as_text = [tuple(repr(c) for c in row) for row in rows]
    return as_text if ordered else sorted(as_text)


def compare(world: World, query: Query) -> str | None:
    """None when the two answers agree; else what differs."""
    a = run(world.runtime, "d", world.render(query.sql, renamed=False))
    b = run(world.runtime, "fd", world.render(query.sql, renamed=True))
    if a.status != b.status or a.error_class != b.error_class:
        return f"outcome {a.status}/{a.error_class} vs {b.status}/{b.error_class}"
    if a.status != "ok":
        return None
    # column names come from the query's own text (its renamed literals), so only their masking is compared
    if [m for _, m in a.columns] != [m for _, m in b.columns] or a.more != b.more or len(a.rows) != len(b.rows):
        return f"shape {a.columns}/{len(a.rows)}/{a.more} vs {b.columns}/{len(b.rows)}/{b.more}"
    shared = _tokens(a.rows) & _tokens(b.rows)
    if shared:
        return f"tokens in both answers (chosen values): {sorted(shared)[:3]}"
    foreign = _tokens(a.rows) - world.d_tokens
    if foreign:
        return f"tokens that stand for no value of the data: {sorted(foreign)[:3]}"
    translated = tuple(tuple(_translate(c, world.back) for c in row) for row in b.rows)
    if _rows(a.rows, query.ordered) != _rows(translated, query.ordered):
        return "rows differ"
    return None


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=os.environ.get("MASKWIRE_NI_RANDOM") is None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def _property(world: World, engine: str, data: Any) -> None:
    grammar = Grammar(engine, literal_pool(world.d), sorted(world.d_tokens))
    query = data.draw(queries(grammar), label="query")
    stats = STATS.setdefault(engine, Counter())
    stats["tried"] += 1
    difference = compare(world, query)
    outcome = run(world.runtime, "d", world.render(query.sql, renamed=False)).status
    stats[outcome] += 1
    if difference is not None:
        stats["differing"] += 1
        report = os.environ.get("MASKWIRE_NI_REPORT")
        if report:  # every difference as it is found (hypothesis then shrinks the first one)
            with Path(report).with_suffix(".differences.txt").open("a", encoding="utf-8") as out:
                out.write(f"{engine}\t{world.render(query.sql, renamed=False)}\t{difference}\n")
    assert difference is None, f"{engine}: {world.render(query.sql, renamed=False)}\n  -> {difference}"


def test_answers_do_not_depend_on_protected_values(world: World, request: pytest.FixtureRequest) -> None:
    engine = request.node.callspec.params["world"]
    _property(world, engine)
    stats = STATS[engine]
    assert stats["ok"] >= 0.25 * stats["tried"], f"too few generated queries were accepted: {dict(stats)}"
