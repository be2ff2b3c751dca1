"""Structured key material: JWTs, PEM / OpenSSH / PGP private key blocks, PuTTY and age keys.

For PEM blocks the span is the key body between the BEGIN and END lines: the armour lines stay readable
so a reader still sees that a private key was there, and the key material itself is masked. A BEGIN
line without an END (a truncated document) still masks the base64 that follows it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator

from presidio_analyzer import EntityRecognizer

from ._base import LB, PREFIXED_SCORE, RB, Finding, SecretRecognizer, SecretRule, rule_recognizers

_B64URL = r"[A-Za-z0-9_\-]"


def _b64url_json(segment: str) -> object:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


def jwt_valid(token: str) -> bool:
    """A JWS (3 segments) or JWE (5 segments) whose header decodes to a JSON object with "alg"."""
    segments = token.split(".")
    if len(segments) not in (3, 5):
        return False
    header = _b64url_json(segments[0])
    if not isinstance(header, dict) or "alg" not in header:
        return False
    if len(segments) == 3:
        # Unsigned tokens ("alg": "none") legitimately have an empty signature.
        return bool(segments[1]) and (bool(segments[2]) or str(header["alg"]).lower() == "none")
    return True


RULES: list[SecretRule] = [
    # A JSON header starts '{"' or '{ ' / '{\n', i.e. base64 "ey" or "ew". A sentence-final period is
    # allowed after the token, a period followed by more token characters is not.
    SecretRule(
        "jwt",
        LB
        + rf"e[wy]{_B64URL}{{8,}}\.{_B64URL}*\.{_B64URL}*(?:\.{_B64URL}+\.{_B64URL}+)?"
        + rf"(?!{_B64URL}|\.{_B64URL})",
        validate=jwt_valid,
    ),
    SecretRule("age_secret_key", LB + r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}" + RB),
    SecretRule(
        "putty_private_key",
        r"Private-Lines: *\d+\r?\n(?P<secret>[A-Za-z0-9+/=]{16,}(?:\r?\n[A-Za-z0-9+/=]{16,})*)",
    ),
]


def _strip_padding(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past whitespace and JSON-escaped newlines ("\\n", "\\r") on both sides."""
    while start < end:
        if text[start].isspace():
            start += 1
        elif text.startswith(("\\n", "\\r"), start, end):
            start += 2
        else:
            break
    while end > start:
        if text[end - 1].isspace():
            end -= 1
        elif end - start >= 2 and text[end - 2 : end] in ("\\n", "\\r"):
            end -= 2
        else:
            break
    return start, end


class PemPrivateKeyRecognizer(SecretRecognizer):
    """Bodies of ``-----BEGIN [RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP] PRIVATE KEY[ BLOCK]-----`` blocks."""

    KIND = "private_key"
    TRUNCATED_SCORE = 0.9
    _BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----")
    # Without an END line, take base64 lines only (blocks may arrive JSON-escaped, "\n" as 2 characters).
    _TRUNCATED_BODY = re.compile(r"(?:(?:\s|\\[nr])*[A-Za-z0-9+/=]{16,})+")
    _MAX_BODY = 64_000
    _MIN_KEY_CHARS = 32

    def __init__(self) -> None:
        super().__init__(name=f"SecretRecognizer:{self.KIND}")

    def find(self, text: str) -> Iterator[Finding]:
        """Yield the body span of each private-key block."""
        # Next END marker per label at or after a position; None = no END after that position.
        next_end: dict[str, tuple[int, re.Match[str] | None]] = {}
        pos = 0
        while (begin := self._BEGIN.search(text, pos)) is not None:
            label = begin.group(1) + "PRIVATE KEY" + (begin.group(2) or "")
            cached = next_end.get(label)
            if cached is None or (cached[1] is not None and cached[1].start() < begin.end()):
                end_marker = re.compile(r"-----END " + re.escape(label) + "-----")
                cached = (begin.end(), end_marker.search(text, begin.end()))
                next_end[label] = cached
            end = cached[1]
            if end is not None and end.start() - begin.end() <= self._MAX_BODY:
                body, score, pos = (begin.end(), end.start()), PREFIXED_SCORE, end.end()
            else:
                run = self._TRUNCATED_BODY.match(text, begin.end(), begin.end() + self._MAX_BODY)
                body, score = (begin.end(), run.end() if run else begin.end()), self.TRUNCATED_SCORE
                pos = max(body[1], begin.end())
            start, stop = _strip_padding(text, *body)
            if sum(ch.isalnum() or ch in "+/" for ch in text[start:stop]) >= self._MIN_KEY_CHARS:
                yield Finding(start, stop, score, self.KIND)


def recognizers() -> list[EntityRecognizer]:
    """Key-material recognizers."""
    return [*rule_recognizers(RULES), PemPrivateKeyRecognizer()]
