import socket

import pytest
import tiktoken

from mcp_server.tokens import EXPECTED_SHA256, TokenCounter, bundled_bpe, get_encoding


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
