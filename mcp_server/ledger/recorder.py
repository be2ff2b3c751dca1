"""Records every MCP tool call in the ledger, whatever its outcome.

A server middleware wraps each `tools/call`, so calls that never reach a tool (unknown tool, arguments
that fail validation) are recorded too. The tool fills in what only it knows (source, rows, masked
arguments, entities) on the `CallRecord` of the current call. If the ledger row cannot be written, the
client gets an error instead of the result: an unrecorded call must not hand out data, and its entry,
marked `LedgerUnavailable`, goes to the local spool until the ledger can take it (see `spool.py`).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
import anyio.to_thread
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import CLIENT_INFO_META_KEY, INVALID_PARAMS, CallToolResult, TextContent

from mcp_server.ledger.agents import AgentStoreError
from mcp_server.ledger.client_info import ClientLabels
from mcp_server.ledger.entry import LedgerEntry
from mcp_server.ledger.errors import LedgerError
from mcp_server.ledger.malformed import storable
from mcp_server.ledger.store import Ledger
from mcp_server.tokens import TokenCounter

log = logging.getLogger(__name__)

MAX_TOOL_NAME = 128
"""MCP tool names have 1 to 128 characters; a longer unknown name is refused with a JSON-RPC error."""
CANCELLED = "Cancelled"
"""`error_class` of a call cancelled before its answer was sent (its status is "error": the ledger's statuses are ok,
denied and error)."""
CANCELLED_MESSAGE = (
    "cancelled before its answer was sent (by the client, or the connection closed); nothing was delivered"
)


@dataclass
class CallRecord:
    tool: str
    agent: str = "unknown"
    status: str | None = None
    source: str | None = None
    arguments: dict[str, Any] | None = None
    """Masked arguments, set by the tool; None means the middleware masks them generically."""
    error_class: str | None = None
    error_message: str | None = None
    rows: int = 0
    entities: dict[str, int] = field(default_factory=dict)
    tokens_out: int | None = None
    """The exact token count of the result text, when the tool counted it (off the event loop); else counted here."""


current_call: contextvars.ContextVar[CallRecord | None] = contextvars.ContextVar("maskwire_call", default=None)


def result_text(result: CallToolResult) -> str:
    """The text the client receives: every text block, joined by newlines."""
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def client_identity(ctx: ServerRequestContext[Any, Any]) -> tuple[str, str]:
    """Client name and version from the handshake, or from the request envelope (2026-07-28 protocol)."""
    params = ctx.session.client_params if ctx.session is not None else None
    if params is not None and params.client_info is not None:
        return params.client_info.name or "", params.client_info.version or ""
    meta = (ctx.params or {}).get("_meta") or {}
    info = meta.get(CLIENT_INFO_META_KEY) if isinstance(meta, Mapping) else None
    if isinstance(info, Mapping):
        return str(info.get("name") or ""), str(info.get("version") or "")
    return "", ""


class LedgerMiddleware:
    def __init__(
        self,
        ledger: Ledger,
        counter: TokenCounter,
        mask_literal: Callable[[str], str],
        agent_name: Callable[[ServerRequestContext[Any, Any]], str],
        tools: frozenset[str] = frozenset(),
        argument_names: frozenset[str] = frozenset(),
        on_recorded: Callable[[LedgerEntry], None] | None = None,
        client_labels: ClientLabels | None = None,
    ) -> None:
        """`agent_name` gives the agent a call is recorded under (decided by the identity layer, not here).
        `on_recorded` sees each entry once it is written or spooled (telemetry puts its figures on the span).
        `client_labels` stores the client's name and version (`client_info.py`; default: tokens unless they read
        like software in English)."""
        self.client_labels = client_labels or ClientLabels(frozenset, mask_literal)
        self.ledger = ledger
        self.counter = counter
        self.mask_literal = mask_literal
        self.agent_name = agent_name
        self.tools = tools
        self.argument_names = argument_names
        self.on_recorded = on_recorded

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call" or ctx.request_id is None:
            return await call_next(ctx)
        params = ctx.params or {}
        name = str(params.get("name") or "")
        tool = name if name in self.tools else self.mask_literal(storable(name))  # an unknown name is agent input
        raw_arguments = params.get("arguments") or {}
        record = CallRecord(tool=tool, agent=self.agent_name(ctx))
        started = time.perf_counter()
        if len(name) > MAX_TOOL_NAME:  # answered without echoing it: no tool has such a name
            record.status, record.error_class = "error", "InvalidRequest"
            record.error_message = f"a tool name of {len(name):,} characters (tool names have at most {MAX_TOOL_NAME})"
            self.write_call(ctx, record, raw_arguments, "", started)
            raise MCPError(INVALID_PARAMS, f"Unknown tool: {record.error_message}")
        token = current_call.set(record)
        try:
            result = await call_next(ctx)
            # The tool body runs in a worker thread that a cancel cannot stop, so a `notifications/cancelled` that
            # came meanwhile is delivered at the first checkpoint after it: here, before the row says "ok".
            await anyio.lowlevel.checkpoint_if_cancelled()
        except anyio.get_cancelled_exc_class():
            await self._write_cancelled(ctx, record, raw_arguments, started)
            raise
        except BaseException as exc:
            record.status = record.status or "error"
            record.error_class = record.error_class or type(exc).__name__
            self.write_call(ctx, record, raw_arguments, "", started)
            raise
        finally:
            current_call.reset(token)
        call_result = _as_call_result(result)
        if call_result is None:
            self.write_call(ctx, record, raw_arguments, "", started)
            return result
        if record.status is None:  # the tool was never reached: unknown tool or invalid arguments
            record.status = "error" if call_result.is_error else "ok"
            if call_result.is_error:
                record.error_class = "InvalidRequest"
                record.error_message = "the call was rejected before reaching the tool"
                call_result = result = self._without_echo(name, call_result)
        try:
            await self.write_call_off_loop(ctx, record, raw_arguments, result_text(call_result), started)
        except LedgerError as exc:
            log.error("ledger write failed (%s); withholding the result", exc)
            return CallToolResult(
                content=[
                    TextContent(
                        text="The usage ledger could not record this call, so its result is "
                        "withheld. Ask the operator to check the ledger database."
                    )
                ],
                is_error=True,
            )
        return result

    async def _write_cancelled(
        self, ctx: ServerRequestContext[Any, Any], record: CallRecord, raw_arguments: Any, started: float
    ) -> None:
        """The row of a call cancelled before its answer was sent (the client's `notifications/cancelled`, or the
        connection closing): nothing was delivered, so no rows, entities or tokens out; what the tool had reached
        is named by its status and error class only (vocabulary, never its message)."""
        reached = f"{record.status}, {record.error_class}" if record.error_class else record.status
        record.status, record.error_class = "error", CANCELLED
        record.error_message = CANCELLED_MESSAGE + (
            f" (the tool had finished: {reached})" if reached else " (the tool had not finished)"
        )
        record.rows, record.entities, record.tokens_out = 0, {}, 0
        try:
            await self.write_call_off_loop(ctx, record, raw_arguments, "", started)
        except LedgerError as exc:  # spooled by `write_call`; the cancellation goes on
            log.error("ledger write failed for a cancelled call (%s)", exc)

    async def write_call_off_loop(
        self,
        ctx: ServerRequestContext[Any, Any],
        record: CallRecord,
        raw_arguments: Any,
        text: str,
        started: float,
    ) -> None:
        """`write_call` in a worker thread, so that the event loop serves other messages while the row is
        committed (the commit's fsync is most of an append). Awaited to the end, shielded: the answer leaves
        only after the commit, and a call cancelled meanwhile is still recorded. Appends stay in one chain
        whatever thread runs them (the ledger's lock and the database's)."""
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self.write_call, ctx, record, raw_arguments, text, started)

    def write_call(
        self,
        ctx: ServerRequestContext[Any, Any],
        record: CallRecord,
        raw_arguments: Any,
        text: str,
        started: float,
    ) -> None:
        client_name, client_version = self.client_labels.client(*client_identity(ctx))
        arguments = record.arguments if record.arguments is not None else self._mask_generic(raw_arguments)
        entry = LedgerEntry(
            agent=record.agent[:200],
            client_name=client_name,
            client_version=client_version,
            tool=record.tool,
            source=record.source,
            arguments=arguments,
            status=record.status or "error",
            error_class=record.error_class,
            error_message=record.error_message,
            rows=record.rows,
            tokens_in=self.counter.count(_json(raw_arguments), remember=False),
            tokens_out=record.tokens_out if record.tokens_out is not None and text else self.counter.count(text),
            entities=record.entities,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
        try:
            self.ledger.append(entry)
        except LedgerError:  # the call is refused; its entry waits in the spool for the ledger to be back
            try:
                self.ledger.refused(entry)
            except LedgerError as exc:
                log.error("the refused call could not be spooled either (%s)", exc)
            raise
        finally:
            if self.on_recorded is not None:
                self.on_recorded(entry)

    def _without_echo(self, name: str, result: CallToolResult) -> CallToolResult:
        """The SDK's refusal of a call, without the agent's values it quotes (`input_value='536-22-8194'`, an
        unknown tool's name): what was wrong and where, in the SDK's words, and nothing the agent sent."""
        if name not in self.tools:
            text = f"Unknown tool: no tool has that name; the tools are {', '.join(sorted(self.tools))}"
        else:
            lines = [_INPUT_VALUE.sub("", line) for line in result_text(result).splitlines()]
            text = "\n".join(line for line in lines if not line.strip().startswith("For further information"))
        return CallToolResult(content=[TextContent(text=text)], is_error=True)

    def _mask_generic(self, value: Any) -> Any:
        """Arguments of a call no tool looked at: every string, unknown argument name and number that could be
        an identifier (six digits or more, any float) becomes a keyed token."""
        if isinstance(value, Mapping):
            return {
                (str(k) if k in self.argument_names else self.mask_literal(str(k))): self._mask_generic(v)
                for k, v in list(value.items())[:50]
            }
        if isinstance(value, list):
            return [self._mask_generic(v) for v in value[:50]]
        if value is None or isinstance(value, bool) or (isinstance(value, int) and abs(value) < MAX_SHOWN_NUMBER):
            return value
        return self.mask_literal(str(value))


_INPUT_VALUE = re.compile(r", input_value=.*(?=, input_type=\w+\]$)")
"""The value pydantic quotes in a validation error, up to the last `input_type` of the line (the value can hold
that text itself)."""
MAX_SHOWN_NUMBER = 100_000
"""Numbers an agent sends that the ledger shows as sent: counts and offsets below this; a longer number could be
an identifier (`"offset": 536228194`) and is a keyed token."""


def shown_number(value: int | None, mask: Callable[[str], str]) -> int | str | None:
    """A count or offset an agent sent, as the ledger stores it."""
    return value if value is None or abs(value) < MAX_SHOWN_NUMBER else mask(str(value))


AGENTS_UNREADABLE = (
    "Maskwire cannot read its agents table right now, so it cannot tell which role this call has; nothing was "
    "run and the call was recorded. Try again shortly, or ask the operator to check the ledger database."
)


class AgentsUnreachable:
    """Wraps the identity middleware: when the agents table cannot be read, a tool call is answered with a tool
    error (`isError`) and recorded, instead of failing the JSON-RPC request unrecorded."""

    def __init__(
        self,
        identity: Callable[[ServerRequestContext[Any, Any], CallNext], Awaitable[HandlerResult]],
        recorder: LedgerMiddleware,
        fallback_agent: Callable[[ServerRequestContext[Any, Any]], str],
    ) -> None:
        self.identity = identity
        self.recorder = recorder
        self.fallback_agent = fallback_agent

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call" or ctx.request_id is None:
            return await self.identity(ctx, call_next)
        reached = False

        async def inner(inner_ctx: ServerRequestContext[Any, Any]) -> HandlerResult:
            nonlocal reached
            reached = True
            return await call_next(inner_ctx)

        started = time.perf_counter()
        try:
            return await self.identity(ctx, inner)
        except AgentStoreError as exc:
            if reached:  # raised further in: not the identity step's to answer
                raise
            log.error("agents table unreadable (%s); the call is refused", exc)
            params = ctx.params or {}
            name = str(params.get("name") or "")
            tool = name if name in self.recorder.tools else self.recorder.mask_literal(storable(name))
            record = CallRecord(tool=tool, agent=self.fallback_agent(ctx)[:200], status="error")
            record.error_class, record.error_message = "AgentStoreError", str(exc)
            result = CallToolResult(content=[TextContent(text=AGENTS_UNREADABLE)], is_error=True)
            with contextlib.suppress(LedgerError):  # then spooled by `write_call`; the answer is the same refusal
                self.recorder.write_call(ctx, record, params.get("arguments") or {}, AGENTS_UNREADABLE, started)
            return result


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


def _as_call_result(result: HandlerResult) -> CallToolResult | None:
    if isinstance(result, CallToolResult):
        return result
    if isinstance(result, Mapping) and "content" in result:
        try:
            return CallToolResult.model_validate(result)
        except Exception:
            return None
    return None
