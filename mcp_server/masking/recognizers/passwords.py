"""Passwords written in prose and in code spans, in eight languages.

- after a cue: `the password is X`, `password: X`, `reset to X` / `changed to X` with a password or account
  word shortly before (`my account was reset to X`), `das Passwort ist X`, `le mot de passe est X`,
  `la contraseña es X`, `la password è X`, `a senha é X`, `het wachtwoord is X`;
- in a code span (`` `X` ``) in a sentence that speaks of a password.

The value must look like a password: 6 to 64 non-blank characters with a digit or a symbol, or both cases
inside the word. Plain words (`the password is changed`, `reset to default`) are not passwords.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from presidio_analyzer import EntityRecognizer

from ._base import KEYWORD_SCORE, Finding, SecretRecognizer

_PASSWORD_WORD = (
    r"(?:password|passwort|kennwort|mot\s+de\s+passe|contrase[ñn]a|clave|senha|wachtwoord|pass\s*code|passphrase"
    r"|pwd|pin)"
)
# Words only: `password: X` and `password = X` are assignments, read (with their code look-alikes) by
# assignments.KeywordAssignmentRecognizer.
_VERB = r"(?:is|was|ist|lautet|war|est|était|es|era|è|é|is\s+nu|now\s+is|is\s+now|became|will\s+be)"
# `password is X`, `Passwort lautet X`
_AFTER_CUE = re.compile(
    r"(?i)(?<![\w])"
    + _PASSWORD_WORD
    + r"(?:\s+(?:for|of|für|de|del|da|van|voor)\s+\S{1,40})?\s*"
    + _VERB
    + r"\s*[\"'`]?(?P<value>[^\s\"'`]{6,64})",
)
# `gate code pw Hx7#qLm2`: a short password word right before the value, with no verb or mark between them
_SHORT_CUE = re.compile(r"(?i)(?<![\w-])(?:pw|pwd|passwd)[ \t]+[\"'`]?(?P<value>[^\s\"'`]{6,64})")
# `login for this account is svc_portal / Kx9mW2qTr4v`: a user and a password given as a pair
_LOGIN_PAIR = re.compile(
    r"(?i)\b(?:login|log-in|logon|credentials|creds|username\s*/\s*password|user\s*/\s*pass(?:word)?)\b"
    r"[^\n]{0,60}?(?<![\w.@-])[\w.@+-]{2,64}[ \t]*[/|][ \t]*[\"'`]?(?P<value>[^\s\"'`]{6,64})"
)
# What a password is reset for: an account, a login, credentials (in the eight languages).
_ACCOUNT_WORD = r"(?:account|login|log-in|credentials|konto|zugang|compte|cuenta|conta|acesso|accesso|inloggen)"
# `reset to X`, `changed to X`, `set to X` within 80 characters after a password or account word
_RESET_TO = re.compile(
    r"(?i)(?:"
    + _PASSWORD_WORD
    + "|"
    + _ACCOUNT_WORD
    + r")[^\n]{0,80}?\b(?:reset|changed|set|updated|zurückgesetzt|geändert|réinitialisé"
    r"|changé|restablecida|cambiada|reimpostata|cambiata|redefinida|alterada|gewijzigd|gereset)"
    r"\s+(?:to|auf|à|a|en|para|naar|in)\s+[\"'`]?(?P<value>[^\s\"'`]{6,64})"
)
_RESET_CUES = (
    "account",
    "login",
    "log-in",
    "credentials",
    "konto",
    "zugang",
    "compte",
    "cuenta",
    "conta",
    "acess",
    "accesso",
    "inloggen",
)
_CODE_SPAN = re.compile(r"`(?P<value>[^`\s]{6,64})`")
_PASSWORD_NEAR = re.compile(r"(?i)" + _PASSWORD_WORD)
_TRAILING = ".,;:!?)]}"


def password_like(value: str) -> bool:
    """A digit or a symbol among letters, or an inner capital (`Summer2024!`, `gaY6O#rujC)2`, `hunter2x`)."""
    if len(value) < 6 or value.startswith(("http://", "https://", "<")):
        return False
    if "@" in value[1:-1] and "." in value.rsplit("@", 1)[1]:
        return False  # an e-mail address (found as one)
    has_letter = any(c.isalpha() for c in value)
    has_digit = any(c.isdigit() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    inner_capital = any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)
    if not has_letter:
        return has_digit and len(value) >= 8 and has_symbol  # `1234-5678` is not, `12#45!78` is
    return has_digit or has_symbol or inner_capital


def _trim(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    return end


class ProsePasswordRecognizer(SecretRecognizer):
    """Passwords after a cue phrase or in a code span of a sentence about a password."""

    def __init__(self) -> None:
        super().__init__(name="SecretRecognizer:password_in_prose")

    def find(self, text: str) -> Iterator[Finding]:
        lowered = text.lower()
        if not any(
            w in lowered
            for w in (
                "pass",
                "kennwort",
                "contrase",
                "clave",
                "senha",
                "wachtwoord",
                "pw",
                "pin",
                "log",
                "cred",
                *_RESET_CUES,
            )
        ):
            return
        for pattern in (_AFTER_CUE, _RESET_TO, _SHORT_CUE, _LOGIN_PAIR):
            for m in pattern.finditer(text):
                start, end = m.span("value")
                end = _trim(text, start, end)
                if password_like(text[start:end]):
                    yield Finding(start, end, KEYWORD_SCORE, "password")
        for m in _CODE_SPAN.finditer(text):
            start, end = m.span("value")
            window = text[max(0, start - 100) : end + 100]
            if password_like(text[start:end]) and _PASSWORD_NEAR.search(window):
                yield Finding(start, end, KEYWORD_SCORE, "password")


def recognizers() -> list[EntityRecognizer]:
    return [ProsePasswordRecognizer()]
