"""What each configured source looks like now: reachable or not (with a reason that is safe to show), and for
SQL sources every column's masking decision. `maskwire check` prints it; `maskwire init` writes it as comments.

Only what the answer needs is loaded: a source that cannot be reached is reported before anything heavy, and
the NLP pipeline loads on the first column whose values must be read to be classified.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from connectors.base import DocumentSource, IndexedSource, TabularSource
from mcp_server.config import Config
from mcp_server.diagnose import DRIVER_MISSING
from mcp_server.progress import step
from mcp_server.sources import SourceKind, SourceSettings, registry

if TYPE_CHECKING:
    from mcp_server.masking.classify import ColumnClass
    from mcp_server.masking.detector import Detector


@dataclass(frozen=True)
class ColumnReport:
    name: str
    sql_type: str
    decision: ColumnClass


@dataclass
class SourceReport:
    name: str
    kind: str
    where: str
    """The redacted URL or the folder."""
    problem: str | None = None
    summary: str = ""
    tables: dict[str, list[ColumnReport]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


class LazyDetector:
    """The detector the column classifier asks for sampled values, built on its first use (seconds)."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._detector: Detector | None = None

    def analyze_batch(self, *args: object, **kwargs: object) -> object:
        if self._detector is None:
            from mcp_server.masking.detector import shared_detector

            masking = self._config.masking
            with step("loading the NLP pipeline (spaCy and Presidio)", after=0.5):
                self._detector = shared_detector(
                    masking.spacy_model, masking.language, masking.score_threshold, names_model=masking.names_model
                )
        return self._detector.analyze_batch(*args, **kwargs)  # type: ignore[arg-type]


def inspect_sources(config: Config) -> Iterator[SourceReport]:
    """One report per source, in config order, each as soon as it is known."""
    detector = LazyDetector(config)
    for source in config.sources:
        kind = registry.kind(source.kind)
        report = SourceReport(source.name, source.kind, kind.where(config, source))
        if kind.shape == "tabular":
            yield _tabular(config, kind, source, report, detector)
        else:
            yield _documents(config, kind, source, report)


def _tabular(
    config: Config, kind: SourceKind, source: SourceSettings, report: SourceReport, detector: LazyDetector
) -> SourceReport:
    from connectors.base import ConnectorError

    try:  # opens no connection yet: refuses unsupported databases
        database = kind.open(config, source)
    except ConnectorError as exc:
        report.problem = str(exc)
        return report
    except ModuleNotFoundError:
        report.problem = DRIVER_MISSING
        return report
    database = cast(TabularSource, database)
    report.problem = kind.precheck(config, source) if kind.precheck else None
    if report.problem is not None:
        database.dispose()
        return report
    from mcp_server.catalog import SqlCatalog  # loads the classifier's word lists: only for a source that answers

    catalog = SqlCatalog(source, database, detector, config.masking.sample_rows)  # type: ignore[arg-type]
    try:
        tables = catalog.tables()
        report.summary = _count(len(tables), "table")
        with step(f"[{source.name}] classifying the columns of {report.summary}"):
            for table in tables.values():
                decisions = catalog.classify_table(table.name)
                report.tables[table.name] = [ColumnReport(c.name, c.type, decisions[c.name]) for c in table.columns]
    except ConnectorError as exc:
        report.problem = str(exc)
    finally:
        database.dispose()
    return report


def _documents(config: Config, kind: SourceKind, source: SourceSettings, report: SourceReport) -> SourceReport:
    from connectors.base import ConnectorError

    report.problem = kind.precheck(config, source) if kind.precheck else None
    if report.problem is not None:
        return report
    try:
        store = kind.open(config, source)
    except ConnectorError as exc:
        report.problem = str(exc)
        return report
    except OSError as exc:
        report.problem = f"cannot open the index ({type(exc).__name__})"
        return report
    store = cast(DocumentSource, store)
    try:
        if isinstance(store, IndexedSource):
            with step(f"[{source.name}] indexing the documents"):
                store.refresh()
            report.notes = [f"skipped {s.ref}: {s.reason}" for s in store.skipped()]
        stats = store.stats()
        report.summary = _count(stats.documents, "document")
        types = ", ".join(f"{k} {v}" for k, v in sorted(stats.types.items()))
        if types:
            report.summary += f", {_count(stats.chunks or 0, 'chunk')} ({types})"
        elif stats.chunks is None and stats.where:
            report.summary += f" ({stats.where})"
    except ConnectorError as exc:
        report.problem = str(exc)
    finally:
        store.close()
    return report


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
