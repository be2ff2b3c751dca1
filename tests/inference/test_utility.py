"""Useful SQL keeps working: the analyst corpus (utility_corpus.py) over the public chinook database.

Every query whose answer does not depend on personal values beyond equality must run; the counts are printed
(`-s`) for docs/security.md.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from inference.utility_corpus import QUERIES

from mcp_server.config import parse_config
from mcp_server.runtime import Runtime
from mcp_server.tools.problems import ToolProblem

pytestmark = pytest.mark.fixtures


@pytest.fixture(scope="module")
def chinook(shared_fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("utility")
    database = root / "chinook.sqlite"  # a private copy: the runtime opens it read-only, the fixture stays as is
    shutil.copy(shared_fixtures / "chinook.sqlite", database)
    config = parse_config(
        f'[server]\nstate_dir = "{root / "state"}"\n[[sources]]\nname = "chinook"\nkind = "sql"\nurl = "sqlite:///{database}"\n',
        root / "maskwire.toml",
    )
    runtime = Runtime.start(config)
    yield runtime
    runtime.close()


def test_corpus_size() -> None:
    assert len(QUERIES) >= 100


def test_analyst_queries_still_run(chinook: Runtime) -> None:
    service = chinook.service
    refused: list[str] = []
    ran = {True: 0, False: 0}
    for sql, protected in QUERIES:
        try:
            service.query("chinook", sql)
            ran[protected] += 1
        except ToolProblem as problem:
            if not protected:
                refused.append(f"{sql}\n    -> {problem}")
    plain = sum(1 for _, p in QUERIES if not p)
    print(
        f"\n[utility] {ran[False] + ran[True]} of {len(QUERIES)} ran; {ran[False]} of {plain} that do not depend on"
        f" personal values, {ran[True]} of {len(QUERIES) - plain} that do"
    )
    assert not refused, "\n".join(refused)
