"""The SQL side of the read pipeline: describe and query over tabular sources (check -> execute -> mask -> fit).

Each method returns a `ToolOutput` (structured result, the compact text the model reads, and what the
ledger needs) or raises `ToolProblem` with a message a model can act on. Nothing here returns or
raises a raw value: rows pass through the masker, and messages name tables, columns and policies only.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import accumulate, chain, groupby
from typing import Any, Literal

from connectors.base import ConnectorError, ResultPage
from connectors.sql import DatabaseRejected
from mcp_server.catalog import SqlCatalog, most_sensitive
from mcp_server.config import Config
from mcp_server.masking.classify import ColumnClass
from mcp_server.masking.masker import WITHHELD_TRANSFORMED, MaskCounts, Masker, Recent, ScanBudget, defuse_tokens
from mcp_server.masking.operators import Operator
from mcp_server.pipeline import cursors
from mcp_server.pipeline.budget import BudgetFitter, Fitted
from mcp_server.pipeline.errors import source_errors, source_problem
from mcp_server.pipeline.ledger_sql import ledger_message, ledger_sql
from mcp_server.pipeline.plans import redact_plan
from mcp_server.pipeline.sources import SourceSet
from mcp_server.policy import Policy
from mcp_server.sqlguard import CheckedQuery, ColumnPolicy, OutputColumn, SqlDenied, check_query
from mcp_server.sqlguard.model import PredicateMode, SourceColumn
from mcp_server.sqlguard.schema import SchemaIndex
from mcp_server.tokens import TokenCounter
from mcp_server.tools.models import ColumnDescription, DescribeResult, QueryColumn, QueryResult, TableDescription
from mcp_server.tools.problems import ToolOutput, ToolProblem
from mcp_server.tools.render import (
    FOOTER_CHARS,
    render_describe,
    render_footer,
    render_header,
    render_query,
    render_row,
)


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
LEDGER_SQL_REMEMBERED = 256
"""Statements whose ledger form, and whose check, are remembered: paging and re-runs send the same SQL again."""
MAX_GROUPED_ROWS = 10_000
"""Rows fetched at once from a query grouped by a restricted column, to page through a canonical order."""


_TOKEN_LIKE = re.compile(r"<[A-Za-z][A-Za-z0-9_]*:")


class SqlReads:
    def __init__(self, config: Config, masker: Masker, counter: TokenCounter, sources: SourceSet) -> None:
        self.config = config
        self.masker = masker
        self.counter = counter
        self.sources = sources
        self._ledger_sql: Recent[tuple[str, SchemaIndex | None, int, str], str] = Recent(LEDGER_SQL_REMEMBERED)
        self._checked: Recent[tuple[str, SchemaIndex, str], Prepared] = Recent(LEDGER_SQL_REMEMBERED)

    def known_table_or_token(self, source: str, table: str | None) -> str | None:
        """A table name for the ledger: as is when the source has it, else a keyed token (it is agent input)."""
        if table is None:
            return None
        catalog = self.sources.catalogs.get(str(source))
        try:
            known = catalog is not None and catalog.table(table) is not None
        except ConnectorError:
            known = False
        return table if known else self.masker.literal(table)

    # -- describe --------------------------------------------------------------------------------

    def describe(self, source: str, table: str | None, *, policy: Policy) -> ToolOutput:
        catalog = self.sources.catalog(source, policy)
        with source_errors():
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
        result = DescribeResult(
            source=source, kind=catalog.config.kind, dialect=catalog.database.dialect, tables=described
        )
        return ToolOutput(result, render_describe(result), source=source)

    # -- query -----------------------------------------------------------------------------------

    def masked_sql(self, sql: str, source: str | None) -> str:
        """The SQL as the ledger stores it (`ledger_sql.py`), remembered per schema snapshot and known personal
        values: it depends on the statement, the schema's names and the classes of its columns, which change only
        with the snapshot, and on the words of the known values (`Masker.ledger_words_generation`)."""
        catalog = self.sources.catalogs.get(source or "")
        try:
            index = catalog.schema_index() if catalog is not None else None
        except ConnectorError:
            return ledger_sql(sql, catalog, self.masker)
        key = (source or "", index, self.masker.ledger_words_generation(), sql)
        masked = self._ledger_sql.get(key)
        if masked is None:
            masked = ledger_sql(sql, catalog, self.masker)
            self._ledger_sql.put(key, masked)
        return masked

    def masked_message(self, message: str, source: str | None) -> str:
        """A query's error message as the ledger stores it (`ledger_sql.py`)."""
        return ledger_message(message, self.sources.catalogs.get(source or ""), self.masker)

    def query(
        self, source: str, sql: str, max_rows: int | None = None, cursor: str | None = None, *, policy: Policy
    ) -> ToolOutput:
        catalog = self.sources.catalog(source, policy)
        if not isinstance(sql, str) or not sql.strip():
            raise ToolProblem("`sql` is empty: send one SELECT statement")
        if len(sql) > MAX_SQL_CHARS:
            raise ToolProblem(f"`sql` is {len(sql):,} characters; the limit is {MAX_SQL_CHARS:,}")
        limit = catalog.config.max_rows if max_rows is None else max_rows
        if limit < 1:
            raise ToolProblem("`max_rows` must be at least 1")
        limit = min(limit, catalog.config.max_rows)
        offset = _read_cursor(cursor, sql) if cursor else 0

        checked, rendered, plans = self._prepared(catalog, sql)
        refused = sorted(t for t in checked.tables if not policy.may_read_table(source, t))
        if refused:
            raise ToolProblem(f'role "{policy.role}" may not read table(s) {", ".join(refused)} of source "{source}"')
        # Grouped by a restricted column and not ordered: the database returns the groups sorted by its values,
        # so which rows make a page would tell their order. Fetch them all and page through a canonical order.
        whole = checked.value_ordered
        try:
            page = catalog.database.execute(
                rendered,
                checked.params,
                max_rows=MAX_GROUPED_ROWS if whole else limit,
                skip=0 if whole else offset,
            )
        except DatabaseRejected as exc:
            names = {n.casefold() for t in catalog.tables().values() for n in (t.name, *t.column_names())}
            raise source_problem(exc, policy.masker.scan_message(str(exc), frozenset(names))) from None
        except ConnectorError as exc:
            raise source_problem(exc) from None

        if checked.explain_prefix is not None:  # a plan can hold values read from rows (`plans.py`)
            dialect = catalog.database.dialect
            rows = [tuple(redact_plan(cell, dialect) for cell in row) for row in page.rows]
            page = ResultPage(page.columns, rows, page.more)
            # Its constants gone, a plan is names of the schema and of plan nodes: a name only a language model
            # takes for a person's (`Plan`, `Node Type`) stays; patterns (an e-mail, a number) are still masked.
            plans = tuple(ColumnPlan("text", stable=False, names=False) for _ in page.columns)
        if len(page.columns) != len(plans):  # lineage and result disagree: trust neither, scan everything
            plans = tuple(ColumnPlan("text", stable=False) for _ in page.columns)
        if whole and page.more:
            raise ToolProblem(
                f"the query groups by a restricted column into more than {MAX_GROUPED_ROWS:,} rows without ORDER BY;"
                " add ORDER BY on clear columns or counts, or filter it"
            )
        columns = [
            QueryColumn(name=defuse_tokens(name), masking=p.masking, entity=p.entity)  # an alias can look like one
            for name, p in zip(page.columns, plans, strict=True)
        ]
        masking = _PageMasking(policy.masker, page.rows, page.columns, plans)
        if whole or not checked.ordered:
            # An order the database chose (an index, a sort for GROUP BY) could follow protected values: the rows
            # are sorted by what the agent sees.
            masking.sort_canonically(checked.sort_keys)
        more_in_database = page.more
        if whole:
            skip, take = checked.row_window
            end = masking.total if take is None else skip + take
            more_in_database = len(masking.order[skip:end]) > offset + limit
            masking.keep(skip + offset, min(end, skip + offset + limit))
        facts = {"membership_tests": checked.membership_tests} if checked.membership_tests else {}
        return self._fit_page(source, sql, offset, columns, masking, more_in_database, facts)

    def _fit_page(
        self,
        source: str,
        sql: str,
        offset: int,
        columns: list[QueryColumn],
        masking: _PageMasking,
        more_in_database: bool,
        facts: dict[str, int],
    ) -> ToolOutput:
        """The longest prefix of the rows that fits the output budget; rows are masked as the page needs them."""
        budget = self.config.tokens.max_output_tokens
        fitter = BudgetFitter(self.counter, budget)
        header = render_header(columns)
        counted: dict[int, MaskCounts] = {}

        def counts(kept: int) -> MaskCounts:
            if kept not in counted:
                counted[kept] = MaskCounts(Counter(chain.from_iterable(masking.counts[:kept])))
            return counted[kept]

        def page(kept: int) -> QueryResult:
            more = more_in_database or kept < masking.total
            rows = masking.rows[:kept]
            _check_cells(rows)
            # Built without validating each cell again (pydantic's union check of every cell was 5 ms of a
            # 1,000-row page): the masker returns JSON values only, which `_check_cells` asserts at a glance.
            return QueryResult.model_construct(
                source=source,
                columns=columns,
                rows=rows,
                row_count=kept,
                truncated=more,
                more=more,
                cursor=_make_cursor(sql, offset + kept) if more else None,
                entities_masked=counts(kept).as_dict(),
            )

        def footer(kept: int) -> str:
            more = more_in_database or kept < masking.total
            cursor = _make_cursor(sql, offset + kept) if more else None
            return render_footer(kept, counts(kept).as_dict(), more, cursor)

        if masking.masked == 0:
            masking.mask_more(budget)
        fitted, kept = _largest_page(fitter, header, masking.rows, footer)
        while kept == masking.masked < masking.total:  # every masked row fits: the page may hold more
            masking.mask_more(budget)
            counted.clear()
            fitted, kept = _largest_page(fitter, header, masking.rows, footer)
        text, tokens = fitted.text, fitted.tokens
        if not fitted.fits and kept == 1:  # one row alone is over budget: return it with its long cells cut
            masking.rows[0] = _shorten_cells(masking.rows[0], budget, len(columns))
            text = render_query(page(1))
            tokens = self.counter.count(text)
        result = page(kept)
        return ToolOutput(result, text, source=source, rows=kept, counts=counts(kept), facts=facts, tokens=tokens)

    def _prepared(self, catalog: SqlCatalog, sql: str) -> Prepared:
        """The check of `sql`, the SQL to run and how each output column is masked, remembered per schema snapshot
        like the ledger form: all three depend only on the statement, the schema's names and the classes of its
        columns (the role is applied after). A statement holding a token is checked every time: what a token
        resolves to can change."""
        try:
            index = None if _TOKEN_LIKE.search(sql) else catalog.schema_index()
        except ConnectorError:
            index = None  # the check says what is wrong
        key = (catalog.name, index, sql) if index is not None else None
        found = self._checked.get(key) if key is not None else None
        if found is not None:
            return found
        checked = self._check(catalog, sql)
        plans = tuple(self._plan(catalog, column) for column in checked.columns)
        found = (checked, checked.render(catalog.database.paramstyle), plans)
        if key is not None and catalog.schema_index() is index:  # not refreshed meanwhile (an unknown table)
            self._checked.put(key, found)
        return found

    def _check(self, catalog: SqlCatalog, sql: str) -> CheckedQuery:
        def column_policy(column: SourceColumn) -> ColumnPolicy:
            cls = catalog.classify(column.table, column.column)
            return ColumnPolicy(cls.kind, cls.entity, column_predicates(catalog, column.table, column.column, cls))

        def attempt() -> CheckedQuery:
            return check_query(
                sql,
                dialect=catalog.database.dialect,
                schema=catalog.schema_index(),
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
            raise source_problem(exc) from None

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
            return ColumnPlan("pii", entity, operator=operator)
        texts = [c for _, c in classes if c.kind == "text"]
        if texts:
            return ColumnPlan("text" if column.direct else "withheld", names=any(c.names for c in texts))
        return ColumnPlan("clear")


Prepared = tuple[CheckedQuery, str, tuple[ColumnPlan, ...]]
"""A statement checked, rendered for its database, and the masking of each of its output columns."""

Found = list[str]
"""The entities masked in one row, one entry per value masked (a list: cheaper per cell than a Counter)."""


def _mask_rows(
    masker: Masker,
    rows: Sequence[Sequence[Any]],
    names: Sequence[str],
    plans: Sequence[ColumnPlan],
    budget: ScanBudget,
) -> tuple[list[list[Any]], list[Found]]:
    """Masked rows, and per row the entities masked in it (so a page cut keeps counts exact).

    Column by column: the rows are transposed once (`zip`), each column masked as a whole, and transposed back."""
    if not rows or not plans:  # no rows, or rows of no columns (`SELECT FROM t`)
        return [[] for _ in rows], [[] for _ in rows]
    masked_columns: list[Sequence[Any]] = []
    counted_columns: list[Sequence[str | None]] = []  # per column, per row: the entity counted, or None
    scanned_found: list[list[str]] = []  # per row, what free text cells had masked (several per cell)
    for i, (plan, column) in enumerate(zip(plans, zip(*rows, strict=True), strict=True)):
        if plan.masking in ("pii", "redacted"):
            entity = plan.entity or "PII"
            if plan.masking == "pii":
                masked = masker.mask_column(entity, column, plan.operator)
            else:
                masked = masker.redact_column(entity, column)
            masked_columns.append([value for value, _ in masked])
            counted_columns.append([counted for _, counted in masked])
        elif plan.masking == "withheld":
            masked_columns.append([WITHHELD_TRANSFORMED] * len(rows))
            counted_columns.append(["WITHHELD"] * len(rows))
        elif plan.masking == "text":
            scanned = masker.scan_texts(column, context=[names[i]], budget=budget, stable=plan.stable, names=plan.names)
            masked_columns.append([value for value, _ in scanned])
            if not scanned_found:
                scanned_found = [[] for _ in rows]
            for kept, (_, cell_found) in zip(scanned_found, scanned, strict=True):
                if cell_found:
                    kept.extend(cell_found.elements())
        else:
            masked_columns.append(masker.clear_column(column))
    if counted_columns:
        found = [[entity for entity in cells if entity is not None] for cells in zip(*counted_columns, strict=True)]
    else:
        found = [[] for _ in rows]
    if scanned_found:
        for kept, more in zip(found, scanned_found, strict=True):
            kept.extend(more)
    return list(map(list, zip(*masked_columns, strict=True))), found


FIRST_PAGE_CHARS_PER_TOKEN = 8
"""Raw characters masked per token of budget before the first fit (a masked cell is rarely 8x shorter)."""
ROWS_MEASURED = 64
"""Rows whose raw length is measured before the first fit; the rest are estimated from them."""


class _PageMasking:
    """The fetched rows, masked in display order as far as the page needs them.

    When Maskwire imposes the order itself (`sort_canonically`), the order is that of what the agent sees: every
    row's structured cells (tokens, redactions, clear values) are masked first, and free text is scanned only for
    rows whose order it decides (rows tied on every column before it) and for the rows the page shows."""

    def __init__(
        self, masker: Masker, raw: Sequence[Sequence[Any]], names: Sequence[str], plans: Sequence[ColumnPlan]
    ) -> None:
        self.masker = masker
        self.raw: Sequence[Sequence[Any]] = raw
        self.names = names
        self.plans = plans
        self.scan_budget = masker.budget()
        """One per call: every batch draws on it, as one pass over the rows would."""
        self.order = list(range(len(raw)))
        """Raw row indexes in display order."""
        self.rows: list[list[Any]] = []
        """Masked rows, in display order: the first `masked` of `order`."""
        self.counts: list[Found] = []
        self._text = [i for i, plan in enumerate(plans) if plan.masking == "text"]
        self._structured: list[list[Any]] | None = None
        self._structured_counts: list[Found] = []
        self._done: dict[int, tuple[list[Any], Found]] = {}
        """Rows masked whole ahead of their turn (their free text decided the order)."""

    @property
    def total(self) -> int:
        return len(self.order)

    @property
    def masked(self) -> int:
        return len(self.rows)

    def _mask(self, indexes: Sequence[int]) -> list[tuple[list[Any], Found]]:
        """Rows `indexes` of the raw rows, masked whole (only their free text, when the rest is masked already)."""
        todo = [r for r in indexes if r not in self._done]
        if self._structured is None:
            rows, counts = _mask_rows(
                self.masker, [self.raw[r] for r in todo], self.names, self.plans, self.scan_budget
            )
            self._done.update(zip(todo, zip(rows, counts, strict=True), strict=True))
        elif todo:
            texts = [tuple(self.raw[r][i] for i in self._text) for r in todo]
            names = [self.names[i] for i in self._text]
            plans = [self.plans[i] for i in self._text]
            scanned, found = _mask_rows(self.masker, texts, names, plans, self.scan_budget)
            for r, cells, counted in zip(todo, scanned, found, strict=True):
                row = list(self._structured[r])
                for i, value in zip(self._text, cells, strict=True):
                    row[i] = value
                self._done[r] = (row, self._structured_counts[r] + counted)
        return [self._done[r] for r in indexes]

    def _mask_until(self, end: int) -> None:
        for row, counted in self._mask(self.order[self.masked : end]):
            self.rows.append(row)
            self.counts.append(counted)

    def mask_more(self, budget_tokens: int) -> None:
        """At least double the masked rows, and at least enough raw text to fill the budget several times."""
        wanted = budget_tokens * FIRST_PAGE_CHARS_PER_TOKEN
        end, chars = self.masked, 0
        while end < self.total and (end < 2 * self.masked or end == self.masked or chars < wanted):
            if end - self.masked == ROWS_MEASURED:  # the rest at the rate of the rows measured (a cheap estimate)
                per_row = max(chars / ROWS_MEASURED, 1.0)
                end = min(self.total, max(end, 2 * self.masked, self.masked + math.ceil(wanted / per_row)))
                break
            raw = self.raw[self.order[end]]
            chars += sum(map(len, map(str, raw))) + 3 * len(raw)
            end += 1
        self._mask_until(end)

    def sort_canonically(self, keys: Sequence[tuple[int, bool]]) -> None:
        """Display order = the rows sorted by their masked cells, first by the query's own ORDER BY `keys` (result
        columns) when Maskwire applies them itself. Stable, so rows alike in every cell keep the database's order."""
        first_text = min(self._text, default=len(self.plans))
        if first_text == 0 or any(index in self._text for index, _ in keys):  # free text decides it all
            self._mask_until(self.total)
            self.rows, self.counts = _canonical_order(self.rows, self.counts, keys)
            self.order = list(range(self.total))  # rows are masked whole: they are the order
            self.raw = self.rows
            return
        if self._text:
            plans = [ColumnPlan("clear") if i in self._text else plan for i, plan in enumerate(self.plans)]
            withheld = [tuple(None if i in self._text else v for i, v in enumerate(row)) for row in self.raw]
            self._structured, self._structured_counts = _mask_rows(
                self.masker, withheld, self.names, plans, self.scan_budget
            )
            structured = self._structured
        else:  # nothing to scan: every row masked now
            self._mask_until(self.total)
            structured = self.rows

        def leading(r: int) -> list[tuple[int, Any]]:
            return [_sort_key(v) for v in structured[r][:first_text]]

        order = sorted(self.order, key=leading)
        resolved: list[int] = []
        for _, group in groupby(order, key=leading):
            tied = list(group)
            if len(tied) > 1:  # their free text (and the columns after it) decides their order: scan them now
                full = dict(zip(tied, (row for row, _ in self._mask(tied)), strict=True))
                tied.sort(key=lambda r: [_sort_key(v) for v in full[r]])
            resolved += tied
        for index, descending in reversed(keys):  # stable sorts, last key first
            resolved.sort(key=partial(_key_at, structured, index), reverse=descending)
        if not self._text:
            self.rows, self.counts = [self.rows[r] for r in resolved], [self.counts[r] for r in resolved]
            self.raw = self.rows
            self.order = list(range(self.total))
            return
        self.order = resolved

    def keep(self, start: int, end: int) -> None:
        """Only the rows [start, end) of the display order from now on (a window of rows Maskwire sorted)."""
        self.order = self.order[start:end]
        self.rows, self.counts = self.rows[start:end], self.counts[start:end]
        if self.masked and self.masked != self.total:  # a window inside a masked prefix: mask the rest in turn
            self.rows, self.counts = [], []


_CELL_TYPES = (str, int, float, type(None))  # bool is an int


def _check_cells(rows: Sequence[Sequence[Any]]) -> None:
    """Every cell is a JSON value (`models.Cell`); anything else is a bug, and the call fails rather than send it."""
    odd = {kind for kind in {type(cell) for row in rows for cell in row} if not issubclass(kind, _CELL_TYPES)}
    if odd:
        raise TypeError(f"a result cell of type {sorted(t.__name__ for t in odd)} is not a JSON value")


def _largest_page(
    fitter: BudgetFitter, header: str, rows: Sequence[Sequence[Any]], footer: Callable[[int], str]
) -> tuple[Fitted, int]:
    """The fitted text of the longest prefix of `rows` within the budget, and how many rows it keeps."""
    lines = [render_row(row) for row in rows]
    ends = list(accumulate((1 + len(line) for line in lines), initial=len(header)))
    kept_at = list(range(len(lines), 0, -1)) or [0]  # candidate i keeps kept_at[i] rows
    texts: dict[int, str] = {}

    def render(i: int) -> str:
        if i not in texts:
            kept = kept_at[i]
            texts[i] = "\n".join([header, *lines[:kept], footer(kept)])
        return texts[i]

    whole = render(0)
    if len(whole.encode("utf-8")) <= fitter.budget:  # a token is at least a byte: every row fits, count once
        return Fitted(0, whole, fitter.counter.count(whole), True), kept_at[0]
    # Nested prefixes of one result: a ratio sampled from its rows estimates them to a fraction of a row, so a
    # larger page the estimate puts over the budget is not counted (margin 0).
    ratio = fitter.sample_ratio("\n".join([header, *lines[:50]]))
    fitted = fitter.largest(len(kept_at), render, lambda i: ends[kept_at[i]] + FOOTER_CHARS, ratio=ratio, margin=0)
    return fitted, kept_at[fitted.index]


def _canonical_order(
    rows: list[list[Any]], counts: list[Found], keys: Sequence[tuple[int, bool]] = ()
) -> tuple[list[list[Any]], list[Found]]:
    """The rows sorted by what the agent sees (clear values, tokens), an order no hidden value decides; first by
    the query's own ORDER BY keys (result columns) when Maskwire applies them itself."""
    order = sorted(range(len(rows)), key=lambda r: [_sort_key(v) for v in rows[r]])
    for index, descending in reversed(keys):  # stable sorts, last key first
        order.sort(key=partial(_key_at, rows, index), reverse=descending)
    return [rows[r] for r in order], [counts[r] for r in order]


def _key_at(rows: Sequence[Sequence[Any]], index: int, r: int) -> tuple[int, Any]:
    return _sort_key(rows[r][index])


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
    return cursors.encode({"q": _sql_fingerprint(sql), "o": offset})


def _read_cursor(cursor: str, sql: str) -> int:
    belongs = "query: send the same SQL with it, or drop the cursor"
    (offset,) = cursors.decode(cursor, "q", _sql_fingerprint(sql), ("o",), tool="query", belongs=belongs)
    return offset
