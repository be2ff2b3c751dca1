import marshal
import socket
from pathlib import Path

import pytest
import tiktoken

from mcp_server.tokens import EXPECTED_SHA256, SEGMENTED, TokenCounter, _LineCounts, bundled_bpe, get_encoding, segments


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("name", sorted(EXPECTED_SHA256))
def test_bundled_encoding_matches_tiktoken_hash(name: str) -> None:
    assert len(bundled_bpe(name)) > 1_000_000


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_counts_offline(name: str) -> None:
    get_encoding.cache_clear()
    counter = TokenCounter(name)
    assert counter.exact
    assert counter.count("") == 0
    assert counter.count("hello world") == 2
    # special-token text is counted as ordinary text, never rejected
    assert counter.count("<|endoftext|>") > 1


def test_offline_encoding_equals_reference_ranks() -> None:
    enc = get_encoding("o200k_base")
    assert isinstance(enc, tiktoken.Encoding)
    assert enc.n_vocab == 200019
    assert enc.decode(enc.encode("Maskwire <EMAIL_ADDRESS:7f3a9c2e1b0d>")) == "Maskwire <EMAIL_ADDRESS:7f3a9c2e1b0d>"


def test_truncate_respects_budget() -> None:
    counter = TokenCounter()
    text = "word " * 1000
    cut = counter.truncate(text, 50)
    assert counter.count(cut) <= 50 and text.startswith(cut)


def test_unknown_encoding_never_raises() -> None:
    counter = TokenCounter("no_such_encoding")  # type: ignore[arg-type]
    assert not counter.exact
    assert counter.count("abcdefgh") == 2


def _code_points() -> list[str]:
    """Every code point of the first three planes (no surrogates), then every 97th of the rest."""
    points = [*range(0x30000), *range(0x30000, 0x110000, 97)]
    return [chr(p) for p in points if not 0xD800 <= p <= 0xDFFF]


@pytest.mark.parametrize("name", sorted(SEGMENTED))
def test_line_counts_add_up_whatever_a_line_starts_with(name: str) -> None:
    """The rule `segments` relies on, over every character a line can start with and the usual line endings."""
    encoding = get_encoding(name)
    endings = ("word", "word ", "x |", "x | ", "12", "it's", "<TOKEN_1a>", "", "\u00e9t\u00e9", "a\r")
    points = _code_points()
    for start in range(0, len(points), 20_000):
        chunk = points[start : start + 20_000]
        text = "\n".join(f"{endings[i % len(endings)]}{c}z" if i else "head" for i, c in enumerate(chunk))
        pieces = segments(text)
        assert "".join(pieces) == text
        assert sum(len(encoding.encode_ordinary(p)) for p in pieces) == len(encoding.encode_ordinary(text))


@pytest.mark.parametrize("name", sorted(SEGMENTED))
def test_counts_by_line_equal_whole_counts_on_random_text(name: str) -> None:
    import random

    rng = random.Random(5)
    tricky = "aZ7 \t\n\n/|<>_.-:\u00a0\u3000\u00e9\u4e2d\U0001f600\u2028\x0b"
    alphabet = [*tricky, "  ", "\r\n", "'s", "NULL", "1,234.56"]
    encoding = get_encoding(name)
    counter = TokenCounter(name)
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(600, 3_000)))
        expected = len(encoding.encode_ordinary(text))
        assert counter.count(text) == expected
        assert counter.count(text) == expected  # the second time from the remembered lines


def test_remembered_lines_are_bounded() -> None:
    lines = _LineCounts(limit_chars=10_000)
    encoding = get_encoding("o200k_base")
    for i in range(2_000):
        text = f"row {i} | <PERSON_{i:08x}> | some text\nrow {i + 1} | more text here\n"
        assert lines.count(encoding, text) == len(encoding.encode_ordinary(text))
    assert lines._chars <= 10_000 and sum(len(k) for k in lines._counts) == lines._chars


@pytest.mark.usefixtures("no_network")
def test_a_server_keeps_a_copy_of_the_ranks_and_makes_a_damaged_one_again(tmp_path: Path) -> None:
    text = "Maskwire <EMAIL_ADDRESS:7f3a9c2e1b0d> | 2026-12-02 | naïve café ✓\n" * 50
    expected = get_encoding("o200k_base").encode_ordinary(text)
    get_encoding.cache_clear()
    assert TokenCounter(cache_dir=tmp_path).count(text) == len(expected)
    [copy] = tmp_path.glob("encoding-o200k_base-*.marshal")
    for content in (None, b"", b"\x00garbage", marshal.dumps({"not": "ranks"})):
        if content is not None:
            copy.write_bytes(content)
        get_encoding.cache_clear()  # a new process: built from the copy, or from the bundled file when it is bad
        encoding = get_encoding("o200k_base", tmp_path)
        assert encoding.encode_ordinary(text) == expected and encoding.n_vocab == 200019
        assert marshal.loads(copy.read_bytes()) == encoding._mergeable_ranks


def test_text_an_agent_sent_is_counted_but_not_remembered() -> None:
    counter = TokenCounter()
    text = "SELECT id FROM people WHERE ssn = '536-22-8841'\n" * 100
    assert counter.count(text, remember=False) == counter.count(text)
    counter = TokenCounter()
    counter.count(text, remember=False)
    assert counter._lines is not None and not counter._lines._counts
