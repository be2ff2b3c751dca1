"""The English words of a spaCy pipeline, read from its lemmatizer's tables on disk.

The ledger's SQL and the column classifier need them on structured data, and NER's preparation of free
text needs them too (`ner.py`); reading the file takes 0.2 s, loading the pipeline seconds. This module
imports neither spaCy nor Presidio.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import cache
from pathlib import Path

from mcp_server.masking.findings import resolve_model_name

LEMMA_TABLES = ("lemma_index", "lemma_exc")
_lock = threading.Lock()


def lemma_words(model: str) -> frozenset[str] | None:
    """The words of an installed pipeline's lemmatizer tables (`Detector.english_words`), read from the file
    the lemmatizer would load them from, without loading the pipeline (0.2 s instead of seconds); None when
    the pipeline keeps no such file. Read once per process: a second caller waits for the first."""
    with _lock:
        return _read_lemma_words(model)


@cache
def _read_lemma_words(model: str) -> frozenset[str] | None:
    name = resolve_model_name(model)
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
            import srsly  # spaCy's serialisation library: light, unlike spaCy

            tables = srsly.msgpack_loads(path.read_bytes())
            words: set[str] = set()
            for table in LEMMA_TABLES:
                for entries in tables.get(table, {}).values():
                    words.update(str(w).lower() for w in entries)
            return frozenset(words)
    return None
