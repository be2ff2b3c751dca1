"""Agents added with `maskwire agents add`: a table in the ledger database, shared by every replica.

Only the SHA-256 of each bearer token is stored. Errors never carry SQLAlchemy's message, because it
would include the statement's parameters (a token hash, an agent's name).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mcp_server.ledger.prepared import Prepared
from mcp_server.ledger.store import LedgerError

metadata = sa.MetaData()
agents = sa.Table(
    "maskwire_agents",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("role", sa.String(200), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created", sa.String(32), nullable=False),
    sa.Column("revoked", sa.String(32), nullable=True),
    sa.Column("calls_per_hour", sa.Integer, nullable=True),
    sa.Column("tokens_out_per_day", sa.Integer, nullable=True),
)


class AgentStoreError(LedgerError):
    """The agents table cannot be read or written, or a change to it is not allowed."""


@dataclass(frozen=True)
class StoredAgent:
    name: str
    role: str
    token_sha256: str
    created: str
    revoked: str | None = None
    calls_per_hour: int | None = None
    tokens_out_per_day: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _stored(row: sa.RowMapping) -> StoredAgent:
    return StoredAgent(**dict(row))


class AgentStore:
    """Agents with their role, token hash and quotas, in the ledger database (SQLite or PostgreSQL)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        try:
            metadata.create_all(engine)
        except sa.exc.SQLAlchemyError as exc:
            raise AgentStoreError(f"cannot open the agents table ({type(exc).__name__})") from None
        active = sa.select(agents).where(agents.c.revoked.is_(None))
        # Every tool call looks its agent up: compiled once (`prepared.py`).
        self._active_by_name = Prepared(active.where(agents.c.name == sa.bindparam("name")), engine.dialect)
        self._active_by_hash = Prepared(active.where(agents.c.token_sha256 == sa.bindparam("digest")), engine.dialect)

    def add(
        self,
        name: str,
        role: str,
        token_sha256: str,
        *,
        calls_per_hour: int | None = None,
        tokens_out_per_day: int | None = None,
    ) -> StoredAgent:
        """Add an agent. A revoked agent of the same name is replaced (a new token for it); an active one is not."""
        agent = StoredAgent(name, role, token_sha256, _now(), None, calls_per_hour, tokens_out_per_day)
        try:
            with self.engine.begin() as conn:
                existing = conn.execute(sa.select(agents.c.revoked).where(agents.c.name == name)).first()
                if existing is not None and existing.revoked is None:
                    raise AgentStoreError(f'agent "{name}" already exists; revoke it first to issue a new token')
                if existing is not None:
                    conn.execute(agents.delete().where(agents.c.name == name))
                conn.execute(agents.insert().values(**agent.__dict__))
        except sa.exc.SQLAlchemyError as exc:
            raise AgentStoreError(f"cannot add the agent ({type(exc).__name__})") from None
        return agent

    def revoke(self, name: str) -> bool:
        """Revoke an active agent; False when there is no active agent of that name."""
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    agents.update().where(agents.c.name == name, agents.c.revoked.is_(None)).values(revoked=_now())
                )
        except sa.exc.SQLAlchemyError as exc:
            raise AgentStoreError(f"cannot revoke the agent ({type(exc).__name__})") from None
        return result.rowcount == 1

    def all(self) -> list[StoredAgent]:
        return self._select(sa.select(agents).order_by(agents.c.name))

    def active(self, name: str) -> StoredAgent | None:
        return self._first(self._active_by_name, {"name": name})

    def active_by_hash(self, token_sha256: str) -> StoredAgent | None:
        return self._first(self._active_by_hash, {"digest": token_sha256})

    def _first(self, statement: Prepared, params: dict[str, str]) -> StoredAgent | None:
        try:
            with self.engine.connect() as conn:
                row = statement.run(conn, [params]).mappings().first()
        except sa.exc.SQLAlchemyError as exc:
            raise AgentStoreError(f"cannot read the agents table ({type(exc).__name__})") from None
        return None if row is None else _stored(row)

    def has_active(self) -> bool:
        stmt = sa.select(sa.func.count()).select_from(agents).where(agents.c.revoked.is_(None))
        try:
            with self.engine.connect() as conn:
                return bool(conn.execute(stmt).scalar_one())
        except sa.exc.SQLAlchemyError as exc:
            raise AgentStoreError(f"cannot read the agents table ({type(exc).__name__})") from None

    def _select(self, stmt: sa.Select[Any]) -> list[StoredAgent]:
        try:
            with self.engine.connect() as conn:
                return [_stored(row) for row in conn.execute(stmt).mappings()]
        except sa.exc.SQLAlchemyError as exc:
            raise AgentStoreError(f"cannot read the agents table ({type(exc).__name__})") from None
