"""What each configured source looks like now: reachable or not (with a reason that is safe to show), and for
SQL sources every column's masking decision. `maskwire check` prints it; `maskwire init` writes it as comments.

Only what the answer needs is loaded: a source that cannot be reached is reported before anything heavy, and
the NLP pipeline loads on the first column whose values must be read to be classified.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mcp_server.config import Config, FilesSource, PgDocsSource, SqlSource
from mcp_server.diagnose import DRIVER_MISSING, folder_problem, sql_problem
from mcp_server.progress import step

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
        if isinstance(source, SqlSource):
            yield _sql(config, source, detector)
        elif isinstance(source, FilesSource):
            yield _files(config, source)
        elif isinstance(source, PgDocsSource):
            yield _pgdocs(source)


def _sql(config: Config, source: SqlSource, detector: LazyDetector) -> SourceReport:
    from connectors.base import ConnectorError
    from connectors.sql import SqlDatabase, redacted_url

    url = config.sql_url(source)
    report = SourceReport(source.name, "sql", redacted_url(url))
    try:  # opens no connection yet: refuses unsupported databases
        database = SqlDatabase(source.name, url, timeout_seconds=source.timeout_seconds)
    except ConnectorError as exc:
        report.problem = str(exc)
        return report
    except ModuleNotFoundError:
        report.problem = DRIVER_MISSING
        return report
    report.problem = sql_problem(url)
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


def _files(config: Config, source: FilesSource) -> SourceReport:
    from connectors.files import FileStore

    root = config.files_root(source)
    report = SourceReport(source.name, "files", str(root))
    report.problem = folder_problem(root)
    if report.problem is not None:
        return report
    try:
        store = FileStore(
            source.name,
            root,
            config.index_dir / f"{source.name}.sqlite",
            include=source.include,
            exclude=source.exclude,
            max_file_bytes=source.max_file_bytes,
        )
    except (ValueError, OSError) as exc:
        report.problem = str(exc) if isinstance(exc, ValueError) else f"cannot open the index ({type(exc).__name__})"
        return report
    try:
        with step(f"[{source.name}] indexing the documents"):
            store.refresh()
        stats = store.stats()
        types = ", ".join(f"{k} {v}" for k, v in sorted(stats["types"].items()))
        chunks = f", {_count(stats['chunks'], 'chunk')} ({types})" if types else ""
        report.summary = _count(stats["files"], "document") + chunks
        report.notes = [f"skipped {s.ref}: {s.reason}" for s in store.skipped()]
    finally:
        store.close()
    return report


def _pgdocs(source: PgDocsSource) -> SourceReport:
    from connectors.base import ConnectorError
    from connectors.pgdocs import PgDocStore
    from connectors.sql import redacted_url

    report = SourceReport(source.name, "pgdocs", redacted_url(source.url))
    report.problem = sql_problem(source.url)
    if report.problem is not None:
        return report
    try:
        store = PgDocStore(
            source.name,
            source.url,
            table=source.table,
            id_column=source.id_column,
            title_column=source.title_column,
            body_column=source.body_column,
            schema=source.db_schema,
            statement_timeout_ms=int(source.timeout_seconds * 1000),
        )
    except (ValueError, ConnectorError) as exc:
        report.problem = str(exc)
        return report
    try:
        report.summary = (
            f"{_count(store.stats()['rows'], 'document')} (rows of {source.db_schema or 'public'}.{source.table})"
        )
    except ConnectorError as exc:
        report.problem = str(exc)
    finally:
        store.close()
    return report


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
