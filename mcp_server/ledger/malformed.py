"""Requests the server cannot parse: answered with a JSON-RPC error at once, and recorded in the ledger.

The MCP SDK drops a line it cannot validate (a lone surrogate in a string, nesting deeper than its parser
allows, broken JSON) without answering it, so the client would wait forever and the ledger would never
know. `guard_stream` sits between the transport and the server: such a line gets a JSON-RPC error naming
the problem (never echoing the request) with the request's id when one can be found, and a ledger row
with placeholders for what cannot be stored (the tool name, cut and tokenised; no arguments).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from mcp.shared._context_streams import ContextReceiveStream, ContextSendStream, create_context_streams
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError, JSONRPCRequest
from pydantic import ValidationError

from mcp_server.ledger.client_info import ClientLabels
from mcp_server.ledger.entry import LedgerEntry
from mcp_server.ledger.errors import LedgerError
from mcp_server.ledger.store import Ledger
from mcp_server.tokens import TokenCounter

log = logging.getLogger(__name__)

MALFORMED = "MalformedRequest"
UNPARSED_TOOL = "(unparsed request)"
"""The ledger's tool for a request whose tool name could not be read."""
MAX_NAME = 200
"""Longer tool names are cut before they are tokenised for the ledger."""
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_ID = re.compile(r'"id"\s*:\s*(-?\d{1,18}(?![\d.eE])|"(?:[^"\\]|\\.){0,200}")')
_METHOD = re.compile(r'"method"\s*:\s*"((?:[^"\\]|\\.){0,100})"')
MCP_METHODS = frozenset(
    {
        "initialize",
        "ping",
        "server/discover",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/read",
        "resources/templates/list",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
        "subscriptions/listen",
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/roots/list_changed",
    }
)
"""The MCP methods named as sent, in the ledger and in spans; any other text a client put in `method` is client
input (it could be anything) and is not."""
_NAME = re.compile(r'"name"\s*:\s*"((?:[^"\\]|\\.){0,1000})')


@dataclass(frozen=True)
class Salvaged:
    """What could be read of a malformed request."""

    request_id: int | str | None
    method: str | None
    tool_name: str | None
    problem: str
    code: int


def salvage(raw: str, parser_message: str) -> Salvaged:
    """Read what we can of `raw`: Python's parser accepts lone surrogates, and a pattern finds the id of a
    request too deep for any parser."""
    data: Any = None
    problem = None
    try:
        data = json.loads(raw)
    except RecursionError:
        problem = "the request is nested deeper than the server accepts"
    except ValueError:
        pass
    if isinstance(data, dict):
        request_id = data.get("id")
        if isinstance(request_id, bool) or not isinstance(request_id, int | str):
            request_id = None
        method = data.get("method") if isinstance(data.get("method"), str) else None
        params = given if isinstance(given := data.get("params"), dict) else {}
        name = params.get("name") if isinstance(params.get("name"), str) else None
    else:
        head = raw[:20_000]
        found_id = _ID.search(head)
        request_id = _request_id(found_id.group(1)) if found_id else None
        found_method = _METHOD.search(head)
        method = _unescape(found_method.group(1)) if found_method else None
        found_name = _NAME.search(head)
        name = _unescape(found_name.group(1)) if found_name else None
    if problem is None and (_ESCAPED_SURROGATE.search(raw) or _SURROGATE.search(raw)):
        problem = "the request contains a lone surrogate (\\ud800-\\udfff) in a string, which is not valid Unicode"
    if problem is None and "recursion limit" in parser_message:
        problem = "the request is nested deeper than the server accepts"
    if problem is not None:
        return Salvaged(request_id, method, name, problem, INVALID_REQUEST)
    return Salvaged(request_id, method, name, _safe_parser_message(parser_message), PARSE_ERROR)


def _request_id(text: str) -> int | str | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def _unescape(text: str) -> str:
    try:
        return str(json.loads(f'"{text}"'))
    except ValueError:
        return text


def _safe_parser_message(message: str) -> str:
    """The parser's own words (a position, never the input), or a generic line."""
    match = re.match(r"Invalid JSON: ([\x20-\x7e]{1,120}? at line \d+ column \d+)$", message)
    return (
        f"the request is not valid JSON ({match.group(1)})" if match else "the request is not a valid JSON-RPC message"
    )


def storable(text: str) -> str:
    """Text that can be stored and tokenised: lone surrogates replaced, cut to `MAX_NAME` characters."""
    return _SURROGATE.sub("\ufffd", text[:MAX_NAME])


class MalformedRequests:
    """Answers and records what the SDK could not parse."""

    def __init__(
        self,
        ledger: Ledger,
        counter: TokenCounter,
        mask_literal: Callable[[str], str],
        agent: Callable[[], str],
        tools: frozenset[str],
        client_labels: ClientLabels | None = None,
    ) -> None:
        """`agent` gives the agent named by the operator (`serve --agent`), if any; else the client's name from
        its handshake is the agent, stored as `client_labels` stores it (`client_info.py`)."""
        self.client_labels = client_labels or ClientLabels(frozenset, mask_literal)
        self.ledger = ledger
        self.counter = counter
        self.mask_literal = mask_literal
        self.agent = agent
        self.tools = tools
        self.client: tuple[str, str] = ("", "")

    def seen(self, message: SessionMessage) -> None:
        """Remember the client's name from its handshake (the agent over stdio when no --agent is given)."""
        request = message.message
        if isinstance(request, JSONRPCRequest) and request.method == "initialize":
            info = (request.params or {}).get("clientInfo") or {}
            if isinstance(info, dict):
                self.client = (str(info.get("name") or "")[:200], str(info.get("version") or "")[:100])

    def answer(self, exc: Exception) -> JSONRPCError | None:
        """The JSON-RPC error for a line the transport could not parse (None for other transport errors)."""
        parsed = _raw_input(exc)
        return None if parsed is None else error_for(salvage(*parsed))

    def record(self, exc: Exception) -> None:
        parsed = _raw_input(exc)
        if parsed is not None:
            self.record_found(parsed[0], salvage(*parsed))

    def record_found(self, raw: str, found: Salvaged, agent: str | None = None) -> None:
        """A ledger row for a request that could not be parsed; `agent` when the transport authenticated one."""
        if found.method not in (None, "tools/call"):
            tool = UNPARSED_TOOL
        elif found.tool_name in self.tools:
            tool = str(found.tool_name)
        elif found.tool_name is not None:
            tool = self.mask_literal(storable(found.tool_name))
        else:
            tool = UNPARSED_TOOL
        client_name, client_version = self.client_labels.client(*self.client)
        entry = LedgerEntry(
            agent=agent or self.agent() or client_name or "unknown",
            client_name=client_name,
            client_version=client_version,
            tool=tool,
            arguments={"_not_stored": "the request could not be parsed"},
            status="error",
            error_class=MALFORMED,
            error_message=found.problem + (f" (method {self._method(found.method)})" if found.method else ""),
            tokens_in=self.counter.count(_SURROGATE.sub("\ufffd", raw), remember=False),
        )
        try:
            self.ledger.append(entry)
        except LedgerError:
            try:
                self.ledger.refused(entry)
            except LedgerError as spool_error:
                log.error("a malformed request could not be recorded (%s)", spool_error)

    def _method(self, method: str) -> str:
        """A method name as the ledger keeps it: as sent when it has the shape of one (`tools/call`), else its
        keyed token (it is client input, and could be anything)."""
        return method if method in MCP_METHODS else self.mask_literal(storable(method))


def error_for(found: Salvaged) -> JSONRPCError:
    """The JSON-RPC error answering a malformed request: the problem in Maskwire's words, never the request."""
    return JSONRPCError(jsonrpc="2.0", id=found.request_id, error=ErrorData(code=found.code, message=found.problem))


def _raw_input(exc: Exception) -> tuple[str, str] | None:
    """(the line, the parser's message) of a line the transport could not parse. The exception's own text is
    never used: it quotes the input."""
    if not isinstance(exc, ValidationError):
        return None
    for error in exc.errors():
        value = error.get("input")
        if error.get("type") == "json_invalid" and isinstance(value, str | bytes):
            raw = value if isinstance(value, str) else value.decode("utf-8", "replace")
            return raw, str(error.get("msg", ""))
    return None


async def guard_stream(
    read_stream: Any,
    write_stream: Any,
    guard: MalformedRequests,
    task_group: anyio.abc.TaskGroup,
) -> ContextReceiveStream[SessionMessage | Exception]:
    """A read stream for the server: messages pass through, unparseable lines are answered and recorded."""
    sender: ContextSendStream[SessionMessage | Exception]
    sender, receiver = create_context_streams[SessionMessage | Exception](0)

    async def pump() -> None:
        async with sender:
            async for item in read_stream:
                if isinstance(item, SessionMessage):
                    guard.seen(item)
                    await sender.send(item)
                    continue
                try:
                    error = guard.answer(item)
                except Exception as exc:  # never let the guard stop the session: the SDK handles the item
                    log.error("could not answer a malformed request (%s)", type(exc).__name__)
                    error = None
                if error is None:
                    await sender.send(item)
                    continue
                await write_stream.send(SessionMessage(error))
                try:
                    await anyio.to_thread.run_sync(guard.record, item)
                except Exception as exc:
                    log.error("could not record a malformed request (%s)", type(exc).__name__)

    task_group.start_soon(pump)
    return receiver
