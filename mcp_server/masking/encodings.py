"""Personal values written so that detectors would not read them: other Unicode forms, and base64 or hex.

The detector reads a normalised copy of each text (`normalise`): compatibility forms folded (NFKC: full-width
`１２３-４５-６７８９`, superscripts, ligatures, no-break spaces), decimal digits of every script written as ASCII
digits (`٣`, `३`), and format characters removed (zero-width spaces and joiners, soft hyphens, bidirectional
marks). Each character of the copy remembers the character of the text it came from, so findings are mapped back
to the original offsets (`Normalised.span`) and the value is masked there whole, hidden characters included.

Runs that look like base64 or hex (`encoded_runs`) are decoded; a run whose decoded text is printable is
analysed too, and masked whole when that text holds a personal value or a known value. Every pattern here is a
single character class with possessive repetition: linear in the text's length.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
import unicodedata
from dataclasses import dataclass

# Every format character (Unicode category Cf): invisible, and no part of any value.
_FORMAT_CHARS = "".join(chr(c) for c in range(0x80, sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf")
_FORMAT = re.compile(f"[{re.escape(_FORMAT_CHARS)}]")
_NON_ASCII_DIGIT = re.compile(r"(?![0-9])\d")


@dataclass(frozen=True)
class Normalised:
    """The text the detector reads, and for each of its characters the index of the original one."""

    text: str
    origin: list[int] | None = None  # None: the same text

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of [start, end) of the normalised text."""
        if self.origin is None or start >= end:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1


def normalise(text: str) -> Normalised:
    """`text` as the detector reads it (see the module docstring); ASCII text is returned as it is."""
    if text.isascii() or (
        unicodedata.is_normalized("NFKC", text) and not _FORMAT.search(text) and not _NON_ASCII_DIGIT.search(text)
    ):
        return Normalised(text)
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch.isascii():
            out.append(ch)
            origin.append(i)
            continue
        if unicodedata.category(ch) == "Cf":
            continue
        folded = unicodedata.normalize("NFKC", ch)
        folded = "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in folded)
        out.append(folded)
        origin.extend([i] * len(folded))
    return Normalised("".join(out), origin)


# Base64 (standard or URL-safe alphabet, optional padding) and hex runs, as whole words of at least 12 characters.
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{12,}+={0,2}+(?![A-Za-z0-9+/_=-])")
_HEX = re.compile(r"(?<![A-Za-z0-9])(?:[0-9A-Fa-f]{2}){6,}+(?![A-Za-z0-9])")
MAX_RUN = 4096  # longer runs are binary blobs or keys, not an encoded value
MIN_DECODED = 5


@dataclass(frozen=True)
class EncodedRun:
    start: int
    end: int
    decoded: str


def encoded_runs(text: str) -> list[EncodedRun]:
    """Runs of `text` that decode (base64 or hex) to printable text of five characters or more."""
    runs: list[EncodedRun] = []
    for pattern in (_HEX, _BASE64):
        for match in pattern.finditer(text):
            run = match.group(0)
            if len(run) > MAX_RUN or any(r.start <= match.start() < r.end for r in runs):
                continue
            decoded = _decode_hex(run) if pattern is _HEX else _decode_base64(run)
            if decoded is not None:
                runs.append(EncodedRun(match.start(), match.end(), decoded))
    return runs


def _decode_hex(run: str) -> str | None:
    try:
        return _printable(bytes.fromhex(run))
    except ValueError:
        return None


def _decode_base64(run: str) -> str | None:
    body = run.rstrip("=")
    if len(body) % 4 == 1 or (body.isalpha() and (body.islower() or body.isupper() or body.istitle())):
        return None  # not a base64 length, or a word
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = base64.b64decode(padded, altchars=b"-_" if ("-" in body or "_" in body) else None, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _printable(raw)


def _printable(raw: bytes) -> str | None:
    """The bytes as text when they are UTF-8 made of printable characters and spaces (not random bytes)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text.strip()) < MIN_DECODED or not all(c.isprintable() or c in "\t\n\r" for c in text):
        return None
    return text if any(c.isalnum() for c in text) else None
