"""High-entropy strings shortly after a credential keyword (key, secret, token, password, credential, auth), and
strong ones without it (`is_strong_secret`: 32+ characters of both cases and digits, near the most random).

Catches unprefixed secrets the format rules cannot know (``the Cloudflare key is 9fA2...``). A candidate
must be 16+ characters of base64/hex alphabet, contain a letter and a digit, come within 40 characters
after a keyword on the same line, and exceed an entropy threshold for its alphabet. Hex digests
(md5/sha1/git/sha256/sha512 lengths), UUIDs, data: URIs, SSH/PEM public keys, code identifiers and
Stripe publishable keys are skipped, as are lines about public keys, certificates or fingerprints.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Iterator

from presidio_analyzer import EntityRecognizer

from ._base import ENTROPY_SCORE, Finding, SecretRecognizer
from ._values import is_digest_like, is_hex, is_uuid, shannon_entropy

WINDOW = 40
LINE_CONTEXT = 200  # how far around a candidate to look for "public key", "fingerprint"...
MIN_LENGTH = 16
MAX_LENGTH = 512
HEX_THRESHOLD = 3.0
BASE64_THRESHOLD = 4.0

_WORDS = r"api[_-]?key|key|(?:secret|token|passw(?:or)?d|credential)[a-z]{0,2}|pwd|auth(?:orization)?|bearer"
# "apiKey", "API_KEY" and "secretz" count, "monkey", "keyboard" and "OAuth" do not.
_KEYWORD = re.compile(
    r"(?:(?<![A-Za-z])(?i:" + _WORDS + r")|(?<=[a-z])(?:Key|Secret|Token|Passw(?:or)?d|Pwd|Credential|Auth"
    r"(?:orization)?|Bearer))s?(?![a-z])"
)
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9+/_\-.])[A-Za-z0-9+/_\-]{16,}={0,2}(?![A-Za-z0-9+/=_\-])")
_SEGMENT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_SEPARATED_WORDS = re.compile(r"(?:[A-Za-z]+|\d+)(?:[_\-.](?:[A-Za-z]+|\d+))+")
_PUBLIC_CONTEXT = re.compile(r"(?i:public key|certificate|fingerprint|ssh-(?:rsa|ed25519|dss)|ecdsa-sha2|;base64,)")
_PUBLIC_PREFIXES = ("pk_live_", "pk_test_")
_HASH_CONTEXT = re.compile(r"(?i:hash|digest|checksum|sha\d*|md5|commit|etag|integrity|crc)")
KEYED_HEX_WINDOW = 12


def entropy_threshold(value: str) -> float:
    """Bits/char a random-looking value must reach: lower for hex, scaled down for short strings."""
    if is_hex(value):
        return HEX_THRESHOLD
    return min(BASE64_THRESHOLD, math.log2(len(value)) - 0.7)


def looks_like_identifier(value: str) -> bool:
    """Code names rather than key material: ``Ed25519PrivateKey``, ``base64url_decode``, ``MY_API_KEY_2``.

    Random strings split into short case/digit segments with few vowels; identifiers into long,
    pronounceable ones, or into whole words and numbers joined by ``_``, ``-`` or ``.``.
    """
    if _SEPARATED_WORDS.fullmatch(value):
        return True
    segments = _SEGMENT.findall(value)
    letters = [c for c in value if c.isalpha()]
    if not segments or not letters:
        return False
    mean_segment = sum(map(len, segments)) / len(segments)
    vowel_share = sum(c in "aeiouAEIOU" for c in letters) / len(letters)
    return mean_segment >= 3.5 and vowel_share >= 0.25


_DIGEST_PREFIXES = ("sha1-", "sha256-", "sha384-", "sha512-", "md5-")
"""Subresource-integrity hashes (`sha512-…` in lock files and HTML): digests, not secrets."""
STRONG_LENGTH = 32
STRONG_MARGIN = 0.85
"""Without a keyword, a candidate is a secret when it has 32+ characters, upper and lower case letters and digits,
and an entropy within 0.85 bits/char of the most its length allows (random base64 reaches that 99 times in
100; base64 of text and identifiers do not)."""


def is_strong_secret(value: str) -> bool:
    """Key material that needs no keyword before it (`wJalrXUtnFEMI/K7MDENG/bPxRfiCYQX9vKz3T1q`)."""
    bare = value.rstrip("=")
    if not STRONG_LENGTH <= len(bare) <= MAX_LENGTH or not is_high_entropy_secret(bare):
        return False
    if not (any(c.isupper() for c in bare) and any(c.islower() for c in bare) and any(c.isdigit() for c in bare)):
        return False
    if _decodes_to_text(bare) or bare.lower().startswith(_DIGEST_PREFIXES):
        return False
    return shannon_entropy(bare) >= math.log2(len(bare)) - STRONG_MARGIN


def _decodes_to_text(value: str) -> bool:
    """Base64 of readable text (decoded and scanned as text elsewhere), not key material."""
    try:
        raw = base64.b64decode(
            value + "=" * (-len(value) % 4), altchars=b"-_" if "-" in value or "_" in value else None
        )
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return all(c.isprintable() or c in "\t\n\r" for c in text)


def is_high_entropy_secret(value: str) -> bool:
    """True when value looks like random key material rather than a word, id, hash or identifier."""
    bare = value.rstrip("=")
    if not MIN_LENGTH <= len(bare) <= MAX_LENGTH:
        return False
    if not (any(c.isdigit() for c in bare) and any(c.isalpha() for c in bare)):
        return False
    if is_uuid(bare) or is_digest_like(bare) or bare.startswith(_PUBLIC_PREFIXES) or looks_like_identifier(bare):
        return False
    return shannon_entropy(bare) >= entropy_threshold(bare)


class EntropySecretRecognizer(SecretRecognizer):
    """High-entropy tokens within a short window after a credential keyword."""

    KIND = "high_entropy_string"

    def __init__(self) -> None:
        super().__init__(name=f"SecretRecognizer:{self.KIND}")

    def find(self, text: str) -> Iterator[Finding]:
        """Yield candidates preceded by a keyword on the same line."""
        for match in _CANDIDATE.finditer(text):
            start, end = match.span()
            window_start = max(text.rfind("\n", max(0, start - WINDOW), start) + 1, start - WINDOW, 0)
            if match.group().startswith("/"):
                continue  # a path or URL, not key material
            if not _KEYWORD.search(text, window_start, start) and not is_strong_secret(match.group()):
                continue
            line_begin = text.rfind("\n", max(0, start - LINE_CONTEXT), start) + 1
            line_end = text.find("\n", end, end + LINE_CONTEXT)
            line = text[max(line_begin, start - LINE_CONTEXT) : end + LINE_CONTEXT if line_end < 0 else line_end]
            if _PUBLIC_CONTEXT.search(line):
                continue
            if is_high_entropy_secret(match.group()) or self._keyed_hex(text, match.group(), start, line):
                yield Finding(start, end, ENTROPY_SCORE, self.KIND)

    @staticmethod
    def _keyed_hex(text: str, value: str, start: int, line: str) -> bool:
        """Hex of a digest's length right after a credential keyword (`key 9f8e7d…`, `token: 3a4b…`) and on a line
        that says nothing of hashes: a key (many services issue 32 hex digits), not a checksum."""
        near = _KEYWORD.search(text, max(0, start - KEYED_HEX_WINDOW), start)
        return near is not None and is_hex(value) and is_digest_like(value) and not _HASH_CONTEXT.search(line)


def recognizers() -> list[EntityRecognizer]:
    """Entropy recognizers."""
    return [EntropySecretRecognizer()]
