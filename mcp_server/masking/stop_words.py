"""spaCy's English stop words, read without importing spaCy (whose package import takes about half a second).

The column classifier needs the list on every start; the NLP pipeline only when there is free text to scan.
The list is spaCy's own file, executed as a module of its own, so it stays the one the pipeline uses.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def _spacy_english_stop_words() -> frozenset[str]:
    spec = importlib.util.find_spec("spacy")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("spaCy is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "lang" / "en" / "stop_words.py"
    module_spec = importlib.util.spec_from_file_location("_maskwire_spacy_en_stop_words", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot read {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)


STOP_WORDS = _spacy_english_stop_words()
