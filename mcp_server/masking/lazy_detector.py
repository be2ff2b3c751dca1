"""The detector as the server holds it: the shared `Detector`, loaded on first use.

Loading the NLP pipeline takes seconds and imports spaCy and Presidio; this module imports neither, so
`serve`, `check` and `init` start without them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mcp_server.masking.english_words import lemma_words
from mcp_server.masking.findings import Finding
from mcp_server.progress import step

if TYPE_CHECKING:
    from mcp_server.masking.detector import Detector
    from mcp_server.masking.known_values import KnownValuesRecognizer


class LazyDetector:
    """A shared `Detector` loaded on first use, so `serve` answers before the NLP pipeline is in memory.

    Only free text needs it: a scanned column, a document, a column decided by its sampled values. Known
    personal values (what free text is scanned with) are kept until it loads. When a source has free text,
    the server's warm-up thread loads it once the first call has run; a call that needs it earlier, or on a
    source without, loads it (and waits for it).
    `check` and `init` use it too, so they classify exactly as the server does.
    """

    def __init__(
        self,
        model: str,
        language: str = "en",
        score_threshold: float = 0.5,
        *,
        names_model: str | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self._settings = (model, language, score_threshold)
        self._cache_dir = cache_dir  # where a copy of the English words is kept (`english_words.py`)
        self._names_model = names_model
        self._detector: Detector | None = None
        self._lock = threading.Lock()
        self._known: list[tuple[str, list[str]]] = []  # known values added before the load
        self._english: frozenset[str] | None = None

    def loaded(self) -> Detector:
        with self._lock:  # a second first use waits for the load under way
            if self._detector is None:
                from mcp_server.masking.detector import shared_detector

                with step("loading the NLP pipeline (spaCy and Presidio)", after=0.5):
                    detector = shared_detector(*self._settings, names_model=self._names_model)
                for entity, values in self._known:
                    detector.known_values.add(entity, values)
                self._known.clear()
                self._detector = detector
            return self._detector

    @property
    def is_loaded(self) -> bool:
        return self._detector is not None

    @property
    def known_values(self) -> KnownValuesRecognizer:
        return self.loaded().known_values

    def add_known_values(self, entity: str, values: list[str]) -> None:
        """Remember values of one entity type for free text, without loading the pipeline for them."""
        with self._lock:
            if self._detector is None:
                self._known.append((entity, values))
                return
        self._detector.known_values.add(entity, values)

    def analyze(self, text: str, context: Sequence[str] = (), *, known: bool = True) -> list[Finding]:
        return self.loaded().analyze(text, context, known=known)

    def analyze_batch(
        self, texts: Sequence[str], context: Sequence[str] = (), *, known: bool = True
    ) -> list[list[Finding]]:
        return self.loaded().analyze_batch(texts, context, known=known)

    def english_words(self) -> frozenset[str]:
        """The pipeline's English words (`Detector.english_words`), read from its lemmatizer tables on disk
        when it is not loaded: the ledger's SQL and the column classifier need them on structured data too."""
        if self._detector is None and self._english is None:
            self._english = lemma_words(self._settings[0], self._cache_dir)
        if self._english is not None:
            return self._english
        return self.loaded().english_words()

    def start_ner_workers(self, workers: int) -> None:
        self.loaded().start_ner_workers(workers)

    def stop_ner_workers(self) -> None:
        if self._detector is not None:
            self._detector.stop_ner_workers()

    def wait_for_ner_workers(self, timeout: float = 120.0) -> bool:
        return self._detector is not None and self._detector.wait_for_ner_workers(timeout)
