"""Personal values written so that detectors would not read them: other Unicode forms, and base64 or hex.

The detector reads a normalised copy of each text (`normalise`): compatibility forms folded (NFKC: full-width
`１２３-４５-６７８９`, superscripts, ligatures, no-break spaces), decimal digits of every script written as ASCII
digits (`٣`, `३`), hyphens, dashes and minus signs as `-`, format characters removed (zero-width spaces and
joiners, soft hyphens, bidirectional marks), line breaks inside a value removed (after `-`, `@`, `.`), and
characters written one by one with spaces between read joined (`5 5 5 - 3 1 - …`). Each character of the copy
remembers the character of the text it came from, so findings are mapped back to the original offsets
(`Normalised.span`) and the value is masked there whole, hidden characters included.

Runs that look encoded (`encoded_runs`: base64, hex, percent, HTML or backslash escapes, and string literals joined
into one, `"AKIAIOSFOD" + "NN7EXAMPLE"`) are decoded; a run whose decoded text is printable is analysed too, and
masked whole when that text holds a personal value or a known value. Every pattern here repeats character classes
possessively, with nothing two ways to match: linear in the text's length.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

# Every format character (Unicode category Cf): invisible, and no part of any value. They sit in these blocks
# (looking only there keeps the import fast; tests/masking/test_free_text_classes.py checks that none is missed).
FORMAT_BLOCKS: tuple[tuple[int, int], ...] = (
    (0x80, 0x2100),
    (0xFE00, 0x10000),
    (0x11000, 0x11100),
    (0x13430, 0x13460),
    (0x1BCA0, 0x1BCB0),
    (0x1D170, 0x1D180),
    (0xE0000, 0xE0080),
)
_FORMAT_CHARS = "".join(chr(c) for a, b in FORMAT_BLOCKS for c in range(a, b) if unicodedata.category(chr(c)) == "Cf")
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


_DASHES = frozenset(chr(c) for c in range(0x2010, 0x2016)) | {"\u2212", "\ufe58", "\ufe63", "\uff0d"}
"""Hyphens, dashes and minus signs that stand for `-` in a number or a date (`555‐31‐4592`, `555–31–4592`)."""
_JOIN = re.compile(r"(?<=[-@._/])\r?\n[ \t]*+(?=[A-Za-z0-9])")
"""A line break inside a value: after `-`, `@`, `.`, `_` or `/` and before a letter or digit (`555-31-⏎4592`,
`quentin.vandermolen@⏎zyxmail.com`, `well-⏎known`)."""
_KEY_PREFIX = re.compile(
    r"(?<![\w-])(?:(gh[pousr]_)|(github_pat_)|([sr]k_(?:live|test|prod)_)|(xox[abeoprs]-)|(glpat-)"
    r"|(A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA))"
)
"""The prefix a service puts before its keys; each group's key body has at least `_KEY_BODY` characters."""
_KEY_BODY = (36, 82, 24, 40, 20, 16)
"""Characters after the prefix of a whole key, per group of `_KEY_PREFIX` (GitHub 36, fine-grained 82, Stripe 24,
Slack about 50, GitLab 20, AWS key ids 16): a shorter body that a line break or a space cuts goes on after it."""
_KEY_RUN = re.compile(r"[A-Za-z0-9_\-]++")
_KEY_GAP = re.compile(r"\r?\n[ \t]*+|[ \t](?=[A-Za-z0-9])")


def _cut_keys(text: str, gone: set[int]) -> None:
    """Line breaks and spaces inside a key that starts with its service's prefix, while what comes before them is
    shorter than such a key (`ghp_H6rT9xQ2…⏎bW3cY5dF…`, `AKIA IOSF ODNN 7EXA MPLE`): read joined. A key already
    whole ends where it ends (`ghp_…36⏎mode: fast` stays two lines)."""
    for prefix in _KEY_PREFIX.finditer(text):
        need = _KEY_BODY[(prefix.lastindex or 1) - 1]
        run = _KEY_RUN.match(text, prefix.end())
        if run is None or len(run.group()) < 4:
            continue
        body, end = len(run.group()), run.end()
        while body < need:
            gap = _KEY_GAP.match(text, end)
            more = _KEY_RUN.match(text, gap.end()) if gap is not None else None
            if gap is None or more is None or len(more.group()) < (2 if "\n" in gap.group() else 3):
                break
            gone.update(range(gap.start(), gap.end()))
            body, end = body + len(more.group()), more.end()


_SPACED = re.compile(r"(?<!\S)(?:[^\W\d_]\.(?= )|\S(?= ))(?: \S(?![^\s.,;:!?)\]]))++")
"""Characters written one by one with a space between (`5 5 5 - 3 1 - 4 5 9 2`), the first maybe an initial
(`E. t x e b e r r i a`), the last maybe followed by punctuation (`… 3 6 4.`); read joined when seven or more."""
_SEPARATED = re.compile(r"(?<![^\s(\"'])[^\W_]([._*/-]) ?+[^\W_](?:\1 ?+[^\W_])++(?![^\W_])")
"""Letters or digits written one by one with the same mark between (`E.t.x.e.b.e.r.r.i.a`, `z-e-b-u-l-o-n`,
`5*5*5*3*1*4*5*9*2`); read joined when seven or more."""
MIN_SPACED = 7


_BRACKETED_MARK = re.compile(r"(?i) ?[\[({<] ?(@|at|\.|dot) ?[\])}>] ?")
"""`@` and `.` of an address written in brackets (`ann [at] example [dot] com`, `ann(@)example(.)com`)."""


def _bracketed_marks(text: str, gone: set[int], replaced: dict[int, str]) -> None:
    for match in _BRACKETED_MARK.finditer(text):
        mark = "@" if match.group(1).lower() in ("@", "at") else "."
        gone.update(range(match.start(), match.end()))
        gone.discard(match.start(1))
        replaced[match.start(1)] = mark


def _hidden_breaks(text: str) -> tuple[set[int], set[int]]:
    """Indexes of the characters the detector does not read (line breaks inside values, spaces and marks between
    letters written one by one), and of those it reads in upper case: the first letter of a word written one
    letter at a time, which may be a name spelled out (`e t x e b e r r i a` is read `Etxeberria`)."""
    gone: set[int] = set()
    upper: set[int] = set()
    if "\n" in text:
        for match in _JOIN.finditer(text):
            gone.update(range(match.start(), match.end()))
    if _KEY_PREFIX.search(text):
        _cut_keys(text, gone)
    if " " in text:
        for match in _SPACED.finditer(text):
            _join(
                match, match.group(0).replace(".", " ", 1) if match.group(0)[1] == "." else match.group(0), gone, upper
            )
    if any(mark in text for mark in "._*/-"):
        for match in _SEPARATED.finditer(text):
            _join(match, re.sub(r"[^\w]|_", " ", match.group(0)), gone, upper)
    return gone, upper


def _join(match: re.Match[str], spaced: str, gone: set[int], upper: set[int]) -> None:
    """Mark the characters of `match` that `spaced` (the match with every separator a space) has as spaces; a
    space before a capital that follows a small letter stays, as the gap between two words
    (`O t t o l i n e B r z e …` reads `Ottoline Brze…`)."""
    separators = [i for i, ch in enumerate(spaced) if ch == " "]
    if len(spaced) - len(separators) < MIN_SPACED:
        return
    kept = {i for i in separators if 0 < i < len(spaced) - 1 and spaced[i + 1].isupper() and spaced[i - 1].islower()}
    gone.update(match.start() + i for i in separators if i not in kept)
    if spaced.replace(" ", "").isalpha():
        upper.add(match.start())


def normalise(text: str) -> Normalised:
    """`text` as the detector reads it (see the module docstring); text with nothing to fold is returned as it is."""
    gone, upper = _hidden_breaks(text)
    replaced: dict[int, str] = {}
    if "[" in text or "(" in text or "{" in text or "<" in text:
        _bracketed_marks(text, gone, replaced)
    if (
        not gone
        and not upper
        and (
            text.isascii()
            or (
                unicodedata.is_normalized("NFKC", text)
                and not _FORMAT.search(text)
                and not _NON_ASCII_DIGIT.search(text)
                and not any(ch in _DASHES for ch in text)
            )
        )
    ):
        return Normalised(text)
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if i in gone:
            continue
        if i in replaced:
            out.append(replaced[i])
            origin.append(i)
            continue
        if i in upper and len(ch.upper()) == 1:
            ch = ch.upper()
        if ch.isascii():
            out.append(ch)
            origin.append(i)
            continue
        if unicodedata.category(ch) == "Cf":
            continue
        folded = "-" if ch in _DASHES else unicodedata.normalize("NFKC", ch)
        folded = "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in folded)
        out.append(folded)
        origin.extend([i] * len(folded))
    return Normalised("".join(out), origin)


# Base64 (standard or URL-safe alphabet, optional padding) and hex runs, as whole words of at least 12 characters;
# hex bytes apart (`31 32 33`, `31:32:33`); chunks with percent escapes (`john%40example.com`), HTML character
# references (`&#64;`, `&commat;`) or backslash escapes (`\x31`, `\u0031`).
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{12,}+={0,2}+(?![A-Za-z0-9+/_=-])")
_HEX = re.compile(r"(?<![A-Za-z0-9])(?:[0-9A-Fa-f]{2}){6,}+(?![A-Za-z0-9])")
_HEX_APART = re.compile(
    r"(?<![A-Za-z0-9:])[0-9A-Fa-f]{2}(?:([ :])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4,}+(?![A-Za-z0-9:])"
)
_PERCENT = re.compile(r"(?<![^\s%])[^\s%]*+(?:%[0-9A-Fa-f]{2}[^\s%]*+)+")
_HTML = re.compile(r"(?<![^\s&])[^\s&]*+(?:&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]{2,10});[^\s&]*+)+")
_ESCAPED = re.compile(r"(?<![^\s\\])[^\s\\]*+(?:\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4})[^\s\\]*+)+")
_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4}))")
# String literals joined into one (`"AKIAIOSFOD" + "NN7EXAMPLE"`, `'4111' || '1111…'`, `concat('ann', '@…')`,
# adjacent literals on one line or across lines): the pieces of a value split so that no piece looks like it.
_QUOTED = r"""(?:"[^"\\\n]{1,512}+"|'[^'\\\n]{1,512}+'|`[^`\\\n]{1,512}+`)"""
_JOINED_LITERALS = re.compile(
    rf"{_QUOTED}(?:[ \t]*+(?:\r?\n[ \t]*+)?(?:\+|\|\||\.\.?|&|,|~)?[ \t]*+(?:\r?\n[ \t]*+)?{_QUOTED})++"
)
_LITERAL_BODY = re.compile(r"""(["'`])([^"'`\\\n]*+(?:(?!\1)["'`][^"'`\\\n]*+)*+)\1""")
MAX_RUN = 4096  # longer runs are binary blobs or keys, not an encoded value
MIN_DECODED = 5
MAX_DEPTH = 3  # an encoding of an encoding of an encoding


@dataclass(frozen=True)
class EncodedRun:
    start: int
    end: int
    decoded: str


def encoded_runs(text: str, depth: int = MAX_DEPTH) -> list[EncodedRun]:
    """Runs of `text` that decode (base64, hex, percent, HTML or backslash escapes) to printable text of five
    characters or more; runs inside the decoded text are decoded in turn, down to `depth` levels."""
    runs: list[EncodedRun] = []
    if depth <= 0:
        return runs
    for pattern, decode in _DECODERS:
        if (pattern is _PERCENT and "%" not in text) or (pattern is _HTML and "&" not in text):
            continue
        if pattern is _ESCAPED and "\\" not in text:
            continue
        if pattern is _JOINED_LITERALS and not ('"' in text or "'" in text or "`" in text):
            continue
        if pattern is _LEET and (depth < MAX_DEPTH or not _LEET_DIGIT.search(text)):
            continue  # a reading, not a decoding: text decoded from another form keeps its digits
        for match in pattern.finditer(text):
            run = match.group(0)
            if len(run) > MAX_RUN or any(r.start < match.end() and match.start() < r.end for r in runs):
                continue
            decoded = decode(run)
            if decoded is not None and decoded != run:
                runs.append(EncodedRun(match.start(), match.end(), _expanded(decoded, depth - 1)))
    return runs


def _expanded(decoded: str, depth: int) -> str:
    """`decoded` with the encoded runs inside it replaced by what they decode to."""
    inner = encoded_runs(decoded, depth)
    for run in sorted(inner, key=lambda r: r.start, reverse=True):
        decoded = decoded[: run.start] + run.decoded + decoded[run.end :]
    return decoded


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


def _decode_hex_apart(run: str) -> str | None:
    return _decode_hex(re.sub(r"[ :]", "", run))


def _decode_percent(run: str) -> str | None:
    return _printable(urllib.parse.unquote_to_bytes(run))


def _decode_html(run: str) -> str | None:
    return _printable(html.unescape(run).encode("utf-8"))


def _decode_escaped(run: str) -> str | None:
    return _printable(_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), run).encode("utf-8", "replace"))


# A word of letters with digits standing for letters (`3tx3b3rr14`, `Z3BUL0N`, `p4ssw0rd`): at least two letters,
# a digit that is not last, and no digit that stands for no letter (2, 6, 9: `h264`, `covid19`, `x86` stay).
_LEET = re.compile(
    r"(?<![\w@$])(?=[A-Za-z]*[013457][A-Za-z013457]*[A-Za-z])(?=[013457]*[A-Za-z][013457]*[A-Za-z])[A-Za-z013457]{5,64}+(?![\w@$])"
)
_LEET_DIGIT = re.compile(r"[A-Za-z][013457]|[013457][A-Za-z]")
_LEET_LETTERS = str.maketrans("013457", "oieast")


def _decode_leet(run: str) -> str | None:
    """The word with its digits read as letters, capitalised like a name (`3tx3b3rr14` -> `Etxeberria`)."""
    return run.translate(_LEET_LETTERS).capitalize()


_DIGIT_WORDS = {
    **{
        w: str(i)
        for i, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"))
    },
    "oh": "0",
}
_DIGIT_WORD = "(?:" + "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True)) + ")"
_SPELLED_DIGITS = re.compile(rf"(?i)(?<![\w-]){_DIGIT_WORD}(?:[ ,-]{{1,3}}+{_DIGIT_WORD}){{6,}}+(?![\w-])")
"""Seven or more digits written as words (`four one five eight six seven…`, `two-eight-eight four-five …`)."""


def _decode_spelled(run: str) -> str | None:
    """The digits, a hyphen between words joining them and a space or comma keeping them apart
    (`two-eight-eight four-five` -> `288 45`)."""
    out = []
    for piece in re.split(r"([ ,-]+)", run):
        word = _DIGIT_WORDS.get(piece.lower())
        out.append(word if word is not None else ("" if piece.strip() == "-" else " "))
    return " ".join("".join(out).split())


def _decode_joined(run: str) -> str | None:
    """The literals' contents joined, each with its own encoded runs decoded first: a run inside one literal
    (`'MTIzLTQ1LTY3ODk=' || 'x'`) overlaps this one, so it is read here, before the join hides where it ends."""
    bodies = [_expanded(body, MAX_DEPTH - 1) for _, body in _LITERAL_BODY.findall(run)]
    return _printable("".join(bodies).encode("utf-8"))


_DECODERS = (  # in this order: a run overlapping one found before is left to it
    (_JOINED_LITERALS, _decode_joined),
    (_HEX, _decode_hex),
    (_HEX_APART, _decode_hex_apart),
    (_BASE64, _decode_base64),
    (_PERCENT, _decode_percent),
    (_HTML, _decode_html),
    (_ESCAPED, _decode_escaped),
    (_LEET, _decode_leet),
    (_SPELLED_DIGITS, _decode_spelled),
)
