"""A `search` snippet is cut from the text as `read` masks it: a store's chunk is a window of words that can
begin or end inside a value written in several words (a card number in groups, a name), and masked alone its
fragment reads as nothing personal. A snippet must never show what `read` of the same document hides."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_server.config import parse_config
from mcp_server.runtime import Runtime

CHUNK_WORDS = 200  # the files store's default window: chunks are words [0, 200), [180, 380), ...
CARD = "4111 1111 1111 1111"
FILLER = [f"w{n:03d}x" for n in range(400)]


def _document(value: str, at: int) -> str:
    """One paragraph of filler words with `value` starting at word `at`, and a rare word a few words before it."""
    words = list(FILLER)
    words[at - 3] = "zephyrine"
    words[at : at + len(value.split())] = value.split()
    return " ".join(words) + "\n"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    docs = tmp_path / "docs"
    docs.mkdir()
    # The card's first two groups end the first chunk; the whole card is only in the second one.
    (docs / "card.md").write_text(_document(CARD, CHUNK_WORDS - 2))
    config = parse_config(
        f'[server]\nstate_dir = "{tmp_path / "state"}"\nsearch_floor_ms = 0\n'
        f'[[sources]]\nname = "docs"\nkind = "files"\npath = "{docs}"\n'
    )
    started = Runtime.start(config, agent="reviewer")
    yield started
    started.close()


def _words(text: str) -> str:
    return " ".join(text.replace("…", " ").split())


def _without_tokens(text: str) -> str:
    """The text with its tokens' digests left out: a digest is random hex, which can hold `4111` by chance."""
    return re.sub(r"<([A-Z][A-Z0-9_]*):[0-9a-f]{6,64}>", r"<\1>", text)


def test_a_snippet_shows_only_what_read_shows(runtime: Runtime) -> None:
    found = runtime.service.search("zephyrine", None, None)
    hits = found.structured.hits  # type: ignore[attr-defined]
    assert len(hits) == 1
    read = runtime.service.read("docs", hits[0].ref, None)
    shown = _words(read.structured.text)  # type: ignore[attr-defined]
    assert "4111" not in _without_tokens(shown), "read masks the card number"
    snippet = _words(hits[0].snippet)
    assert "zephyrine" in snippet
    assert snippet in shown, "every word of the snippet is where read shows it"
    assert not re.search(r"4111|1111", _without_tokens(found.text + found.structured.model_dump_json()))
