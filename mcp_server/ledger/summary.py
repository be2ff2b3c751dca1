"""Per-agent usage computed in the database: a few GROUP BY queries, whatever the ledger's size.

Counts, sums and time range come from one grouped scan (or an index range with `--agent`/`--since`), calls per
tool and masked entities from two more (entities through the database's JSON functions), and the p50/p95
durations from `percentile_disc` on PostgreSQL or one index seek per agent and percentile on SQLite (the
`(agent, duration_ms, ts)` index is read in order, no sort). Nothing is loaded row by row into Python.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from mcp_server.ledger.entry import QUOTA_EXCEEDED
from mcp_server.ledger.errors import LedgerError
from mcp_server.ledger.store import Filters, Ledger, calls


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
    """One `AgentUsage` per agent with calls matching `filters`, sorted by agent."""
    where = (filters or Filters()).where()
    try:
        with ledger.engine.connect() as conn:
            usages = _totals(conn, where)
            if not usages:
                return []
            _tools(conn, where, usages)
            _entities(conn, where, usages)
            _percentiles(conn, where, usages)
    except sa.exc.SQLAlchemyError as exc:
        raise LedgerError(f"cannot read the ledger ({type(exc).__name__})") from None
    return [usages[name] for name in sorted(usages)]


def _totals(conn: sa.Connection, where: list[sa.ColumnElement[bool]]) -> dict[str, AgentUsage]:
    stmt = (
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
    usages = {}
    for agent, n, ok, denied, over, t_in, t_out, rows, first, last in conn.execute(stmt):
        usages[agent] = AgentUsage(
            agent,
            calls=int(n),
            ok=int(ok),
            denied=int(denied),
            over_quota=int(over),
            error=int(n) - int(ok) - int(denied),
            tokens_in=int(t_in),
            tokens_out=int(t_out),
            rows=int(rows),
            first=first,
            last=last,
        )
    return usages


def _tools(conn: sa.Connection, where: list[sa.ColumnElement[bool]], usages: dict[str, AgentUsage]) -> None:
    stmt = sa.select(calls.c.agent, calls.c.tool, sa.func.count()).where(*where).group_by(calls.c.agent, calls.c.tool)
    for agent, tool, n in conn.execute(stmt):
        usages[agent].tools[tool] = int(n)


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
        usages[agent].entities[str(entity)] = int(n)


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
    """Totals and time range of the calls matching `filters` (one grouped scan)."""
    try:
        with ledger.engine.connect() as conn:
            return Totals.of(list(_totals(conn, (filters or Filters()).where()).values()))
    except sa.exc.SQLAlchemyError as exc:
        raise LedgerError(f"cannot read the ledger ({type(exc).__name__})") from None


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
