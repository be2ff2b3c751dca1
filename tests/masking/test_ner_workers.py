"""NER shared with worker processes: the same findings as in-process NER, and in-process NER when a worker fails."""

from __future__ import annotations

import pytest

from mcp_server.masking.detector import WORKER_MIN_TEXTS

pytestmark = pytest.mark.slow  # starts NER worker processes, each loading the spaCy pipeline

TEXTS = [
    f"Call back {name} at 555-01{i % 100:02d} about order {i}; she lives in {city}."
    for i, (name, city) in enumerate(
        [("Maria Lopez", "Lyon"), ("Borna Jerković", "Zagreb"), ("Ken Fukuda", "Osaka"), ("Aiko Tanaka", "Paris")] * 80
    )
]


@pytest.fixture
def with_worker(detector):  # type: ignore[no-untyped-def]
    detector.start_ner_workers(1)
    assert detector.wait_for_ner_workers(120), "the NER worker did not load the pipeline"
    yield detector
    detector.stop_ner_workers()


def test_a_worker_finds_what_the_server_process_finds(detector) -> None:  # type: ignore[no-untyped-def]
    assert len(TEXTS) >= WORKER_MIN_TEXTS
    alone = detector.analyze_batch(TEXTS)
    detector.start_ner_workers(1)
    try:
        assert detector.wait_for_ner_workers(120)
        shared = detector.analyze_batch(TEXTS)
    finally:
        detector.stop_ner_workers()
    assert shared == alone
    assert sum(1 for found in shared if any(f.entity == "PERSON" for f in found)) > len(TEXTS) // 2


def test_a_failed_worker_leaves_ner_to_the_server_process(with_worker) -> None:  # type: ignore[no-untyped-def]
    expected = with_worker.analyze_batch(TEXTS)
    for worker in with_worker._workers._pool:
        worker.process.kill()
        worker.process.wait()
    assert with_worker.analyze_batch(TEXTS) == expected  # the share sent to the dead worker ran here
    assert not with_worker._workers.ready
    assert with_worker.analyze_batch(TEXTS) == expected  # and NER stays here
