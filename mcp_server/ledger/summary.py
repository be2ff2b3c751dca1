"""Per-agent usage computed in the database, whatever the ledger's size.

Counts, sums, time range, calls per tool and masked entities come from the daily rollup (`rollup.py`) for whole
UTC days, and from the calls table for the partial days at the edges of a `--since`/`--until` range (an index
range on time) and for `--status` (the rollup counts outcomes but does not split tokens by them). The p50/p95
durations come from the calls: `percentile_disc` on PostgreSQL, one index seek per agent and percentile on
SQLite (the `(agent, duration_ms, ts)` index is read in order, no sort). Nothing is loaded row by row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from mcp_server.ledger.entry import QUOTA_EXCEEDED, utc_iso
from mcp_server.ledger.errors import LedgerError
from mcp_server.ledger.rollup import CALLS_ROW
from mcp_server.ledger.store import Filters, Ledger, calls, usage_daily


@dataclass
class AgentUsage:
    agent: str
    calls: int = 0
    ok: int = 0
    denied: int = 0
    over_quota: int = 0
    """Denied calls refused because the agent was over a quota (counted in `denied` too)."""
    error: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    rows: int = 0
    entities: Counter[str] = field(default_factory=Counter)
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    tools: Counter[str] = field(default_factory=Counter)
    first: str | None = None
    last: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "calls": self.calls,
            "ok": self.ok,
            "denied": self.denied,
            "over_quota": self.over_quota,
            "error": self.error,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "rows": self.rows,
            "entities_masked": dict(sorted(self.entities.items())),
            "p50_ms": round(self.p50_ms, 1),
            "p95_ms": round(self.p95_ms, 1),
            "tools": dict(sorted(self.tools.items())),
            "first": self.first,
            "last": self.last,
        }


@dataclass
class Totals:
    """Every call a report covers, summed over agents."""

    calls: int = 0
    ok: int = 0
    denied: int = 0
    over_quota: int = 0
    error: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    rows: int = 0
    first: str | None = None
    last: str | None = None

    @classmethod
    def of(cls, usages: list[AgentUsage]) -> Totals:
        totals = cls()
        for u in usages:
            for name in ("calls", "ok", "denied", "over_quota", "error", "tokens_in", "tokens_out", "rows"):
                setattr(totals, name, getattr(totals, name) + getattr(u, name))
        firsts = [u.first for u in usages if u.first]
        lasts = [u.last for u in usages if u.last]
        totals.first = min(firsts) if firsts else None
        totals.last = max(lasts) if lasts else None
        return totals

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def usage_by_agent(ledger: Ledger, filters: Filters | None = None) -> list[AgentUsage]:
    """One `AgentUsage` per agent with calls matching `filters`, sorted by agent (see the module doc)."""
    filters = filters or Filters()
    days, edges = _split(filters)
    try:
        with ledger.engine.connect() as conn:
            usages: dict[str, AgentUsage] = {}
            if days is not None:
                _rollup(conn, filters, days, usages)
            for since, until in edges:
                _raw(conn, dataclasses.replace(filters, since=since, until=until).where(), usages)
            if not usages:
                return []
            _percentiles(conn, filters.where(), usages)
    except sa.exc.SQLAlchemyError as exc:
        raise LedgerError(f"cannot read the ledger ({type(exc).__name__})") from None
    return [usages[name] for name in sorted(usages)]


Range = tuple[dt.datetime | None, dt.datetime | None]


def _day(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _split(filters: Filters) -> tuple[tuple[str | None, str | None] | None, list[Range]]:
    """(whole days [first, end) to read from the rollup, or None; time ranges to read from the calls)."""
    if filters.status:
        return None, [(filters.since, filters.until)]
    start = None
    if filters.since is not None:
        start = _day(filters.since)
        if start < filters.since:
            start += dt.timedelta(days=1)
    end = _day(filters.until) if filters.until is not None else None
    if start is not None and end is not None and start >= end:
        return None, [(filters.since, filters.until)]
    edges: list[Range] = []
    if start is not None and filters.since is not None and filters.since < start:
        edges.append((filters.since, start))
    if end is not None and filters.until is not None and end < filters.until:
        edges.append((end, filters.until))
    return (utc_iso(start)[:10] if start else None, utc_iso(end)[:10] if end else None), edges


def _rollup(
    conn: sa.Connection, filters: Filters, days: tuple[str | None, str | None], usages: dict[str, AgentUsage]
) -> None:
    r = usage_daily
    where: list[sa.ColumnElement[bool]] = []
    if filters.agent:
        where.append(r.c.agent == filters.agent)
    if filters.tool:
        where.append(r.c.tool == filters.tool)
    if days[0] is not None:
        where.append(r.c.day >= days[0])
    if days[1] is not None:
        where.append(r.c.day < days[1])
    calls_rows = [*where, r.c.entity == CALLS_ROW]
    totals = (
        sa.select(
            r.c.agent,
            sa.func.sum(r.c.calls),
            sa.func.sum(r.c.ok),
            sa.func.sum(r.c.denied),
            sa.func.sum(r.c.over_quota),
            sa.func.sum(r.c.tokens_in),
            sa.func.sum(r.c.tokens_out),
            sa.func.sum(r.c.rows),
            sa.func.min(r.c.first_ts),
            sa.func.max(r.c.last_ts),
        )
        .where(*calls_rows)
        .group_by(r.c.agent)
    )
    _add_totals(conn.execute(totals), usages)
    tools = sa.select(r.c.agent, r.c.tool, sa.func.sum(r.c.calls)).where(*calls_rows).group_by(r.c.agent, r.c.tool)
    for agent, tool, n in conn.execute(tools):
        usages[agent].tools[tool] += int(n)
    entities = (
        sa.select(r.c.agent, r.c.entity, sa.func.sum(r.c.entity_count))
        .where(*where, r.c.entity != CALLS_ROW)
        .group_by(r.c.agent, r.c.entity)
    )
    for agent, entity, n in conn.execute(entities):
        usages[agent].entities[str(entity)] += int(n)


def _add_totals(result: Iterable[Any], usages: dict[str, AgentUsage]) -> None:
    for agent, n, ok, denied, over, t_in, t_out, rows, first, last in result:
        u = usages.setdefault(agent, AgentUsage(agent))
        u.calls += int(n)
        u.ok += int(ok)
        u.denied += int(denied)
        u.over_quota += int(over)
        u.error += int(n) - int(ok) - int(denied)
        u.tokens_in += int(t_in or 0)
        u.tokens_out += int(t_out or 0)
        u.rows += int(rows or 0)
        u.first = min(u.first or first, first)
        u.last = max(u.last or last, last)


def _raw(conn: sa.Connection, where: list[sa.ColumnElement[bool]], usages: dict[str, AgentUsage]) -> None:
    """Add the calls matching `where`, read from the calls table (the edges of a time range)."""
    _add_totals(conn.execute(_totals_stmt(where)), usages)
    _tools(conn, where, usages)
    _entities(conn, where, usages)


def _totals_stmt(where: list[sa.ColumnElement[bool]]) -> sa.Select[Any]:
    return (
        sa.select(
            calls.c.agent,
            sa.func.count(),
            _count_if(calls.c.status == "ok"),
            _count_if(calls.c.status == "denied"),
            _count_if(sa.and_(calls.c.status == "denied", calls.c.error_class == QUOTA_EXCEEDED)),
            sa.func.coalesce(sa.func.sum(calls.c.tokens_in), 0),
            sa.func.coalesce(sa.func.sum(calls.c.tokens_out), 0),
            sa.func.coalesce(sa.func.sum(calls.c.rows), 0),
            sa.func.min(calls.c.ts),
            sa.func.max(calls.c.ts),
        )
        .where(*where)
        .group_by(calls.c.agent)
    )


def _tools(conn: sa.Connection, where: list[sa.ColumnElement[bool]], usages: dict[str, AgentUsage]) -> None:
    stmt = sa.select(calls.c.agent, calls.c.tool, sa.func.count()).where(*where).group_by(calls.c.agent, calls.c.tool)
    for agent, tool, n in conn.execute(stmt):
        usages[agent].tools[tool] += int(n)


def _entities(conn: sa.Connection, where: list[sa.ColumnElement[bool]], usages: dict[str, AgentUsage]) -> None:
    if conn.dialect.name == "postgresql":
        each = sa.func.jsonb_each_text(sa.cast(calls.c.entities, postgresql.JSONB)).table_valued("key", "value")
        amount: sa.ColumnElement[Any] = sa.cast(each.c.value, sa.BigInteger)
    else:
        each = sa.func.json_each(calls.c.entities).table_valued("key", "value")
        amount = each.c.value
    stmt = (
        sa.select(calls.c.agent, each.c.key, sa.func.sum(amount))
        .select_from(calls)
        .join(each, sa.true())
        .where(*where, calls.c.entities != "{}")
        .group_by(calls.c.agent, each.c.key)
    )
    for agent, entity, n in conn.execute(stmt):
        usages[agent].entities[str(entity)] += int(n)


def _percentiles(conn: sa.Connection, where: list[sa.ColumnElement[bool]], usages: dict[str, AgentUsage]) -> None:
    if conn.dialect.name == "postgresql":
        stmt = (
            sa.select(
                calls.c.agent,
                sa.func.percentile_disc(0.5).within_group(calls.c.duration_ms),
                sa.func.percentile_disc(0.95).within_group(calls.c.duration_ms),
            )
            .where(*where)
            .group_by(calls.c.agent)
        )
        for agent, p50, p95 in conn.execute(stmt):
            usages[agent].p50_ms, usages[agent].p95_ms = float(p50), float(p95)
        return
    for usage in usages.values():
        for p, attr in ((50, "p50_ms"), (95, "p95_ms")):
            rank = max(1, math.ceil(usage.calls * p / 100))  # nearest rank
            stmt = (
                sa.select(calls.c.duration_ms)
                .where(calls.c.agent == usage.agent, *where)
                .order_by(calls.c.duration_ms)
                .limit(1)
                .offset(rank - 1)
            )
            value = conn.execute(stmt).scalar_one_or_none()
            setattr(usage, attr, float(value) if value is not None else 0.0)


def totals(ledger: Ledger, filters: Filters | None = None) -> Totals:
    """Totals and time range of the calls matching `filters`."""
    return Totals.of(usage_by_agent(ledger, filters))


def call_widths(ledger: Ledger, filters: Filters | None = None) -> list[int]:
    """Column widths of the `usage --calls` table, so that it can stream aligned (one aggregate query)."""

    def longest(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return sa.func.coalesce(sa.func.max(sa.func.length(column)), 1)

    def digits(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return sa.func.coalesce(sa.func.max(column), 0)

    stmt = sa.select(
        digits(calls.c.id),
        longest(calls.c.agent),
        longest(calls.c.tool),
        longest(sa.func.coalesce(calls.c.source, "-")),
        longest(calls.c.status),
        digits(calls.c.rows),
        digits(calls.c.tokens_in),
        digits(calls.c.tokens_out),
        digits(calls.c.duration_ms),
    ).where(*(filters or Filters()).where())
    try:
        with ledger.engine.connect() as conn:
            top_id, agent, tool, source, status, rows, t_in, t_out, ms = conn.execute(stmt).one()
    except sa.exc.SQLAlchemyError as exc:
        raise LedgerError(f"cannot read the ledger ({type(exc).__name__})") from None
    return [
        len(str(top_id)),
        19,
        int(agent),
        int(tool),
        int(source),
        max(int(status), len("over quota")),
        len(str(rows)),
        len(str(t_in)),
        len(str(t_out)),
        len(str(round(float(ms)))),
        1,
    ]
