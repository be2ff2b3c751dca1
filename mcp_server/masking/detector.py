"""Value detection: Presidio with the configured spaCy pipeline plus Maskwire's recognizers.

Built once per process. It never downloads anything: a missing spaCy pipeline is an error that says
how to install one, and tldextract (used by Presidio's email recognizer) runs on its bundled suffix list.

How a batch of texts is analysed (`Detector.analyze_batch`), and why:
- Only the spaCy components named entity recognition needs are loaded (`ner`, and a `tok2vec` or
  `transformer` it may listen to) and run (`ner`, plus the embedding layer when it listens to one): the
  tagger, parser and lemmatizer cost half the time and change nothing the recognizers use (context words
  are compared in lower case instead of as lemmas; the English words come from the lemmatizer's tables on
  disk, `lemma_words`).
- NER reads the text as `ner.py` prepares it (same offsets), and its spans are tidied there. Texts
  without a letter skip NER.
- The recognizers are chosen once, not per text; those that need a digit, an `@` or a `:`/`=` are not
  run on texts without one.
- Presidio's PhoneRecognizer (scores 0.4, under the threshold, and the slowest recognizer) and its
  EmailRecognizer (needs tldextract; StrictEmailRecognizer replaces it) are removed; street addresses,
  international phone numbers, all card lengths (in `recognizers/`) and cue words ("my name is", "Ms.",
  "zip code", in `field_values.py`) have recognizers of their own.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import spacy.util
import tldextract
import tldextract.tldextract
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.tokens import Doc, Span

from mcp_server.masking.encodings import EncodedRun, Normalised, encoded_runs, normalise
from mcp_server.masking.english_words import common_words, lemma_words
from mcp_server.masking.field_values import CueRecognizer, FieldValueRecognizer
from mcp_server.masking.findings import Finding, resolve_model_name
from mcp_server.masking.known_values import KnownValuesRecognizer
from mcp_server.masking.names_model import NamesModel
from mcp_server.masking.ner import (
    BARE_NAME_RECOGNIZERS,
    NER_RECOGNIZERS,
    _for_ner,
    _inflected,
    _tidy,
    names_before_addresses,
    unknown_name_runs,
)
from mcp_server.masking.ner_workers import NerWorkers, Worker
from mcp_server.masking.recognizers import maskwire_recognizers
from mcp_server.masking.recognizers._base import LB as SECRET_LB
from mcp_server.masking.recognizers._base import RegexSecretRecognizer
from mcp_server.masking.recognizers.address_blocks import AddressBlockRecognizer
from mcp_server.masking.recognizers.addresses import CountryRecognizer, StreetAddressRecognizer
from mcp_server.masking.recognizers.birth_dates import BirthDateRecognizer
from mcp_server.masking.recognizers.cards import CardNumberRecognizer
from mcp_server.masking.recognizers.national_ids import (
    ANNOUNCING_WORDS,
    AnnouncedSsnRecognizer,
    national_id_recognizers,
)
from mcp_server.masking.recognizers.phone import InternationalPhoneRecognizer
from mcp_server.vocabulary import (
    DIGIT_ENTITIES,
    FIVE_DIGIT_ENTITIES,
    NATIONAL_ID_TYPES,
    NER_ENTITIES,
    SENSITIVITY,
    TEXT_ENTITIES,
)

log = logging.getLogger(__name__)

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


# Every regex secret rule matches at least 12 characters without a blank (tests/masking/test_detector.py
# checks this), so texts without such a run skip them.
SECRET_MIN_RUN = 12
_LONG_RUN = re.compile(rf"\S{{{SECRET_MIN_RUN}}}")
_DIGITS5 = re.compile(r"\d(?:\D{0,3}\d){4}")
# Presidio recognizers that Maskwire's replace (see the module docstring).
REPLACED_RECOGNIZERS = ("PhoneRecognizer", "EmailRecognizer")
_DIGIT = re.compile(r"\d")
NER_BATCH = 256
WORKER_MIN_TEXTS = 32
"""Batches at least this large share NER with the worker processes. NER takes about 0.5 ms a text and a round trip
to a worker well under 1 ms. A 100-row page of new rows (about 45 texts to analyse) took 56.5 -> 47-48 ms at the p50
with sharing from 32 texts instead of 200, when a core was free; 55-58 -> 61-62 ms with the other core kept busy
(docs/performance.md)."""
_LETTER = re.compile(r"[^\W\d_]")


def _offline_tldextract() -> None:
    # Presidio calls tldextract.extract(), which fetches the public suffix list on first use.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True
    )


def _select(results: Sequence[RecognizerResult], threshold: float) -> list[Finding]:
    """Non-overlapping findings: higher score wins, then the longer span. A lower finding of the same type that
    reaches past the winner widens it (a known `Priya` inside NER's `Priya Nair`: the whole name is masked)."""
    chosen: list[Finding] = []
    ranked = sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start))
    for r in ranked:
        if r.score < threshold:
            continue
        overlapping = [i for i, c in enumerate(chosen) if r.start < c.end and c.start < r.end]
        if overlapping:
            if len(overlapping) == 1 and chosen[overlapping[0]].entity == r.entity_type:
                c = chosen[overlapping[0]]
                start, end = min(c.start, r.start), max(c.end, r.end)
                if not any(start < o.end and o.start < end for o in chosen if o is not c):
                    chosen[overlapping[0]] = replace(c, start=start, end=end)
            continue
        recognizer = (r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY)
        chosen.append(Finding(r.entity_type, r.start, r.end, r.score, recognizer in BARE_NAME_RECOGNIZERS))
    return sorted(chosen, key=lambda f: f.start)


class Detector:
    """Finds personal data and secrets in text."""

    def __init__(
        self, model: str, *, language: str = "en", score_threshold: float = 0.5, names_model: str | None = None
    ) -> None:
        _offline_tldextract()
        # Presidio warns about every recognizer of another language it skips: noise in a server log.
        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        model_name = resolve_model_name(model)
        nlp_engine = SpacyNlpEngine(
            models=[{"lang_code": language, "model_name": model_name}],
            ner_model_configuration=NerModelConfiguration.from_dict({"labels_to_ignore": list(IGNORED_NER_LABELS)}),
        )
        nlp, excluded = load_for_ner(model_name)
        nlp_engine.nlp = {language: nlp}  # type: ignore[assignment]  # instead of `load()`: every component
        registry = RecognizerRegistry(supported_languages=[language])
        registry.load_predefined_recognizers(languages=[language], nlp_engine=nlp_engine)
        for name in REPLACED_RECOGNIZERS:
            registry.remove_recognizer(name)
        # a one-word name found alone must not be a verb, adjective or adverb (`Grace`, `Mark`, `Will`); the noun
        # tables are no test: they list given names too (`john`, `ignatius`)
        self.known_values = KnownValuesRecognizer(english=self.common_words, dictionary=self.english_words)
        extra = [
            *maskwire_recognizers(),
            FieldValueRecognizer(),
            CueRecognizer(),
            StreetAddressRecognizer(),
            AddressBlockRecognizer(),
            InternationalPhoneRecognizer(),
            CardNumberRecognizer(),
            CountryRecognizer(),
            *national_id_recognizers(),
            AnnouncedSsnRecognizer(),
            BirthDateRecognizer(),
            self.known_values,
        ]
        for recognizer in extra:
            registry.add_recognizer(recognizer)
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[language])
        self.language = language
        self.threshold = score_threshold
        self.model_name = model_name
        self._lock = threading.Lock()  # spaCy pipelines are not safe to share across threads

        recognizers = registry.get_recognizers(language=language, entities=list(TEXT_ENTITIES))
        for recognizer in recognizers:
            if not recognizer.is_loaded:
                recognizer.load()
                recognizer.is_loaded = True
        self._by_id = {r.id: r for r in recognizers}
        gates: dict[str, list[EntityRecognizer]] = {}
        for recognizer in recognizers:
            gates.setdefault(_gate(recognizer), []).append(recognizer)
        self._gated = gates
        secret = [r for r in gates.get("secret", []) if isinstance(r, RegexSecretRecognizer)]
        self._secret_gate = _combined([rule.regex for r in secret for rule in r.rules])
        self._entities = list(TEXT_ENTITIES)
        self._nlp = nlp
        self._skip_pipes = _pipes_not_needed_for_ner(nlp)
        self._not_for_ner = [*excluded, *self._skip_pipes]  # what the NER workers leave out when they load
        self._english: frozenset[str] | None = None
        self._common: frozenset[str] | None = None
        self._workers: NerWorkers | None = None
        self.names = NamesModel(names_model) if names_model else None

    def add_known_values(self, entity: str, values: list[str]) -> None:
        self.known_values.add(entity, values)

    def start_ner_workers(self, workers: int) -> None:
        """Let large batches share NER with `workers` other processes (see `ner_workers.py`); they load in
        the background and are used once ready."""
        if workers < 1:
            return
        with self._lock:
            if self._workers is None:
                self._workers = NerWorkers(self.model_name, self._not_for_ner, workers)
            workers_ = self._workers
        workers_.start()

    def stop_ner_workers(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, None
        if workers is not None:
            workers.close()

    def wait_for_ner_workers(self, timeout: float = 120.0) -> bool:
        """Block until the NER workers have loaded the pipeline; False when there are none or they failed."""
        workers = self._workers
        return workers is not None and workers.wait_until_ready(timeout)

    def analyze(self, text: str, context: Sequence[str] = (), *, known: bool = True) -> list[Finding]:
        return self.analyze_batch([text], context, known=known)[0]

    def english_words(self) -> frozenset[str]:
        """English lemmas from the pipeline's lemmatizer tables (WordNet index and exceptions), for the
        column classifier; empty when the pipeline has none."""
        if self._english is None:
            self._english = lemma_words(self.model_name) or frozenset()
        return self._english

    def common_words(self) -> frozenset[str]:
        """English words that are verbs, adjectives or adverbs (with their inflected forms) in the pipeline's
        lemmatizer tables: `deploy`, `quarterly`, `alias`, `shipped`. Nouns are left out, because the noun
        table holds given names too (`john`, `mary`)."""
        if self._common is None:  # read from the tables on disk: the lemmatizer is not loaded (NER only)
            self._common = common_words(self.model_name)
        return self._common

    def _common_word_read_as_name(self, text: str, r: RecognizerResult) -> bool:
        """A name NER found that is made of capitalised common words (`Quarterly`, `Deploy`, `Alias`,
        `Shipped Backlog`) where every word is capitalised: at the start of the text, a line or a sentence.
        Without a capital that says anything, such words are words, unless the data's own people have them
        as names (`Grace`, `Will`)."""
        if r.entity_type != "PERSON" or _recognizer_name(r) not in NER_RECOGNIZERS:
            return False
        words = text[r.start : r.end].split()
        if not all(w.isalpha() and w[:1].isupper() for w in words) or not _at_sentence_start(text, r.start):
            return False
        if _LISTED_WITH_A_NAME.match(text, r.end):  # `Park and Mann were engineers`: names listed together
            return False
        common = self.common_words()
        return all(
            (w.lower() in common or _inflected(w.lower(), common)) and not self.known_values.is_name_word(w)
            for w in words
        )

    def analyze_batch(
        self, texts: Sequence[str], context: Sequence[str] = (), *, known: bool = True
    ) -> list[list[Finding]]:
        """Findings per text; the NLP pipeline runs once over the batch (`nlp.pipe`).

        known=False leaves out the known values of the data: for text the agent composed (a plan echoing its
        literals, an error echoing its names), where masking only what equals a stored value would say which
        guesses are stored values."""
        if not texts:
            return []
        words = [w.lower() for w in context] or None
        normalised = [normalise(str(t)) for t in texts]
        runs = [encoded_runs(str(t)) for t in texts]
        # The decoded runs are analysed in the same batch, after the texts themselves.
        plain = [n.text for n in normalised] + [normalise(run.decoded).text for found in runs for run in found]
        out: list[list[Finding]] = []
        with self._lock:
            names = self.names.find(plain) if self.names is not None else [[] for _ in plain]
            for text, artifacts, extra in zip(plain, self._artifacts(plain), names, strict=True):
                out.append(self._analyze_one(text, artifacts, words, known, extra))
        decoded = iter(out[len(texts) :])
        return [
            _with_encoded_runs(_mapped_back(found, norm), [(run, next(decoded)) for run in found_runs])
            for found, norm, found_runs in zip(out[: len(texts)], normalised, runs, strict=True)
        ]

    # -- internals -------------------------------------------------------------------------------

    def _artifacts(self, texts: list[str]) -> list[NlpArtifacts]:
        """NER over the texts that have a letter (ALL-CAPS words capitalised first); tokens only for the rest.

        Lemmas, token offsets and keywords are filled in later, and only for texts whose results need
        context words (see `_with_context`).
        """
        engine = self.analyzer.nlp_engine
        nlp = self._nlp
        english = self.english_words()
        prepared = [_for_ner(t, english) for t in texts]
        wanted = sorted((i for i, t in enumerate(texts) if _LETTER.search(t)), key=lambda i: len(texts[i]))
        docs: list[Doc | None] = [None] * len(texts)
        local, remote = self._share_out(wanted, prepared)
        piped = nlp.pipe((prepared[i] for i in local), batch_size=NER_BATCH, disable=self._skip_pipes)
        for i, doc in zip(local, piped, strict=True):
            docs[i] = doc
        for share, worker in remote:
            for i, doc in zip(share, self._remote_docs(share, prepared, worker), strict=True):
                docs[i] = doc
        default = engine.ner_model_configuration.default_score  # type: ignore[attr-defined]
        artifacts = []
        for i, piped_doc in enumerate(docs):
            doc = piped_doc if piped_doc is not None else nlp.make_doc(prepared[i])
            ents: list[Span] = list(doc.ents)
            scores = [default] * len(ents)
            if ents:
                ents, scores = engine._get_updated_entities(ents, scores)  # type: ignore[attr-defined]
            artifacts.append(
                NlpArtifacts(
                    entities=ents,
                    tokens=doc,
                    tokens_indices=[],
                    lemmas=[],
                    nlp_engine=engine,
                    language=self.language,
                    scores=scores,
                )
            )
        return artifacts

    def _share_out(
        self, wanted: list[int], prepared: list[str]
    ) -> tuple[list[int], list[tuple[list[int], Worker | None]]]:
        """The texts (by index) NER runs on here, and the shares given to worker processes. Only large
        batches are shared; texts sorted by length are dealt out in turn, so the shares weigh the same."""
        workers = self._workers
        if workers is None or len(wanted) < WORKER_MIN_TEXTS or not workers.ready:
            return wanted, []
        parts = workers.workers + 1
        shares = [wanted[k::parts] for k in range(parts)]
        sent = workers.send([[prepared[i] for i in share] for share in shares[1:]], NER_BATCH)
        return shares[0], list(zip(shares[1:], sent, strict=False))

    def _remote_docs(self, share: list[int], prepared: list[str], worker: Worker | None) -> list[Doc]:
        """Docs for a share a worker ran NER on: this process's tokens, the worker's entities. If the
        worker failed, NER runs here."""
        texts = [prepared[i] for i in share]
        found = self._workers.receive(worker) if self._workers is not None else None
        if found is None or len(found) != len(texts):
            return list(self._nlp.pipe(texts, batch_size=NER_BATCH, disable=self._skip_pipes))
        docs = []
        for text, entities in zip(texts, found, strict=True):
            doc = self._nlp.make_doc(text)
            spans = [doc.char_span(a, b, label=label, alignment_mode="expand") for a, b, label in entities]
            doc.ents = [span for span in spans if span is not None]
            docs.append(doc)
        return docs

    def _with_context(self, artifacts: NlpArtifacts) -> NlpArtifacts:
        """Fill in what context enhancement reads; no lemmatizer ran, so lemmas are lower-case forms."""
        if not artifacts.tokens_indices and len(artifacts.tokens):
            artifacts.tokens_indices = [t.idx for t in artifacts.tokens]
            artifacts.lemmas = [t.lower_ for t in artifacts.tokens]
            artifacts.keywords = artifacts.set_keywords(artifacts.nlp_engine, artifacts.lemmas, self.language)
        return artifacts

    def _analyze_one(
        self,
        text: str,
        artifacts: NlpArtifacts,
        context: list[str] | None,
        known: bool = True,
        extra: Sequence[RecognizerResult] = (),
    ) -> list[Finding]:
        gated = self._gated
        recognizers = list(gated.get("always", ()))
        if _DIGIT.search(text):
            recognizers += gated.get("digit", ())
            if _DIGITS5.search(text):
                recognizers += gated.get("digits5", ())
                if _ANNOUNCED_ID.search(text):
                    recognizers += gated.get("national", ())
        if "@" in text:
            recognizers += gated.get("at", ())
        if ":" in text or "=" in text or "</" in text or "\n" in text:
            recognizers += gated.get("field", ())
        if (
            "secret" in gated
            and _LONG_RUN.search(text)
            and (self._secret_gate is None or self._secret_gate.search(text))
        ):
            recognizers += gated["secret"]
        if not known:
            recognizers = [r for r in recognizers if r is not self.known_values]
        results: list[RecognizerResult] = []
        for recognizer in recognizers:
            found = recognizer.analyze(text=text, entities=self._entities, nlp_artifacts=artifacts)
            if not found:
                continue
            for r in found:
                if not r.recognition_metadata:
                    r.recognition_metadata = {}
                r.recognition_metadata.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, recognizer.id)
                r.recognition_metadata.setdefault(RecognizerResult.RECOGNIZER_NAME_KEY, recognizer.name)
            results.extend(found)
        results.extend(extra)
        if not results:
            return []
        english = self.english_words()
        results = [t for r in results for t in (_tidy(text, r, english) if r.entity_type in NER_ENTITIES else [r])]
        results = [r for r in results if not self._common_word_read_as_name(text, r)]
        results += names_before_addresses(text, results)
        results += unknown_name_runs(text, results, english)
        results = [r for r in results if r.entity_type not in NEEDS_CONTEXT or _announced(text, r)]
        if any(_has_context(r, self._by_id) for r in results):
            results = self.analyzer.context_aware_enhancer.enhance_using_context(
                text=text,
                raw_results=results,
                nlp_artifacts=self._with_context(artifacts),
                recognizers=recognizers,
                context=context,
            )
        results = [r for r in results if r.score >= self.threshold and r.entity_type in TEXT_ENTITIES]
        return _select(EntityRecognizer.remove_duplicates(results), self.threshold)


def _recognizer_name(r: RecognizerResult) -> str | None:
    return (r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY)


_LISTED_WITH_A_NAME = re.compile(r"(?:,|\s+(?:and|&|or))\s+[A-Z][^\W\d_]+")
_LEAD = " \t\"'`(*-•>#[{"


def _at_sentence_start(text: str, start: int) -> bool:
    """Nothing but blanks, bullets or quotes between `start` and the text's start, a line break or the end of a
    sentence (`.`, `!`, `?`, `:`, `;`, `|`)."""
    before = text[max(0, start - 200) : start].rstrip(_LEAD)
    return (not before and start <= 200) or (bool(before) and before[-1] in ".!?:;|\n")


def _mapped_back(findings: list[Finding], normalised: Normalised) -> list[Finding]:
    """Findings in the normalised text, at the offsets of the original text."""
    if normalised.origin is None:
        return findings
    return [replace(f, start=a, end=b) for f in findings for a, b in [normalised.span(f.start, f.end)]]


def _with_encoded_runs(findings: list[Finding], runs: list[tuple[EncodedRun, list[Finding]]]) -> list[Finding]:
    """A base64 or hex run whose decoded text holds a finding is masked whole, as the most sensitive entity
    found in it; a finding overlapping the run is masked with it in one span (a run can lie inside a longer
    value: `K7MDENG` read as leetspeak inside an AWS secret), as the most sensitive of the two."""
    masked = [(run, min((f.entity for f in inner), key=_rank)) for run, inner in runs if inner]
    if not masked:
        return findings
    spans = [*findings, *(Finding(entity, run.start, run.end, ENCODED_SCORE) for run, entity in masked)]
    merged: list[Finding] = []
    for span in sorted(spans, key=lambda f: (f.start, -f.end)):
        last = merged[-1] if merged else None
        if last is not None and span.start < last.end:
            top = min((last.entity, span.entity), key=_rank)
            merged[-1] = Finding(top, last.start, max(last.end, span.end), max(last.score, span.score))
        else:
            merged.append(span)
    return merged


ENCODED_SCORE = 0.9


def _rank(entity: str) -> int:
    return SENSITIVITY.index(entity) if entity in SENSITIVITY else len(SENSITIVITY)


# Checksums that one random number in ten passes: only with a word that announces them.
_ANNOUNCED_ID = re.compile("(?i)" + "|".join(f"(?:{words})" for words in ANNOUNCING_WORDS.values()))
NEEDS_CONTEXT = {
    "UK_NHS": re.compile(r"(?i)\bnhs\b|health|patient|national health"),
    **{entity: re.compile(f"(?i){words}") for entity, words in ANNOUNCING_WORDS.items()},
}


def _announced(text: str, result: RecognizerResult) -> bool:
    return NEEDS_CONTEXT[result.entity_type].search(text, max(0, result.start - 60), result.start) is not None


def _has_context(result: RecognizerResult, by_id: dict[str, EntityRecognizer]) -> bool:
    recognizer = by_id.get((result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, ""))
    return bool(recognizer is not None and recognizer.context)


def _gate(recognizer: EntityRecognizer) -> str:
    """Which texts a recognizer can match, by what its matches always contain:
    "digit" (a digit), "digits5" (five digits close together), "at" (an @), "field" (a `:`, `=`, `</` or a
    line break: a table under its header), "secret" (a match of the combined secret regexes), "national" (five
    digits and a word that announces a national identity number: without one their findings are dropped) or
    "always"."""
    if recognizer.name in ("StrictEmailRecognizer", "EmailRecognizer"):
        return "at"
    if isinstance(recognizer, FieldValueRecognizer):
        return "field"
    if isinstance(recognizer, RegexSecretRecognizer):
        return "secret"
    if isinstance(recognizer, StreetAddressRecognizer | AddressBlockRecognizer):
        return "digit"
    entities = set(recognizer.supported_entities)
    if entities and entities <= set(NATIONAL_ID_TYPES):
        return "national"
    if entities and entities <= FIVE_DIGIT_ENTITIES:
        return "digits5"
    return "digit" if entities and entities <= DIGIT_ENTITIES else "always"


def _combined(patterns: list[str]) -> re.Pattern[str] | None:
    """One regex that matches wherever any of `patterns` does, or None. Named groups and the shared
    left-boundary lookbehind are dropped: that only widens the match, and lets `re` scan ~4x faster."""
    if not patterns:
        return None
    parts = [re.sub(r"[(][?]P<[A-Za-z_][A-Za-z0-9_]*>", "(?:", p.removeprefix(SECRET_LB)) for p in patterns]
    try:
        return re.compile("|".join(f"(?:{p})" for p in parts))
    except re.error:
        return None


# Components kept when the pipeline loads: NER and the embedding layers it may listen to.
NER_COMPONENTS = ("ner", "tok2vec", "transformer")


def load_for_ner(model_name: str) -> tuple[spacy.language.Language, list[str]]:
    """The spaCy pipeline without the components NER does not need (its tagger, parser, lemmatizer...),
    and their names: they would be loaded from disk only to be disabled. A pipeline without `ner` loads
    whole."""
    try:
        path = Path(model_name) if Path(model_name).exists() else spacy.util.get_package_path(model_name)
        components = list(spacy.util.get_model_meta(path).get("components", []))
    except Exception:  # no meta.json to read the components from
        components = []
    if "ner" not in components:
        return spacy.load(model_name), []
    excluded = [name for name in components if name not in NER_COMPONENTS]
    return spacy.load(model_name, exclude=excluded), excluded


def _pipes_not_needed_for_ner(nlp: spacy.language.Language) -> list[str]:
    """Every component except `ner` and the shared embedding layer it listens to, if any."""
    if "ner" not in nlp.pipe_names:
        return []  # an unusual pipeline: run it whole
    keep = {"ner"}
    for name in ("tok2vec", "transformer"):
        if name in nlp.pipe_names:
            listeners = getattr(nlp.get_pipe(name), "listening_components", [])
            if "ner" in listeners:
                keep.add(name)
    return [name for name in nlp.pipe_names if name not in keep]


_shared: dict[tuple[str, str, float, str | None], Detector] = {}
_shared_lock = threading.Lock()


def shared_detector(
    model: str, language: str = "en", score_threshold: float = 0.5, *, names_model: str | None = None
) -> Detector:
    """One detector per process and setting: loading the pipeline takes seconds."""
    key = (model, language, score_threshold, names_model)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Detector(model, language=language, score_threshold=score_threshold, names_model=names_model)
        return _shared[key]
