"""Detection quality regression on third-party data: the first 150 sentences of presidio-research's
synth dataset, scored with the benchmark's own evaluator (benchmarks/_common.py, loaded by path).

Measured when written (token rule, personal-data scope): recall 0.81, precision 0.98; span rule:
recall 0.70, precision 0.87. The floors leave a margin for harmless drift, not for regressions.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench_common() -> ModuleType:
    spec = importlib.util.spec_from_file_location("maskwire_bench_common", ROOT / "benchmarks" / "_common.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scores(shared_fixtures: Path, detector):  # type: ignore[no-untyped-def]
    common = _bench_common()
    samples = common.load_synth(150, shared_fixtures / "presidio_synth_dataset_v2.json")
    predictions = common.detector_predict(detector, [s.text for s in samples])
    return common.evaluate(samples, predictions, scope=common.OUT_OF_SCOPE)


def test_token_recall_and_precision(scores) -> None:  # type: ignore[no-untyped-def]
    assert scores.token_recall() >= 0.77
    assert scores.token_precision() >= 0.93


def test_span_recall_and_precision(scores) -> None:  # type: ignore[no-untyped-def]
    assert scores.recall() >= 0.66
    assert scores.precision() >= 0.82


def test_structured_entities_are_all_found(scores) -> None:  # type: ignore[no-untyped-def]
    for label in ("EMAIL_ADDRESS", "US_SSN", "IBAN_CODE", "IP_ADDRESS"):
        if scores.annotated[label]:
            assert scores.found_any[label] == scores.annotated[label], label
    if scores.annotated["CREDIT_CARD"]:
        assert scores.found_any["CREDIT_CARD"] >= 0.95 * scores.annotated["CREDIT_CARD"]
