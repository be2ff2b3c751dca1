"""`search` answers no sooner than `[server] search_floor_ms`: a word found only inside masked values costs more
work than a word found nowhere, and the time must not tell them apart (benchmarks/search_timing.py measures it)."""

from __future__ import annotations

import time
from pathlib import Path

from mcp_server.config import parse_config
from mcp_server.runtime import Runtime

FLOOR_MS = 40


def test_a_masked_only_word_and_an_absent_one_both_wait_for_the_floor(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "visit.md").write_text("# Visit\n\nIgnatius Quattlebaum called about the refund.\n")
    config = parse_config(
        f'[server]\nstate_dir = "{tmp_path / "state"}"\nsearch_floor_ms = {FLOOR_MS}\n'
        f'[[sources]]\nname = "docs"\nkind = "files"\npath = "{docs}"\n'
    )
    runtime = Runtime.start(config, agent="reviewer")
    try:
        answers = []
        for term in ("Quattlebaum", "Quattlebaux", "refund"):
            started = time.monotonic()
            out = runtime.service.search(term, None, None)
            assert time.monotonic() - started >= FLOOR_MS / 1000
            answers.append(out)
    finally:
        runtime.close()
    masked_only, absent, present = answers
    assert masked_only.rows == absent.rows == 0 and masked_only.text == absent.text
    assert present.rows == 1 and "Quattlebaum" not in present.text
