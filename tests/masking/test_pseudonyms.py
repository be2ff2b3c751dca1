import os
import stat
from pathlib import Path

import pytest

from mcp_server.masking.pseudonyms import TOKEN_PATTERN, MaskingKeyError, Pseudonymizer, load_or_create_key


def test_same_value_same_token_and_keyed() -> None:
    a = Pseudonymizer(b"k" * 32)
    b = Pseudonymizer(b"other-key-other-key-other-key-xx")
    t1 = a.token("EMAIL_ADDRESS", "ann@example.com")
    assert t1 == a.token("EMAIL_ADDRESS", "ann@example.com")
    assert TOKEN_PATTERN.fullmatch(t1)
    assert t1 != b.token("EMAIL_ADDRESS", "ann@example.com")
    assert t1 != a.token("EMAIL_ADDRESS", "bob@example.com")
    # case and spacing do not make a different value
    assert a.token("PERSON", "JOHN  SMITH") == a.token("PERSON", "John Smith")


def test_tokens_are_the_keyed_hmac_whether_remembered_or_not() -> None:
    import hashlib
    import hmac

    p = Pseudonymizer(b"k" * 32, remember=3)
    values = [f"person{i}@example.org" for i in range(10)] * 2  # past `remember`: the memo is emptied and refilled
    for value in values:
        expected = hmac.new(b"k" * 32, value.encode(), hashlib.sha256).hexdigest()[:12]
        assert p.token("EMAIL_ADDRESS", value) == f"<EMAIL_ADDRESS:{expected}>"
    assert len(p._digests) <= 3
    last = p.token("EMAIL_ADDRESS", values[-1])
    assert p.resolve(last) == values[-1]


def test_every_token_served_resolves_after_the_remembered_values_move_on() -> None:
    """Tokens issued lately are served without touching the remembered values; none may be one `resolve` has
    forgotten, whatever the order in which columns and entity types come back."""
    p = Pseudonymizer(b"k" * 32, remember=4)
    rounds = [("PERSON", ["a", "b"]), ("EMAIL_ADDRESS", ["c", "d", "e"]), ("PERSON", ["a", "b"]), ("CITY", ["f"])]
    rounds += [("PERSON", ["a"]), ("EMAIL_ADDRESS", ["b", "c"]), ("PERSON", ["b"]), ("CITY", ["f", "a"])]
    for entity, values in rounds:  # "a" of PERSON is forgotten when EMAIL_ADDRESS brings three more values
        for value, token in p.tokens(entity, values).items():
            assert p.resolve(token) == value, (entity, value)
    for i in [*range(12), 0, 1]:  # the labels filled up and emptied too, then the first types come back
        for value, token in p.tokens(f"TYPE{i}", ["a", "b"]).items():
            assert p.resolve(token) == value, (i, value)


def test_resolve_only_issued_tokens() -> None:
    p = Pseudonymizer(b"k" * 32)
    token = p.token("US_SSN", "123-45-6789")
    assert p.resolve(token) == "123-45-6789"
    assert p.resolve("<US_SSN:000000000000>") is None
    assert p.resolve("not a token") is None


def test_a_relabelled_token_is_not_resolved() -> None:
    """`<US_SSN:…>` around the digest of a PERSON token is not a token Maskwire issued: comparing it with an SSN
    column would test a name against SSNs (and a type error would tell what kind of value hides behind it)."""
    p = Pseudonymizer(b"k" * 32)
    person = p.token("PERSON", "Ysolde Brackenridge")
    [issued] = p.tokens("SENSITIVE", ["HIV positive"]).values()
    assert p.resolve(person) == "Ysolde Brackenridge" and p.resolve(issued) == "HIV positive"
    assert p.resolve(person.replace("<PERSON:", "<US_SSN:")) is None
    assert p.resolve(issued.replace("<SENSITIVE:", "<DATE_OF_BIRTH:")) is None
    p.token("USERNAME", "Ysolde Brackenridge")  # the same value issued as another type: both labels hold
    assert p.resolve(person.replace("<PERSON:", "<USERNAME:")) == "Ysolde Brackenridge"


def test_key_file_created_private(tmp_path: Path) -> None:
    key = load_or_create_key(None, tmp_path / "state")
    path = tmp_path / "state" / "masking.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_key(None, tmp_path / "state") == key
    assert len(key) == 64


def test_configured_key_must_be_long_enough(tmp_path: Path) -> None:
    with pytest.raises(MaskingKeyError):
        load_or_create_key("short", tmp_path)
    assert load_or_create_key("x" * 16, tmp_path) == b"x" * 16


def test_vault_resolves_tokens_across_restarts(tmp_path: Path) -> None:
    from mcp_server.masking.vault import TokenVault

    key = b"k" * 32
    first = Pseudonymizer(key, vault=TokenVault(tmp_path / "vault.sqlite", key))
    token = first.token("EMAIL_ADDRESS", "ann@example.com")
    first.close()
    raw = (tmp_path / "vault.sqlite").read_bytes()
    assert b"ann@example.com" not in raw  # encrypted at rest
    assert stat.S_IMODE(os.stat(tmp_path / "vault.sqlite").st_mode) == 0o600

    second = Pseudonymizer(key, vault=TokenVault(tmp_path / "vault.sqlite", key))
    assert second.resolve(token) == "ann@example.com"
    assert second.resolve("<EMAIL_ADDRESS:000000000000>") is None
    second.close()

    other_key = b"x" * 32  # a vault read with another key resolves nothing
    third = Pseudonymizer(other_key, vault=TokenVault(tmp_path / "vault.sqlite", other_key))
    assert third.resolve(token) is None
    third.close()
