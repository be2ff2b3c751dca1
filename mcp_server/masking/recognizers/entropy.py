"""High-entropy strings shortly after a credential keyword (key, secret, token, password, credential, auth).

Catches unprefixed secrets the format rules cannot know (``the Cloudflare key is 9fA2...``). A candidate
must be 16+ characters of base64/hex alphabet, contain a letter and a digit, come within 40 characters
after a keyword on the same line, and exceed an entropy threshold for its alphabet. Hex digests
(md5/sha1/git/sha256/sha512 lengths), UUIDs, data: URIs, SSH/PEM public keys, code identifiers and
Stripe publishable keys are skipped, as are lines about public keys, certificates or fingerprints.
"""

from __future__ import annotations

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

_WORDS = r"api[_-]?key|key|secret|token|passw(?:or)?d|pwd|credential|auth(?:orization)?|bearer"
# "apiKey" and "API_KEY" count, "monkey", "keyboard" and "OAuth" do not.
_KEYWORD = re.compile(
    r"(?:(?<![A-Za-z])(?i:" + _WORDS + r")|(?<=[a-z])(?:Key|Secret|Token|Passw(?:or)?d|Pwd|Credential|Auth"
    r"(?:orization)?|Bearer))s?(?![a-z])"
)
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9+/_\-.])[A-Za-z0-9+/_\-]{16,}={0,2}(?![A-Za-z0-9+/=_\-])")
_SEGMENT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_SEPARATED_WORDS = re.compile(r"(?:[A-Za-z]+|\d+)(?:[_\-.](?:[A-Za-z]+|\d+))+")
_PUBLIC_CONTEXT = re.compile(r"(?i:public key|certificate|fingerprint|ssh-(?:rsa|ed25519|dss)|ecdsa-sha2|;base64,)")
_PUBLIC_PREFIXES = ("pk_live_", "pk_test_")


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
            if match.group().startswith("/") or not _KEYWORD.search(text, window_start, start):
                continue  # a leading "/" is a path or URL, not key material
            line_begin = text.rfind("\n", max(0, start - LINE_CONTEXT), start) + 1
            line_end = text.find("\n", end, end + LINE_CONTEXT)
            line = text[max(line_begin, start - LINE_CONTEXT) : end + LINE_CONTEXT if line_end < 0 else line_end]
            if _PUBLIC_CONTEXT.search(line):
                continue
            if is_high_entropy_secret(match.group()):
                yield Finding(start, end, ENTROPY_SCORE, self.KIND)


def recognizers() -> list[EntityRecognizer]:
    """Entropy recognizers."""
    return [EntropySecretRecognizer()]
