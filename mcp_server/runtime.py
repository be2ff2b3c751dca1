"""Everything one server process holds: config, masker, read pipeline, ledger, agents, token counter."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field

from mcp_server import heap
from mcp_server.config import Config
from mcp_server.identity import Identities
from mcp_server.ledger.agents import AgentStore
from mcp_server.ledger.deployment import open_ledger
from mcp_server.ledger.store import Ledger
from mcp_server.masking.findings import resolve_model_name
from mcp_server.masking.lazy_detector import LazyDetector
from mcp_server.masking.masker import KnownValuesGate, Masker
from mcp_server.masking.pseudonyms import Pseudonymizer, load_or_create_key
from mcp_server.masking.term_lists import TermLists
from mcp_server.masking.vault import TokenVault
from mcp_server.pipeline import ReadPipeline, RoleView
from mcp_server.pipeline.sources import SourceSet
from mcp_server.sources import shape_of
from mcp_server.telemetry import Tracing
from mcp_server.tokens import TokenCounter

log = logging.getLogger(__name__)

# A server with free text loads the NLP pipeline after its first call, or after this long without one.
PIPELINE_AFTER_SECONDS = 5.0


@dataclass
class Runtime:
    config: Config
    masker: Masker
    pipeline: ReadPipeline
    ledger: Ledger
    counter: TokenCounter
    identities: Identities
    agent_override: str | None = None
    """The agent named by `serve --agent` / $MASKWIRE_AGENT (stdio only)."""
    tracing: Tracing | None = None
    """OpenTelemetry traces, when `[telemetry] enabled`."""
    warm: KnownValuesGate = field(default_factory=KnownValuesGate)
    """Open once every column is classified and the known personal values are loaded (waiting asks for them)."""
    answered: threading.Event = field(default_factory=threading.Event)
    """Set once a tool call has run, or a call waits for the known values: a server's warm-up reads them and loads
    the NLP pipeline from then on (see `_warm_up`)."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _warm_up_thread: threading.Thread | None = None

    @classmethod
    def start(cls, config: Config, agent: str | None = None, *, warm_up_in_background: bool = False) -> Runtime:
        """Load the key, the sources and the ledger; check that the NLP pipeline is installed (it loads on first
        use, see `LazyDetector`). Fails loudly, before serving.

        With `warm_up_in_background`, column classification and known values load in a thread (see
        `_warm_up`); scanning free text waits for them."""
        masking = config.masking
        key = load_or_create_key(masking.key, config.state_dir)
        resolve_model_name(masking.spacy_model)  # a missing pipeline stops the server before it serves
        detector = LazyDetector(
            masking.spacy_model,
            masking.language,
            masking.score_threshold,
            names_model=masking.names_model,
            cache_dir=config.state_dir,
        )
        vault = TokenVault(config.token_vault_url, key, check_key=True) if masking.token_vault else None
        answered = threading.Event()
        warm = KnownValuesGate(wanted=answered)
        masker = Masker(
            detector,
            Pseudonymizer(key, vault=vault),
            operator=masking.default_operator,
            max_cell_chars=masking.max_cell_chars,
            scan_budget_chars=masking.scan_budget_chars,
            scan_budget_seconds=masking.scan_budget_seconds,
            term_lists=TermLists(masking.allow_list, masking.deny_list),
            known_values_loaded=warm,
        )
        counter = TokenCounter(config.tokens.encoding, cache_dir=config.state_dir)
        ledger = open_ledger(config, masking_key=key, serving=True)
        identities = Identities(config, AgentStore(ledger.engine))
        pipeline = ReadPipeline(config, masker, counter)
        tracing = Tracing.start(config.telemetry)
        runtime = cls(config, masker, pipeline, ledger, counter, identities, agent, tracing, warm, answered)
        if warm_up_in_background:
            runtime._warm_up_thread = threading.Thread(
                target=runtime._warm_up_in_background, name="maskwire-warm-up", daemon=True
            )
            runtime._warm_up_thread.start()
        else:
            runtime._warm_up()
        return runtime

    @property
    def sources(self) -> SourceSet:
        return self.pipeline.sources

    @property
    def service(self) -> RoleView:
        """The pipeline as the default role sees it, for in-process callers (the MCP server passes each caller's
        own policy to `pipeline`)."""
        return RoleView(self.pipeline, self.pipeline.policy_for(None))

    def _warm_up_in_background(self) -> None:
        try:
            self._warm_up()
        finally:
            heap.freeze()  # what the warm-up built stays for the process's life (a server's: `heap.tune`)

    def _warm_up(self) -> None:
        """Read the English words and build the token encoding (the first answer needs both), then classify
        every column and learn the known personal values of every SQL source.

        Free text is masked with these values (a name from `customers` found again in a ticket), so scanning
        free text waits for them (`KnownValuesGate`). In the background (a server) they are read once the first
        call has run or a call waits for them: the client's handshake and a first query of structured columns
        are answered without them, on schemas that take long to read too.
        """
        started = time.perf_counter()
        learned = 0
        try:  # read now, while the client's handshake runs: the first query's ledger SQL needs them
            self.masker.detector.english_words()
        except Exception as exc:  # the call that needs them reads them again
            log.warning("could not read the English words (%s)", type(exc).__name__)
        self.counter.load()  # every answer's text is counted
        if self._warm_up_thread is not None:  # after the first call, unless a scan of free text asks for them
            self.answered.wait(PIPELINE_AFTER_SECONDS)
        try:
            for catalog in self.sources.catalogs.values():
                try:
                    for entity, values in catalog.known_values(stop=self._stop):
                        self.masker.add_known_values(entity, values)
                        learned += len(values)
                    self.masker.labels.add(catalog.labels())
                except Exception as exc:  # the source stays usable; NER alone then finds names in its text
                    log.warning("could not read known names from source %s (%s)", catalog.name, type(exc).__name__)
        finally:
            self.warm.set()
        log.info(
            "classified %d source(s) and read %d known values in %.1f s",
            len(self.sources.catalogs),
            learned,
            time.perf_counter() - started,
        )
        if self._stop.is_set() or not self._has_free_text():  # the NLP pipeline loads if a call needs it
            return
        if self._warm_up_thread is not None:
            # A server loads the pipeline once its first call has run: loading it beside that call (seconds of
            # imports competing for the interpreter) would slow the call down. A call that needs it loads it.
            self.answered.wait(PIPELINE_AFTER_SECONDS)
            if self._stop.is_set():
                return
        if isinstance(self.masker.detector, LazyDetector):
            try:
                self.masker.detector.loaded()  # here rather than in the first call that scans free text
            except Exception as exc:  # a call that needs it tries again, and fails closed
                log.warning("could not load the NLP pipeline (%s)", type(exc).__name__)
                return
        workers = self.config.masking.ner_workers if (os.cpu_count() or 1) > 1 else 0
        if workers and self._warm_up_thread is not None:  # a server: large batches share NER from now on
            try:
                self.masker.detector.start_ner_workers(workers)
            except Exception as exc:  # NER stays in this process
                log.warning("could not start NER workers (%s)", type(exc).__name__)

    def _has_free_text(self) -> bool:
        """A document source, or a column classified as free text (classified by the warm-up, so cached)."""
        if any(shape_of(source) != "tabular" for source in self.config.sources):
            return True
        try:
            for catalog in self.sources.catalogs.values():
                for table in catalog.tables():
                    if any(c.kind == "text" for c in catalog.classify_table(table).values()):
                        return True
        except Exception:  # a source that cannot be read now: assume it has free text
            return True
        return False

    def close(self) -> None:
        # Let a background warm-up end at its next table: a thread still inside the NLP pipeline's native
        # code when the interpreter exits makes the process abort.
        self._stop.set()
        self.answered.set()  # a warm-up waiting for the first call goes on, and sees `_stop`
        if self._warm_up_thread is not None:
            self._warm_up_thread.join(timeout=60)
            self.masker.detector.stop_ner_workers()
        self.pipeline.close()
        self.ledger.dispose()
        self.masker.pseudonyms.close()
        if self.tracing is not None:
            self.tracing.close()
