"""Secrets after their variable names in config-like text, and secrets split over lines: hits and near misses."""

from __future__ import annotations

import pytest

from mcp_server.masking.recognizers.assignments import KeywordAssignmentRecognizer

RANDOM = "q8Zt3Lx9Vb2Nw7Kp4Rs"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _values(text: str) -> list[str]:
    return [text[f.start : f.end] for f in KeywordAssignmentRecognizer().find(text)]


def _masked(detector, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [text[f.start : f.end] for f in detector.analyze(text) if f.entity == "SECRET"]


@pytest.mark.parametrize(
    "text",
    [
        f"aws_secret_access_key = {AWS_SECRET}",
        f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}",
        f'export AWS_SECRET_ACCESS_KEY="{AWS_SECRET}"',
        f"[default]\naws_secret_access_key={AWS_SECRET}\nregion=eu-west-1",
        f'{{"aws_secret_access_key": "{AWS_SECRET}"}}',
        f"  aws_secret_access_key: {AWS_SECRET}",
    ],
)
def test_aws_secret_after_its_variable_name(detector, text: str) -> None:  # type: ignore[no-untyped-def]
    assert _masked(detector, text) == [AWS_SECRET]


def test_aws_access_key_id_after_its_variable_name(detector) -> None:  # type: ignore[no-untyped-def]
    assert _masked(detector, "aws_access_key_id = AKIAIOSFODNN7EXAMPLE") == ["AKIAIOSFODNN7EXAMPLE"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (f"STRIPE_KEY={RANDOM}", RANDOM),  # .env
        (f"export MAPBOX_KEY={RANDOM}", RANDOM),  # shell
        (f'{{"stripe_key": "{RANDOM}"}}', RANDOM),  # JSON
        (f"maps:\n  geocoder_key: {RANDOM}\n", RANDOM),  # YAML
        (f"[stripe]\nwebhook_key = {RANDOM}", RANDOM),  # INI
        (f"DEPLOY_TOKEN={RANDOM}", RANDOM),
        (f"client_secret: {RANDOM}", RANDOM),
        ("password = Tr0ub4dor&3", "Tr0ub4dor&3"),
    ],
)
def test_generic_secret_names_in_config(text: str, value: str) -> None:
    assert _values(text) == [value]


@pytest.mark.parametrize(
    "text",
    [
        f"primary_key = {RANDOM}",  # a key of a table
        f"sort_key: {RANDOM}",
        f"public_key = {RANDOM}",
        f"The key: {RANDOM} is in the box",  # prose, not config
        "STRIPE_KEY=changeme",  # a plain word is no key
        "cache_key=user_profile_settings_v2",  # an identifier
        "token_count = 12345678901234",
        "next_page_token: CAESBggBEAEYAQ",
    ],
)
def test_not_generic_secret_names(text: str) -> None:
    assert _values(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG\\\nbPxRfiCYEXAMPLEKEY\nNEXT=1",  # `\` continuation
        "api_key = ZXhhbXBsZS1rZXktdGhhdC1pcy1sb25n\nZ2VyLXRoYW4tb25lLWxpbmU=\n",  # wrapped base64
        "The api key is ZXhhbXBsZS1rZXktdGhhdC1pcy1sb25n\nZ2VyLXRoYW4tb25lLWxpbmU= keep it safe",  # in prose
        f"secret: |\n  {AWS_SECRET[:20]}\n  {AWS_SECRET[20:]}\nother: x",  # a YAML block
    ],
)
def test_a_secret_split_over_lines_is_masked_whole(detector, text: str) -> None:  # type: ignore[no-untyped-def]
    masked = _masked(detector, text)
    assert len(masked) == 1 and "\n" in masked[0]
    for piece in ("bPxRfiCYEXAMPLEKEY", "Z2VyLXRoYW4tb25lLWxpbmU=", AWS_SECRET[20:]):
        assert piece not in text or piece in masked[0]


def test_a_pem_block_is_masked_whole(detector) -> None:  # type: ignore[no-untyped-def]
    body = "MIIEpAIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aozN3tihPmljnnudb9G3HECdnH\nlWu2/a1gB9JW5TBQ+AVpum9Okx7KfqkfBKL9"
    text = f"key:\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"
    assert any(body in m for m in _masked(detector, text))


@pytest.mark.parametrize(
    "text",
    [
        "password = hunter2hunter\nconfiguration\n",  # a word on the next line is not the value going on
        f"token: ghp_{'a1' * 18}\nmode: fast",  # the next line is another key
        f"api_key = {RANDOM}{RANDOM}\n\nZ2VyLXRoYW4tb25lLWxpbmU=",  # a blank line ends the value
    ],
)
def test_a_secret_does_not_run_into_the_next_line(detector, text: str) -> None:  # type: ignore[no-untyped-def]
    assert all("\n" not in m for m in _masked(detector, text))
