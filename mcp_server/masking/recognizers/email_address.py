"""E-mail addresses by a strict regex, with no tldextract (which may fetch the public suffix list online).

Presidio's EmailRecognizer validates with tldextract and scores 0.5; this one scores 0.9 and needs no
network. Local parts and domains may hold letters of any script (internationalised addresses).
Rejected look-alikes: ``logo@2x.png`` (file extensions are not TLDs), URL user info
(``scheme://user@host``, ``scheme://user:pw@host``; ``mailto:`` is still an e-mail), local parts with ``..``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from presidio_analyzer import RecognizerResult

from ._results import TextRecognizer, result

if TYPE_CHECKING:
    pass

EMAIL_ENTITY = "EMAIL_ADDRESS"

_EMAIL = re.compile(
    r"(?<![\w.%+\-])"
    # letters of any script in the local part and the domain (RFC 6531: `josé.garcía@correo.es`, `müller@bücher.de`)
    r"(?P<local>[^\W_](?:[\w.%+\-]{0,62}[\w%+\-])?)"
    r"@"
    r"(?P<domain>(?:[^\W_](?:[^\W_]|-){0,61}\.)+(?P<tld>[^\W\d_]{2,24}))"
    r"(?![\w\-]|\.[A-Za-z0-9])"
)
_NOT_TLDS = frozenset(
    {
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "webp",
        "bmp",
        "ico",
        "css",
        "js",
        "ts",
        "json",
        "html",
        "htm",
        "xml",
        "txt",
        "pdf",
        "py",
        "java",
        "rb",
        "go",
        "rs",
        "php",
        "jsx",
        "tsx",
        "map",
        "lock",
        "yaml",
        "yml",
    }
)


class StrictEmailRecognizer(TextRecognizer):
    """E-mail addresses, offline, score 0.9."""

    SCORE = 0.9

    ENTITIES = (EMAIL_ENTITY,)

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        """Find e-mail addresses in text."""
        results = []
        for match in _EMAIL.finditer(text):
            if ".." in match.group("local") or match.group("tld").lower() in _NOT_TLDS:
                continue
            if self._is_url_userinfo(text, match.start()):
                continue
            results.append(result(self, EMAIL_ENTITY, match.start(), match.end(), self.SCORE))
        return results

    @staticmethod
    def _is_url_userinfo(text: str, start: int) -> bool:
        """True when the match is the user-info part of a URL (scheme://user@host, scheme://u:pw@host)."""
        lo = max(0, start - 300)
        token_start = max(lo, *(text.rfind(ws, lo, start) + 1 for ws in " \n\t\"'<("))
        return "://" in text[token_start:start]


_AT = r"(?:\s*(?:\[at\]|\(at\)|\{at\}|<at>|%40|＠)\s*|\s+at\s+)"
_DOT = r"(?:\s*(?:\[dot\]|\(dot\)|\{dot\})\s*|\s+dot\s+|\.)"
_OBFUSCATED = re.compile(
    rf"(?<![\w.%+\-])(?P<local>[^\W_][\w+\-]{{0,40}}(?:{_DOT}[\w+\-]{{1,40}}){{0,4}})"
    rf"(?P<at>{_AT})"
    rf"(?P<domain>[^\W_][\w\-]{{0,61}}(?:{_DOT}[^\W_][\w\-]{{0,61}}){{0,4}}{_DOT}(?P<tld>[^\W\d_]{{2,24}}))"
    r"(?![\w\-])",
    re.IGNORECASE,
)


class ObfuscatedEmailRecognizer(TextRecognizer):
    """E-mail addresses written to dodge scrapers: `bart.fizz[at]grommet.example`, `bart.fizz%40grommet.example`,
    `o dot vexley at plinth dot example`. With a plain ` at `, the local part must hold a dot, a digit or an
    underscore (`find us at acme.com` is a website, not an address)."""

    SCORE = 0.8
    ENTITIES = (EMAIL_ENTITY,)

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        results = []
        for match in _OBFUSCATED.finditer(text):
            if match.group("tld").lower() in _NOT_TLDS:
                continue
            plain_at = match.group("at").strip().lower() == "at"
            local = match.group("local")
            if plain_at and not re.search(r"[.\d_]|\sdot\s", local, re.IGNORECASE):
                continue
            if "@" in match.group(0):
                continue  # a real address: the strict recognizer's
            results.append(result(self, EMAIL_ENTITY, match.start(), match.end(), self.SCORE))
        return results
