"""Daily rollups of the ledger, kept in step with it, so that `maskwire usage` reads thousands of rows,
not millions.

For every (agent, UTC day, tool) the rollup holds the number of calls (ok, denied, over quota), their tokens
and rows, and the first and last call time; with `entity` set, the number of values of that entity type
masked. Each append updates it in the same transaction as the calls it adds, under the same lock. A ledger
made before rollups existed gets them built once, when a server first opens it. The rollup is derived data:
`maskwire ledger verify` recomputes it from the chained rows and reports any difference.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from mcp_server.ledger.entry import QUOTA_EXCEEDED
from mcp_server.ledger.prepared import Prepared

CALLS_ROW = ""
"""`entity` of the row that counts calls (other rows count one entity type each)."""
KEY = ("agent", "day", "tool", "entity")
SUMS = ("calls", "ok", "denied", "over_quota", "tokens_in", "tokens_out", "rows", "entity_count")


def define(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "maskwire_usage_daily",
        metadata,
        sa.Column("agent", sa.String(200), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("tool", sa.String(100), primary_key=True),
        sa.Column("entity", sa.String(100), primary_key=True),
        sa.Column("calls", sa.BigInteger, nullable=False),
        sa.Column("ok", sa.BigInteger, nullable=False),
        sa.Column("denied", sa.BigInteger, nullable=False),
        sa.Column("over_quota", sa.BigInteger, nullable=False),
        sa.Column("tokens_in", sa.BigInteger, nullable=False),
        sa.Column("tokens_out", sa.BigInteger, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("entity_count", sa.BigInteger, nullable=False),
        sa.Column("first_ts", sa.String(32), nullable=False),
        sa.Column("last_ts", sa.String(32), nullable=False),
    )


class Tally:
    """The rollup of some stored rows, accumulated in memory (an append's batch, or `verify`'s whole walk)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[Any, ...], list[Any]] = {}
        """key -> [calls, ok, denied, over_quota, tokens_in, tokens_out, rows, entity_count, first_ts, last_ts]"""

    def add(self, row: Mapping[str, Any]) -> None:
        ts = row["ts"]
        agent, day, tool = row["agent"], ts[:10], row["tool"]  # stored times are UTC: the day is the first 10
        status = row["status"]
        key = (agent, day, tool, CALLS_ROW)
        found = self.rows.get(key)
        if found is None:
            found = self.rows[key] = [0, 0, 0, 0, 0, 0, 0, 0, ts, ts]
        found[0] += 1
        if status == "ok":
            found[1] += 1
        elif status == "denied":
            found[2] += 1
            if row["error_class"] == QUOTA_EXCEEDED:
                found[3] += 1
        found[4] += row["tokens_in"]
        found[5] += row["tokens_out"]
        found[6] += row["rows"]
        if ts < found[8]:
            found[8] = ts
        elif ts > found[9]:
            found[9] = ts
        entities = row["entities"]
        if entities and entities != "{}":
            for entity, count in (json.loads(entities) if isinstance(entities, str) else entities).items():
                key = (agent, day, tool, str(entity)[:100])
                found = self.rows.get(key)
                if found is None:
                    found = self.rows[key] = [0, 0, 0, 0, 0, 0, 0, 0, ts, ts]
                found[7] += int(count)
                if ts < found[8]:
                    found[8] = ts
                elif ts > found[9]:
                    found[9] = ts

    def values(self) -> list[dict[str, Any]]:
        names = (*SUMS, "first_ts", "last_ts")
        return [
            {**dict(zip(KEY, key, strict=True)), **dict(zip(names, v, strict=True))} for key, v in self.rows.items()
        ]


def deltas(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What a batch of stored rows adds to the rollup, one dict per key."""
    tally = Tally()
    for row in rows:
        tally.add(row)
    return tally.values()


def compare(conn: sa.Connection, table: sa.Table, tally: Tally, limit: int = 5) -> list[tuple[Any, ...]]:
    """Keys (agent, day, tool, entity) where the stored rollup and the tally of every row differ."""
    left = dict(tally.rows)
    found: list[tuple[Any, ...]] = []
    columns = [table.c[name] for name in (*KEY, *SUMS, "first_ts", "last_ts")]
    for row in conn.execute(sa.select(*columns)):
        key = tuple(row[: len(KEY)])
        expected = left.pop(key, None)
        if expected is None or expected != list(row[len(KEY) :]):
            found.append(key)
            if len(found) >= limit:
                return found
    return (found + list(left))[:limit]


def upsert(table: sa.Table, dialect: sa.Dialect) -> Any:
    """The statement that adds one delta (a dict of `deltas`) to the rollup, for `dialect`."""
    if dialect.name == "postgresql":
        insert: Any = postgresql.insert(table)
        least: Any = sa.func.least
        greatest: Any = sa.func.greatest
    else:
        insert = sqlite.insert(table)
        least, greatest = sa.func.min, sa.func.max  # the two-argument (scalar) forms in SQLite
    excluded = insert.excluded
    update = {name: table.c[name] + excluded[name] for name in SUMS}
    update["first_ts"] = least(table.c.first_ts, excluded.first_ts)
    update["last_ts"] = greatest(table.c.last_ts, excluded.last_ts)
    return insert.on_conflict_do_update(index_elements=list(KEY), set_=update)


def apply(conn: sa.Connection, statement: Prepared, rows: Iterable[Mapping[str, Any]]) -> None:
    """Add stored rows to the rollup (inside the append transaction); `statement` is the prepared `upsert`."""
    values = deltas(rows)
    if values:
        statement.run(conn, values)


def _expected_sql(dialect: str) -> str:
    """The rollup computed from the stored rows, in SQL (columns in table order)."""
    quota = f"CASE WHEN c.status = 'denied' AND c.error_class = '{QUOTA_EXCEEDED}' THEN 1 ELSE 0 END"
    if dialect == "postgresql":
        each, amount = "jsonb_each_text(c.entities::jsonb) AS e", "CAST(e.value AS BIGINT)"
    else:
        each, amount = "json_each(c.entities) AS e", "e.value"
    key = "c.agent, substr(c.ts, 1, 10), c.tool"
    calls = (
        "SELECT c.agent AS agent, substr(c.ts, 1, 10) AS day, c.tool AS tool, '' AS entity, count(*) AS calls, "
        "sum(CASE WHEN c.status = 'ok' THEN 1 ELSE 0 END) AS ok, "
        "sum(CASE WHEN c.status = 'denied' THEN 1 ELSE 0 END) AS denied, "
        f"sum({quota}) AS over_quota, sum(c.tokens_in) AS tokens_in, sum(c.tokens_out) AS tokens_out, "
        "sum(c.rows) AS rows, 0 AS entity_count, min(c.ts) AS first_ts, max(c.ts) AS last_ts "
        f"FROM maskwire_calls AS c GROUP BY {key}"
    )
    entities = (
        f"SELECT {key}, substr(e.key, 1, 100), 0, 0, 0, 0, 0, 0, 0, sum({amount}), min(c.ts), max(c.ts) "
        f"FROM maskwire_calls AS c, {each} WHERE c.entities <> '{{}}' GROUP BY {key}, substr(e.key, 1, 100)"
    )
    return f"{calls} UNION ALL {entities}"


_COLUMNS = (
    "agent, day, tool, entity, calls, ok, denied, over_quota, tokens_in, tokens_out, rows, entity_count, "
    "first_ts, last_ts"
)


def rebuild(conn: sa.Connection, table: sa.Table) -> None:
    """Empty the rollup and compute it again from every stored row (a ledger made before rollups)."""
    conn.execute(table.delete())
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({_COLUMNS}) {_expected_sql(conn.dialect.name)}")


def differences(conn: sa.Connection, table: sa.Table, limit: int = 5) -> list[tuple[Any, ...]]:
    """Rollup rows that the stored rows do not give (and the other way round): (agent, day, tool, entity)."""
    expected = f"SELECT * FROM ({_expected_sql(conn.dialect.name)}) AS expected"
    stored = f"SELECT {_COLUMNS} FROM {table.name}"
    sql = (
        f"SELECT agent, day, tool, entity FROM ({expected} EXCEPT {stored}) AS missing UNION ALL "
        f"SELECT agent, day, tool, entity FROM ({stored} EXCEPT {expected}) AS extra LIMIT {int(limit)}"
    )
    return [tuple(row) for row in conn.exec_driver_sql(sql)]
