"""The English words of a spaCy pipeline, read from its lemmatizer's tables on disk.

The ledger's SQL and the column classifier need them on structured data, and NER's preparation of free
text needs them too (`ner.py`). Reading the tables takes 0.2 s (msgpack, through srsly and numpy), loading
the pipeline seconds; a server keeps a plain copy of the words in its state folder, read in milliseconds at
its next start. This module imports neither spaCy nor Presidio.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import threading
from pathlib import Path

from mcp_server.masking.findings import resolve_model_name

LEMMA_TABLES = ("lemma_index", "lemma_exc")
NAME_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
"""The parts of a name, split at `_`, `-`, spaces and case changes (`total_revenue`, `avgAmount`, `claude-ai`)."""
_lock = threading.Lock()
_read: dict[str, frozenset[str] | None] = {}  # per pipeline, once per process


def lemma_words(model: str, cache_dir: Path | None = None) -> frozenset[str] | None:
    """The words of an installed pipeline's lemmatizer tables (`Detector.english_words`), read from the file
    the lemmatizer would load them from, without loading the pipeline; None when the pipeline keeps no such
    file. Read once per process (a second caller waits for the first), from the copy in `cache_dir` when
    there is one for this very file."""
    name = resolve_model_name(model)
    with _lock:
        if name not in _read:
            tables = _lookups_file(name)
            _read[name] = _words(tables, cache_dir) if tables is not None else None
        return _read[name]


def _lookups_file(name: str) -> Path | None:
    if Path(name).exists():
        folders = [Path(name)]
    else:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            return None
        package = Path(spec.origin).parent
        folders = [package, *sorted(p for p in package.iterdir() if p.is_dir())]
    for folder in folders:
        path = folder / "lemmatizer" / "lookups" / "lookups.bin"
        if path.is_file():
            return path
    return None


def _words(tables: Path, cache_dir: Path | None) -> frozenset[str]:
    copy = None
    if cache_dir is not None:  # named after the tables' path, size and time: another file, another copy
        stat = tables.stat()
        key = hashlib.sha256(f"{tables.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()
        copy = cache_dir / f"english-words-{key[:16]}.txt"
        try:
            return frozenset(copy.read_text(encoding="utf-8").split("\n"))
        except OSError:  # not written yet
            pass
    import srsly  # spaCy's serialisation library, lighter than spaCy

    found = srsly.msgpack_loads(tables.read_bytes())
    words = frozenset(
        str(w).lower() for table in LEMMA_TABLES for entries in found.get(table, {}).values() for w in entries
    )
    if copy is not None and words and not any("\n" in w for w in words):
        try:  # written whole under another name, then renamed: a reader never sees half of it
            partial = copy.with_name(f"{copy.name}.{os.getpid()}.tmp")
            partial.write_text("\n".join(sorted(words)), encoding="utf-8")
            partial.replace(copy)
        except OSError:  # a read-only state folder: read the tables again next time
            pass
    return words


_common: dict[tuple[str, tuple[str, ...]], frozenset[str]] = {}


def common_words(model: str, pos: tuple[str, ...] = ("verb", "adj", "adv")) -> frozenset[str]:
    """The words of the lemmatizer's tables of these parts of speech, inflected forms included (`deploy`,
    `quarterly`, `shipped`), read from the same file without the lemmatizer (only NER is loaded; this imports
    spaCy's string hashing, for callers that run NER anyway); empty when there is none."""
    name = resolve_model_name(model)
    with _lock:
        if (name, pos) not in _common:
            tables = _lookups_file(name)
            words: set[str] = set()
            if tables is not None:
                import srsly
                from spacy.strings import get_string_id  # the tables key their parts of speech by string hash

                found = srsly.msgpack_loads(tables.read_bytes())
                for table in LEMMA_TABLES:
                    for part in pos:
                        entries = found.get(table, {}).get(get_string_id(part)) or {}
                        words.update(str(w).lower() for w in entries)
                        if isinstance(entries, dict):  # lemma_exc: inflected form -> lemmas
                            words.update(str(w).lower() for forms in entries.values() for w in forms)
            _common[name, pos] = frozenset(words)
        return _common[name, pos]


def is_english(word: str, english: frozenset[str]) -> bool:
    """An English word or an inflection of one (`shipped`, `refunded`, `pending`, `queries`)."""
    word = word.casefold()
    stems = [word] + [word[: -len(end)] for end in ("ed", "d", "ing", "es", "s") if word.endswith(end)]
    if word.endswith("ies"):
        stems.append(word[:-3] + "y")
    return any(stem in english for stem in stems)


def readable_parts(parts: list[str], english: frozenset[str], also: frozenset[str] = frozenset()) -> bool:
    """Parts a reviewer can read: numbers, pieces of at most two letters, English words, and the words `also`
    lists (in lower case)."""
    return bool(parts) and all(p.isdigit() or len(p) <= 2 or p.lower() in also or is_english(p, english) for p in parts)
