"""Who is calling: the agent behind each tool call, with its role and quotas.

Over stdio the local process is trusted: the agent is `serve --agent`, `$MASKWIRE_AGENT` or the client's
self-reported name, a label for the ledger rather than a credential. Over HTTP every request carries a
bearer token; the token names the agent, and nothing the client says about itself changes that.

Tokens are never stored or logged: the config and the agents table hold their SHA-256 only.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST

from mcp_server.config import Config
from mcp_server.ledger.agents import AgentStore, StoredAgent
from mcp_server.ledger.recorder import client_identity

log = logging.getLogger(__name__)

TOKEN_PREFIX = "mw_"
NAMED_AGENT_SECONDS = 1.0
"""How long a stdio agent's name stays resolved (`IdentityMiddleware`): a name is a label, not a credential, so a
change to the agents table may take that long to apply to it; a bearer token is looked up on every request."""
MAX_NAMED_AGENTS = 1_000
MAX_TOKEN_CHARS = 512


def new_token() -> str:
    """A fresh bearer token: 256 random bits, prefixed so it is recognisable in a secret scanner."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Quotas:
    calls_per_hour: int | None = None
    tokens_out_per_day: int | None = None

    @property
    def any(self) -> bool:
        return self.calls_per_hour is not None or self.tokens_out_per_day is not None


@dataclass(frozen=True)
class Agent:
    """The caller of one tool call: the name the ledger records, the role that decides the policy."""

    name: str
    role: str
    quotas: Quotas = field(default_factory=Quotas)
    refused: str | None = None
    """Why this caller may not run tools (a role that is gone); its calls are recorded and denied."""


class IdentityError(Exception):
    """The caller cannot be identified (no credential on an authenticated transport, a role that is gone)."""


class Identities:
    """Agents from the config file's [[agents]] and from the agents table; the config wins on a name."""

    def __init__(self, config: Config, store: AgentStore) -> None:
        self.config = config
        self.store = store

    def named(self, name: str) -> Agent:
        """The agent a stdio caller says it is; an unlisted name acts in the default role, without quotas."""
        return self.listed(name) or Agent(name, self.config.server.default_role)

    def listed(self, name: str) -> Agent | None:
        """The agent of the config file or the agents table with this name, or None."""
        entry = self.config.agent(name)
        if entry is not None:
            quotas = Quotas(entry.quotas.calls_per_hour, entry.quotas.tokens_out_per_day)
            return Agent(entry.name, entry.role, quotas)
        stored = self.store.active(name)
        if stored is not None:
            return self._checked(stored)
        return None

    def by_token(self, token: str) -> Agent | None:
        """The agent a bearer token belongs to; None for an unknown or revoked token."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        digest = token_sha256(token)
        found = None
        for entry in self.config.agents:  # every entry is compared, so timing says nothing about which matched
            if entry.token_sha256 is not None and hmac.compare_digest(entry.token_sha256, digest):
                found = entry
        if found is not None:
            return self.named(found.name)
        # An index lookup by the digest: timing can reveal at most how a stored digest compares with the digest
        # of a token the caller chose, which says nothing about any stored token.
        stored = self.store.active_by_hash(digest)
        if stored is None or not hmac.compare_digest(stored.token_sha256, digest):
            return None
        if self.config.agent(stored.name) is not None:
            log.warning('agent "%s" is declared in the config file and in the agents table: token refused', stored.name)
            return None
        return self._checked(stored)

    def have_tokens(self) -> bool:
        """Whether any agent can authenticate over HTTP."""
        return any(a.token_sha256 for a in self.config.agents) or self.store.has_active()

    def _checked(self, stored: StoredAgent) -> Agent:
        if stored.role not in self.config.role_names:
            raise IdentityError(f'agent "{stored.name}" has role "{stored.role}", which is not defined under [roles]')
        return Agent(stored.name, stored.role, Quotas(stored.calls_per_hour, stored.tokens_out_per_day))


class AgentAccessToken(AccessToken):
    """What the SDK's bearer middleware keeps for an authenticated request (the token itself is not kept)."""

    agent: Agent


class AgentTokenVerifier:
    """The SDK's `TokenVerifier` for static bearer tokens, checked against the stored hashes on every request.

    There is no cache: a revoked token is refused on its next request, on every replica.
    """

    def __init__(self, identities: Identities) -> None:
        self.identities = identities

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            agent = await anyio.to_thread.run_sync(self.identities.by_token, token)
        except IdentityError as exc:
            log.warning("bearer token refused: %s", exc)
            return None
        if agent is None:
            log.info("bearer token refused: unknown or revoked")
            return None
        return AgentAccessToken(token="", client_id=agent.name, scopes=[], agent=agent)


current_agent: contextvars.ContextVar[Agent | None] = contextvars.ContextVar("maskwire_agent", default=None)


def authenticated_agent(ctx: ServerRequestContext[Any, Any]) -> Agent | None:
    """The agent whose bearer token authenticated the HTTP request that carried this message."""
    scope = getattr(ctx.request, "scope", None)
    user = scope.get("user") if isinstance(scope, dict) else None
    if isinstance(user, AuthenticatedUser) and isinstance(user.access_token, AgentAccessToken):
        return user.access_token.agent
    return None


class IdentityMiddleware:
    """Decides the agent of every tool call and keeps it in `current_agent` while the call runs.

    `authenticated=True` (HTTP): the agent comes from the request's bearer token only; a call without one
    fails. Otherwise (stdio, in-process): `agent_override`, else the client's name, else "unknown". A client's
    name that is no agent of the config or the agents table is the client's own words: recorded as `label` gives
    it (`ClientLabels.name`: as sent when it reads like software, else a keyed token).
    """

    def __init__(
        self,
        identities: Identities,
        *,
        agent_override: str | None,
        authenticated: bool,
        label: Callable[[str], str] = lambda name: name,
    ) -> None:
        self.identities = identities
        self.agent_override = agent_override
        self.authenticated = authenticated
        self.label = label
        self._recent: dict[str, tuple[float, Agent]] = {}  # a stdio name -> its agent, for NAMED_AGENT_SECONDS

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        agent = await self._identify(ctx)
        reset = current_agent.set(agent)
        try:
            return await call_next(ctx)
        finally:
            current_agent.reset(reset)

    async def _identify(self, ctx: ServerRequestContext[Any, Any]) -> Agent:
        if self.authenticated:
            agent = authenticated_agent(ctx)
            if agent is None:  # the HTTP layer refuses such requests; this holds if it ever did not
                raise MCPError(code=INVALID_REQUEST, message="not authenticated: send Authorization: Bearer <token>")
            return agent
        name = self.agent_override or client_identity(ctx)[0] or "unknown"
        recent = self._recent.get(name)
        if recent is not None and time.monotonic() - recent[0] < NAMED_AGENT_SECONDS:
            return recent[1]  # no thread, no table read: a stdio name is looked up at most once a second
        agent = await anyio.to_thread.run_sync(self._named, name)
        if len(self._recent) >= MAX_NAMED_AGENTS:
            self._recent.clear()
        self._recent[name] = (time.monotonic(), agent)
        return agent

    def _named(self, name: str) -> Agent:
        try:
            agent = self.identities.listed(name)
        except IdentityError as exc:  # recorded under its name and denied by the quota middleware
            return Agent(name, "", refused=str(exc))
        if agent is not None:
            return agent
        label = name if self.agent_override else self.label(name)  # may wait for the data's known values
        return Agent(label, self.identities.config.server.default_role)
