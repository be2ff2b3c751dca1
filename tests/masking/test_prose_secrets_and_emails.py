"""Passwords in prose and code spans, and e-mail addresses with letters of any script: hits and near misses."""

from __future__ import annotations

import pytest

from mcp_server.masking.recognizers.email_address import StrictEmailRecognizer
from mcp_server.masking.recognizers.passwords import ProsePasswordRecognizer


def _secrets(text: str) -> list[str]:
    return [text[f.start : f.end] for f in ProsePasswordRecognizer().find(text)]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Customer called; password reset to gaY6O#rujC)2 as requested.", "gaY6O#rujC)2"),
        ("Hi team, the password is Summer2024! until Friday.", "Summer2024"),  # a closing "!" is punctuation
        ("Das Passwort ist K8#mzq!2pL, bitte ändern.", "K8#mzq!2pL"),
        ("Le mot de passe est zT4!qq9w pour le compte.", "zT4!qq9w"),
        ("La contraseña es Hola#2023x hasta mañana.", "Hola#2023x"),
        ("La password è Roma_2024 da cambiare.", "Roma_2024"),
        ("A senha é p@ss1234 até amanhã.", "p@ss1234"),
        ("Het wachtwoord is Fiets!88 tot morgen.", "Fiets!88"),
        ("Deploy notes: set `Xy7!kq92LL` as the admin password.", "Xy7!kq92LL"),
    ],
)
def test_passwords_after_cues_and_in_code_spans(text: str, secret: str) -> None:
    assert secret in _secrets(text)


@pytest.mark.parametrize(
    "text",
    [
        "The password is changed every quarter.",
        "Your settings were reset to default.",
        "The password policy is strict.",
        "Run `make install` first.",  # a code span in a sentence without a password word
        "Reset to v2.1.3 after the release.",  # no password word
        "The password is sent to anna.berg@example.com today.",
        "password = get_password(user)",  # an assignment in code: assignments.py decides those
    ],
)
def test_near_misses_are_not_passwords(text: str) -> None:
    assert _secrets(text) == []


@pytest.mark.parametrize(
    "address", ["josé.garcía@correo.es", "müller@bücher.de", "gúús.bröñdér@gmail.com", "ana@exemplo.com.br"]
)
def test_emails_with_letters_of_any_script(address: str) -> None:
    text = f"write to {address} today"
    found = [text[r.start : r.end] for r in StrictEmailRecognizer().find(text, [])]
    assert found == [address]


@pytest.mark.parametrize("text", ["logo@2x.png", "a..b@example.com", "ftp://josé:pw@host.es/x", "@mention only"])
def test_email_near_misses(text: str) -> None:
    assert StrictEmailRecognizer().find(text, []) == []
