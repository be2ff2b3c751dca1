"""The tools' behaviour, independent of MCP: list_sources, describe, query.

Each method returns a `ToolOutput` (structured result, the compact text the model reads, and what the
ledger needs) or raises `ToolProblem` with a message a model can act on. Nothing here returns or
raises a raw value: rows pass through the masker, and messages name tables, columns and policies only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from connectors.base import ConnectorError, QueryTimeout
from connectors.sql import DatabaseRejected, SqlDatabase
from mcp_server.catalog import SqlCatalog, most_sensitive
from mcp_server.config import Config, SqlSource
from mcp_server.masking.classify import ColumnClass
from mcp_server.masking.masker import WITHHELD_TRANSFORMED, MaskCounts, Masker, ScanBudget
from mcp_server.masking.operators import Operator
from mcp_server.policy import Policy, build_policies
from mcp_server.sqlguard import CheckedQuery, ColumnPolicy, OutputColumn, SqlDenied, check_query
from mcp_server.sqlguard.model import PredicateMode, SourceColumn
from mcp_server.tokens import TokenCounter
from mcp_server.tools.documents import DocumentTools
from mcp_server.tools.ledger_sql import ledger_sql
from mcp_server.tools.models import (
    ColumnDescription,
    DescribeResult,
    ListSourcesResult,
    QueryColumn,
    QueryResult,
    SourceInfo,
    TableDescription,
)
from mcp_server.tools.problems import ToolOutput, ToolProblem
from mcp_server.tools.render import fit_rows, render_describe, render_query, render_sources


@dataclass(frozen=True)
class ColumnPlan:
    """How one output column is masked.

    pii: untransformed personal values, each masked by its entity's operator (a stable token by default).
    redacted: values computed from personal columns, every cell `<ENTITY>` (no token for a fragment).
    text: free text, scanned. withheld: free text the query transformed, never returned.
    """

    masking: Literal["pii", "redacted", "text", "withheld", "clear"]
    entity: str | None = None
    stable: bool = True
    """For text: False when the agent can write values into it (query plans, opaque functions): findings are
    redacted rather than given tokens."""
    operator: Operator | None = None
    """A column's own operator (declared in config), over the entity's."""
    names: bool = True
    """For text: False when every source column is a description of things (`ColumnClass.names`)."""


MAX_SQL_CHARS = 100_000
MAX_GROUPED_ROWS = 10_000
"""Rows fetched at once from a query grouped by a restricted column, to page through a canonical order."""


class ToolService:
    def __init__(self, config: Config, masker: Masker, counter: TokenCounter) -> None:
        self.config = config
        self.masker = masker
        self.counter = counter
        self.policies = build_policies(config, masker)
        self.documents = DocumentTools(config, masker, counter)
        self.catalogs: dict[str, SqlCatalog] = {}
        self.broken_sources: dict[str, str] = {}
        for source in config.sources:
            if isinstance(source, SqlSource):
                try:
                    database = SqlDatabase(source.name, config.sql_url(source), timeout_seconds=source.timeout_seconds)
                except ConnectorError as exc:
                    self.broken_sources[source.name] = str(exc)
                    continue
                self.catalogs[source.name] = SqlCatalog(source, database, masker.detector, config.masking.sample_rows)

    def close(self) -> None:
        for catalog in self.catalogs.values():
            catalog.database.dispose()
        self.documents.close()

    # -- lookups ---------------------------------------------------------------------------------

    def policy_for(self, agent: str | None) -> Policy:
        role, _ = self.config.role_of(agent)
        return self.policies[role]

    def _catalog(self, source: str, policy: Policy) -> SqlCatalog:
        if not isinstance(source, str) or not source.strip():
            raise ToolProblem("`source` is required: call list_sources to see the source names")
        if self.config.source(source) is not None and not policy.may_use_source(source):
            raise ToolProblem(f'role "{policy.role}" may not use source "{source}"')
        if source in self.broken_sources:
            raise ToolProblem(self.broken_sources[source], status="error", error_class="SourceUnavailable")
        catalog = self.catalogs.get(source)
        if catalog is None:
            known = ", ".join(sorted(s.name for s in self.config.sources)) or "none configured"
            kind = self.config.source(source)
            if kind is not None:
                raise ToolProblem(f'source "{kind.name}" is a {kind.kind} source: use search and read for it')
            raise ToolProblem(f"unknown source; known sources: {known}")
        return catalog

    def known_source_or_token(self, source: object) -> str:
        """A source name for the ledger: as is when configured, else a keyed token (it is agent input)."""
        text = str(source)
        return text if self.config.source(text) else self.masker.literal(text)

    def known_table_or_token(self, source: str, table: str | None) -> str | None:
        if table is None:
            return None
        catalog = self.catalogs.get(str(source))
        try:
            known = catalog is not None and catalog.table(table) is not None
        except ConnectorError:
            known = False
        return table if known else self.masker.literal(table)

    # -- list_sources ----------------------------------------------------------------------------

    def list_sources(self, policy: Policy | None = None) -> ToolOutput:
        policy = policy or self.policy_for(None)
        infos: list[SourceInfo] = []
        for source in self.config.sources:
            if not policy.may_use_source(source.name):
                continue
            if source.name in self.broken_sources:
                infos.append(
                    SourceInfo(
                        name=source.name,
                        kind=source.kind,
                        description=source.description,
                        status="unavailable: " + self.broken_sources[source.name],
                    )
                )
                continue
            if isinstance(source, SqlSource):
                catalog = self.catalogs[source.name]
                try:
                    tables: int | None = sum(policy.may_read_table(source.name, t) for t in catalog.tables())
                    status = "ok"
                except ConnectorError as exc:
                    tables, status = None, f"unavailable: {exc}"
                infos.append(
                    SourceInfo(
                        name=source.name,
                        kind="sql",
                        description=source.description,
                        dialect=catalog.database.dialect,
                        tables=tables,
                        status=status,
                    )
                )
            else:
                try:
                    documents: int | None = self.documents.stats(source.name, policy).documents
                    status = "ok"
                except ToolProblem as exc:
                    documents, status = None, f"unavailable: {exc}"
                infos.append(
                    SourceInfo(
                        name=source.name,
                        kind=source.kind,
                        description=source.description,
                        documents=documents,
                        status=status,
                    )
                )
        result = ListSourcesResult(sources=infos)
        return ToolOutput(result, render_sources(result))

    # -- describe --------------------------------------------------------------------------------

    def describe(self, source: str, table: str | None = None, policy: Policy | None = None) -> ToolOutput:
        policy = policy or self.policy_for(None)
        configured = self.config.source(source) if isinstance(source, str) else None
        if configured is not None and configured.kind != "sql":
            stats = self.documents.stats(source, policy)
            doc_result = DescribeResult(source=source, kind=configured.kind, documents=stats)
            return ToolOutput(doc_result, render_describe(doc_result), source=source)
        catalog = self._catalog(source, policy)
        try:
            tables = {name: t for name, t in catalog.tables().items() if policy.may_read_table(source, name)}
            if table is not None:
                info = catalog.table(table)
                if info is not None and not policy.may_read_table(source, info.name):
                    raise ToolProblem(f'role "{policy.role}" may not read table "{info.name}" of source "{source}"')
                if info is None:
                    raise ToolProblem(f'unknown table in source "{source}"; tables: {_names(tables)}')
                selected = [info]
            else:
                selected = list(tables.values())
            described = []
            for info in selected:
                classes = catalog.classify_table(info.name)
                described.append(
                    TableDescription(
                        name=info.name,
                        columns=[
                            _describe_column(catalog, info.name, c.name, c.type, classes[c.name]) for c in info.columns
                        ],
                    )
                )
        except ConnectorError as exc:
            raise ToolProblem(str(exc), status="error", error_class=type(exc).__name__) from None
        result = DescribeResult(source=source, kind="sql", dialect=catalog.database.dialect, tables=described)
        return ToolOutput(result, render_describe(result), source=source)

    # -- query -----------------------------------------------------------------------------------

    def masked_sql(self, sql: str, source: str | None) -> str:
        """The SQL as the ledger stores it (`ledger_sql.py`)."""
        return ledger_sql(sql, self.catalogs.get(source or ""), self.masker)

    def query(
        self,
        source: str,
        sql: str,
        max_rows: int | None = None,
        cursor: str | None = None,
        policy: Policy | None = None,
    ) -> ToolOutput:
        policy = policy or self.policy_for(None)
        catalog = self._catalog(source, policy)
        if not isinstance(sql, str) or not sql.strip():
            raise ToolProblem("`sql` is empty: send one SELECT statement")
        if len(sql) > MAX_SQL_CHARS:
            raise ToolProblem(f"`sql` is {len(sql):,} characters; the limit is {MAX_SQL_CHARS:,}")
        limit = catalog.config.max_rows if max_rows is None else max_rows
        if limit < 1:
            raise ToolProblem("`max_rows` must be at least 1")
        limit = min(limit, catalog.config.max_rows)
        offset = _read_cursor(cursor, sql) if cursor else 0

        checked = self._check(catalog, sql)
        refused = sorted(t for t in checked.tables if not policy.may_read_table(source, t))
        if refused:
            raise ToolProblem(f'role "{policy.role}" may not read table(s) {", ".join(refused)} of source "{source}"')
        plans = [self._plan(catalog, column) for column in checked.columns]
        # Grouped by a restricted column and not ordered: the database returns the groups sorted by its values,
        # so which rows make a page would tell their order. Fetch them all and page through a canonical order.
        whole = checked.value_ordered
        try:
            page = catalog.database.execute(
                checked.render(catalog.database.paramstyle),
                checked.params,
                max_rows=MAX_GROUPED_ROWS if whole else limit,
                skip=0 if whole else offset,
            )
        except QueryTimeout as exc:
            raise ToolProblem(str(exc), status="error", error_class="QueryTimeout") from None
        except DatabaseRejected as exc:
            names = {n.casefold() for t in catalog.tables().values() for n in (t.name, *t.column_names())}
            message = policy.masker.scan_message(str(exc), frozenset(names))
            raise ToolProblem(message, status="error", error_class=exc.error_class) from None
        except ConnectorError as exc:
            raise ToolProblem(str(exc), status="error", error_class=type(exc).__name__) from None

        if len(page.columns) != len(plans):  # lineage and result disagree: trust neither, scan everything
            plans = [ColumnPlan("text", stable=False) for _ in page.columns]
        rows, row_counts = self._mask_rows(policy.masker, page.rows, page.columns, plans, policy.masker.budget())
        if whole and page.more:
            raise ToolProblem(
                f"the query groups by a restricted column into more than {MAX_GROUPED_ROWS:,} rows without ORDER BY;"
                " add ORDER BY on clear columns or counts, or filter it"
            )
        if whole or not checked.ordered:  # an order the database chose (an index, a sort for GROUP BY) could
            rows, row_counts = _canonical_order(rows, row_counts, checked.sort_keys)  # follow protected values
        more_in_database = page.more
        if whole:
            skip, take = checked.row_window
            rows, row_counts = rows[skip:], row_counts[skip:]
            if take is not None:
                rows, row_counts = rows[:take], row_counts[:take]
            more_in_database = len(rows) > offset + limit
            rows, row_counts = rows[offset : offset + limit], row_counts[offset : offset + limit]
        columns = [
            QueryColumn(name=name, masking=p.masking, entity=p.entity)
            for name, p in zip(page.columns, plans, strict=True)
        ]

        budget = self.config.tokens.max_output_tokens
        kept = fit_rows(source, columns, rows, self.counter, budget)
        if kept == 0 and rows:  # one row alone is over budget: return it with its long cells cut
            rows[0] = _shorten_cells(rows[0], budget, len(columns))
            kept = 1
        while True:
            more = more_in_database or kept < len(rows)
            counts = MaskCounts()
            for found in row_counts[:kept]:
                counts.by_entity.update(found)
            result = QueryResult(
                source=source,
                columns=columns,
                rows=rows[:kept],
                row_count=kept,
                truncated=more,
                more=more,
                cursor=_make_cursor(sql, offset + kept) if more else None,
                entities_masked=counts.as_dict(),
            )
            text = render_query(result)
            # fit_rows estimates line by line; the budget is a promise, so check the real count
            if kept <= 1 or self.counter.count(text) <= budget:
                facts = {"membership_tests": checked.membership_tests} if checked.membership_tests else {}
                return ToolOutput(result, text, source=source, rows=kept, counts=counts, facts=facts)
            kept -= 1

    def _check(self, catalog: SqlCatalog, sql: str) -> CheckedQuery:
        def column_policy(column: SourceColumn) -> ColumnPolicy:
            cls = catalog.classify(column.table, column.column)
            return ColumnPolicy(cls.kind, cls.entity, column_predicates(catalog, column.table, column.column, cls))

        def attempt() -> CheckedQuery:
            return check_query(
                sql,
                dialect=catalog.database.dialect,
                schema=catalog.database.column_map(),
                column_policy=column_policy,
                resolve_token=self.masker.pseudonyms.resolve,
                max_length=MAX_SQL_CHARS,
                allow_functions=frozenset(catalog.config.allow_functions),
            )

        try:
            try:
                return attempt()
            except SqlDenied as exc:
                if exc.reason not in ("unknown_table", "unknown_column"):
                    raise
                catalog.tables(refresh=True)  # the schema may have changed since it was read
                return attempt()
        except SqlDenied as exc:
            raise ToolProblem(_denial_message(catalog, exc), error_class=f"SqlDenied.{exc.reason}") from None
        except ConnectorError as exc:
            raise ToolProblem(str(exc), status="error", error_class=type(exc).__name__) from None

    def _plan(self, catalog: SqlCatalog, column: OutputColumn) -> ColumnPlan:
        if column.kind == "count":
            return ColumnPlan("clear")
        if column.kind == "unknown":
            return ColumnPlan("text", stable=False)
        classes = [(s, catalog.classify(s.table, s.column)) for s in column.sources]
        personal = [(s, c.entity or "PII") for s, c in classes if c.kind == "pii"]
        if personal:
            entities = {e for _, e in personal}
            entity = most_sensitive(sorted(entities))
            if not column.direct or len(entities) > 1:
                return ColumnPlan("redacted", entity)
            override = catalog.override(personal[0][0].table, personal[0][0].column) if len(personal) == 1 else None
            operator = override.operator if override else None
            return ColumnPlan("pii", entity, operator)
        texts = [c for _, c in classes if c.kind == "text"]
        if texts:
            return ColumnPlan("text" if column.direct else "withheld", names=any(c.names for c in texts))
        return ColumnPlan("clear")

    def _mask_rows(
        self,
        masker: Masker,
        rows: Sequence[tuple[Any, ...]],
        names: Sequence[str],
        plans: Sequence[ColumnPlan],
        budget: ScanBudget,
    ) -> tuple[list[list[Any]], list[Counter[str]]]:
        """Masked rows, and per row the entities masked in it (so a page cut keeps counts exact)."""
        table = [list(row) for row in rows]
        found: list[Counter[str]] = [Counter() for _ in rows]
        for i, plan in enumerate(plans):
            column = [row[i] for row in table]
            if plan.masking in ("pii", "redacted"):
                entity = plan.entity or "PII"
                if plan.masking == "pii":
                    masked = masker.mask_column(entity, column, plan.operator)
                else:
                    masked = masker.redact_column(entity, column)
                for r, (value, counted) in enumerate(masked):
                    table[r][i] = value
                    if counted is not None:
                        found[r][counted] += 1
            elif plan.masking == "withheld":
                for r in range(len(table)):
                    table[r][i] = WITHHELD_TRANSFORMED
                    found[r]["WITHHELD"] += 1
            elif plan.masking == "text":
                scanned = masker.scan_texts(
                    column, context=[names[i]], budget=budget, stable=plan.stable, names=plan.names
                )
                for r, (value, cell_found) in enumerate(scanned):
                    table[r][i] = value
                    found[r].update(cell_found)
            else:
                for r, value in enumerate(column):
                    table[r][i] = masker.clear(value)
        return table, found


def _canonical_order(
    rows: list[list[Any]], counts: list[Counter[str]], keys: Sequence[tuple[int, bool]] = ()
) -> tuple[list[list[Any]], list[Counter[str]]]:
    """The rows sorted by what the agent sees (clear values, tokens), an order no hidden value decides; first by
    the query's own ORDER BY keys (result columns) when Maskwire applies them itself."""
    order = sorted(range(len(rows)), key=lambda r: [_sort_key(v) for v in rows[r]])
    for index, descending in reversed(keys):  # stable sorts, last key first
        order.sort(key=lambda r, i=index: _sort_key(rows[r][i]), reverse=descending)
    return [rows[r] for r in order], [counts[r] for r in order]


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool | int | float):
        return (1, value)
    return (2, str(value))


def _shorten_cells(row: list[Any], budget: int, columns: int) -> list[Any]:
    """Cut the text cells of an over-long row (already masked, so a cut reveals nothing) to share the budget."""
    limit = max(40, (budget * 3) // max(columns, 1))
    return [
        value[:limit] + f"…[{len(value) - limit} characters cut]"
        if isinstance(value, str) and len(value) > limit
        else value
        for value in row
    ]


def _denial_message(catalog: SqlCatalog, exc: SqlDenied) -> str:
    """Unknown names are the agent's own input and are not echoed (they end up in the ledger)."""
    if exc.reason == "unknown_table":
        return f'the query reads a table that source "{catalog.name}" does not have; tables: {_names(catalog.tables())}'
    if exc.reason == "unknown_column":
        return f'the query names a column that does not exist in source "{catalog.name}"; call describe for columns'
    return str(exc)


def column_predicates(catalog: SqlCatalog, table: str, column: str, cls: ColumnClass) -> PredicateMode:
    """The comparisons a column allows. Free text defaults to equality (and LIKE searches, see
    sqlguard/predicates.py): a function of the text in a WHERE clause would read it out a character at a time.
    A policy declared in config wins."""
    override = catalog.override(table, column)
    if cls.kind == "text" and (override is None or override.predicates is None):
        return "equality"
    return cls.predicates


def _describe_column(catalog: SqlCatalog, table: str, name: str, sql_type: str, cls: ColumnClass) -> ColumnDescription:
    return ColumnDescription(
        name=name,
        type=sql_type,
        masking=cls.kind,
        entity=cls.entity,
        predicates=column_predicates(catalog, table, name, cls),
        reason=cls.reason,
    )


def _names(tables: dict[str, Any]) -> str:
    names = sorted(tables)
    shown = ", ".join(names[:30])
    return shown + (f" (+{len(names) - 30} more)" if len(names) > 30 else "")


def _sql_fingerprint(sql: str) -> str:
    return hashlib.sha256(sql.strip().encode("utf-8")).hexdigest()[:16]


def _make_cursor(sql: str, offset: int) -> str:
    payload = json.dumps({"q": _sql_fingerprint(sql), "o": offset}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _read_cursor(cursor: str, sql: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        offset = int(data["o"])
        fingerprint = str(data["q"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
        raise ToolProblem("invalid `cursor`: pass back exactly the cursor a previous query returned") from None
    if fingerprint != _sql_fingerprint(sql) or offset < 0:
        raise ToolProblem("`cursor` belongs to a different query: send the same SQL with it, or drop the cursor")
    return offset
