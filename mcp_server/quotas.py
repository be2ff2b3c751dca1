"""Per-agent quotas, checked before a tool runs and counted from the ledger.

Counting from the ledger makes quotas hold across restarts and across replicas that share it. Windows are
fixed in UTC: calls per clock hour, output tokens per day. A call is admitted while the agent is under
its quota, so the call that crosses a token quota completes and the next one is refused. Calls in flight
at the same moment are checked against the same count, so concurrent calls can pass a quota by a few.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import CallToolResult, TextContent

from mcp_server.identity import Agent, current_agent
from mcp_server.ledger.recorder import current_call
from mcp_server.ledger.store import QUOTA_EXCEEDED, Ledger, LedgerError

log = logging.getLogger(__name__)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class QuotaExceeded:
    agent: str
    quota: str
    """"calls_per_hour" or "tokens_out_per_day"."""
    limit: int
    used: int
    resets: dt.datetime

    def message(self) -> str:
        if self.quota == "calls_per_hour":
            spent = f"may make {self.limit} calls per hour and has made {self.used} this hour"
        else:
            spent = f"may receive {self.limit} output tokens per day and has received {self.used} today"
        return (
            f'Quota exceeded ({self.quota}): agent "{self.agent}" {spent} (UTC). The quota resets at '
            f"{self.resets.strftime('%Y-%m-%dT%H:%M:%SZ')}; no tool call will run before then."
        )


def check_quotas(ledger: Ledger, agent: Agent, now: dt.datetime) -> QuotaExceeded | None:
    """The quota the agent is over (the one that resets last), or None."""
    quotas = agent.quotas
    if not quotas.any:
        return None
    hour = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0)
    calls, tokens_out = ledger.usage(agent.name, calls_since=hour, tokens_since=day)
    if quotas.tokens_out_per_day is not None and tokens_out >= quotas.tokens_out_per_day:
        return QuotaExceeded(
            agent.name, "tokens_out_per_day", quotas.tokens_out_per_day, tokens_out, day + dt.timedelta(days=1)
        )
    if quotas.calls_per_hour is not None and calls >= quotas.calls_per_hour:
        return QuotaExceeded(agent.name, "calls_per_hour", quotas.calls_per_hour, calls, hour + dt.timedelta(hours=1))
    return None


class QuotaMiddleware:
    """Refuses a tool call of an agent that is refused (see `Agent.refused`) or over quota; the ledger
    middleware (outside it) records the refusal."""

    def __init__(self, ledger: Ledger, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.ledger = ledger
        self.clock = clock

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        agent = current_agent.get()
        if ctx.method != "tools/call" or agent is None:
            return await call_next(ctx)
        record = current_call.get()
        if agent.refused is not None:
            if record is not None:
                record.status, record.error_class, record.error_message = "denied", "AgentRefused", agent.refused
            return CallToolResult(content=[TextContent(text=agent.refused)], is_error=True)
        if not agent.quotas.any:
            return await call_next(ctx)
        try:
            exceeded = await anyio.to_thread.run_sync(check_quotas, self.ledger, agent, (self.clock or utc_now)())
        except LedgerError as exc:  # fail closed: a quota that cannot be counted is not granted
            log.error("quota check failed (%s)", exc)
            message = "Maskwire could not check this agent's quota, so the call was not run. Try again later."
            if record is not None:
                record.status, record.error_class, record.error_message = "error", "QuotaUnavailable", message
            return CallToolResult(content=[TextContent(text=message)], is_error=True)
        if exceeded is None:
            return await call_next(ctx)
        if record is not None:
            record.status, record.error_class, record.error_message = "denied", QUOTA_EXCEEDED, exceeded.message()
        return CallToolResult(content=[TextContent(text=exceeded.message())], is_error=True)
