"""Messages the server cannot serve: answered with a JSON-RPC error at once, and recorded in the ledger.

The MCP SDK drops what it cannot validate without answering: a line that is not JSON (a lone surrogate in a
string, nesting deeper than its parser allows, broken JSON), and JSON that is not one JSON-RPC 2.0 message (a
batch array, a bare string, `"jsonrpc": "1.0"`, `params` that is not an object). It also takes a request whose
id is neither a string nor an integer (an object, null) for a notification, and runs nothing; and it answers an
unknown method with the method's name in the error's `data` (client input, which can be anything). The client
would wait forever, and the ledger would never know.

`unservable` reads one message as the transport received it and says what is wrong with it; the stdio guard
(`GuardedLines`) and the HTTP wrapper (`malformed_http.py`) call it before the SDK sees the message. Such a
message gets a JSON-RPC error naming the problem in Maskwire's words (never echoing the message), with the
request's id when it is a string or an integer and null otherwise, and a ledger row with placeholders for what
cannot be stored (no arguments; the tool name, cut and tokenised; a method that is no MCP method, tokenised). A
batch is refused whole, with one error (id null): MCP dropped JSON-RPC batching in protocol 2025-06-18, and its
elements are not run one by one, so a batch never half runs. A notification (no id) of a method that is no MCP
notification is recorded but not answered (JSON-RPC forbids answering a notification), and goes on to the SDK,
which ignores it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import anyio
import anyio.to_thread
import pydantic_core
from mcp.shared._context_streams import ContextReceiveStream, ContextSendStream, create_context_streams
from mcp.shared.message import SessionMessage
from mcp_types import (
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    ErrorData,
    JSONRPCError,
    JSONRPCRequest,
    jsonrpc_message_adapter,
)
from mcp_types.methods import SPEC_CLIENT_METHODS, SPEC_CLIENT_NOTIFICATION_METHODS
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
MCP_REQUESTS = frozenset(SPEC_CLIENT_METHODS)
"""The requests a client may send in MCP (`tools/call`, `initialize`, ...), as the SDK lists them."""
MCP_NOTIFICATIONS = frozenset(SPEC_CLIENT_NOTIFICATION_METHODS)
"""The notifications a client may send in MCP (`notifications/cancelled`, ...)."""
MCP_METHODS = MCP_REQUESTS | MCP_NOTIFICATIONS
"""The MCP methods named as sent, in the ledger and in spans; any other text a client put in `method` is client
input (it could be anything) and is not."""

NOT_JSON_RPC = "the request is not a JSON-RPC 2.0 message (one request, notification or response object)"
BATCH = (
    "batches are not supported: send each JSON-RPC message on its own (MCP removed batching in protocol "
    "2025-06-18); nothing in the batch was run"
)
WRONG_VERSION = 'the request is not JSON-RPC 2.0: "jsonrpc" must be "2.0"'
BAD_ID = 'the request id must be a string or an integer (MCP requests have one; a notification has no "id")'
BAD_METHOD = 'the request\'s "method" must be a string'
NO_METHOD = 'the request has no "method"'
BAD_PARAMS = 'the request\'s "params" must be a JSON object'
UNKNOWN_METHOD = "Method not found"
"""The answer to a request of a method MCP does not have: no `data`, the method never echoed."""
UNKNOWN_NOTIFICATION = "a notification of a method that is no MCP notification: nothing was run (not answered)"
_JSON_KINDS = {str: "a JSON string", int: "a JSON number", float: "a JSON number", bool: "a JSON boolean"}
_NAME = re.compile(r'"name"\s*:\s*"((?:[^"\\]|\\.){0,1000})')


@dataclass(frozen=True)
class Salvaged:
    """What could be read of a malformed request."""

    request_id: int | str | None
    method: str | None
    tool_name: str | None
    problem: str
    code: int
    reply: bool = True
    """False for a notification: recorded, never answered, and passed on to the SDK."""


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


def unservable(message: str | bytes) -> tuple[str, Salvaged] | None:
    """(the message as text, what is wrong with it) when the server cannot serve it as MCP; None when it can.

    One message as the transport received it: a line of stdio, the body of an HTTP POST. Only Maskwire's own
    words describe the problem: the parser's message gives a position, and a validation message (which quotes
    the input) is never used."""
    raw = message if isinstance(message, str) else message.decode("utf-8", "replace")
    raw = raw.rstrip("\r\n")
    try:
        parsed = pydantic_core.from_json(message)
    except (ValueError, TypeError) as exc:
        return raw, salvage(raw, f"Invalid JSON: {exc}")
    if isinstance(parsed, list):
        return raw, replace(salvage(raw, ""), request_id=None, problem=BATCH, code=INVALID_REQUEST)
    if not isinstance(parsed, dict):
        kind = _JSON_KINDS.get(type(parsed), "JSON null")
        return raw, Salvaged(None, None, None, f"{NOT_JSON_RPC}; it is {kind}", INVALID_REQUEST)
    problem = _envelope_problem(parsed)
    if problem is None:
        try:
            jsonrpc_message_adapter.validate_python(parsed, by_name=False)
        except ValidationError:  # its message quotes the input: not used
            problem = NOT_JSON_RPC
    if problem is not None:
        return raw, replace(salvage(raw, ""), problem=problem, code=INVALID_REQUEST)  # an unusable id is None
    method = parsed.get("method")
    if not isinstance(method, str):
        return None  # a response to a request of the server's
    if "id" in parsed and method not in MCP_REQUESTS:
        return raw, replace(salvage(raw, ""), problem=UNKNOWN_METHOD, code=METHOD_NOT_FOUND)
    if "id" not in parsed and method not in MCP_NOTIFICATIONS:
        return raw, replace(salvage(raw, ""), problem=UNKNOWN_NOTIFICATION, code=METHOD_NOT_FOUND, reply=False)
    return None


def _envelope_problem(message: dict[str, Any]) -> str | None:
    """What the JSON-RPC 2.0 envelope of an object gets wrong, in the order a reader would check it."""
    if message.get("jsonrpc") != "2.0":
        return WRONG_VERSION
    if "method" not in message:
        return None if "result" in message or "error" in message else NO_METHOD
    if not isinstance(message["method"], str):
        return BAD_METHOD
    if "id" in message and not _usable_id(message["id"]):
        return BAD_ID
    if message.get("params") is not None and not isinstance(message["params"], dict):
        return BAD_PARAMS
    return None


def _usable_id(value: Any) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool)


def storable(text: str) -> str:
    """Text that can be stored and tokenised: lone surrogates replaced, cut to `MAX_NAME` characters."""
    return _SURROGATE.sub("\ufffd", text[:MAX_NAME])


class MalformedRequests:
    """Answers and records what the server cannot serve (see the module docstring)."""

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

    async def pump() -> None:  # after `GuardedLines`, only what the SDK still refuses comes here as an exception
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


class GuardedLines:
    """The lines of stdin, as the SDK's stdio transport reads them, checked first (`unservable`): a line the
    server cannot serve is answered (on the stream `attach` gives) and recorded here, and never reaches the SDK;
    a notification it cannot serve is recorded and passed on (the SDK ignores it)."""

    def __init__(self, lines: AsyncIterable[str], guard: MalformedRequests) -> None:
        self.lines = lines
        self.guard = guard
        self.write_stream: Any = None
        self.attached = anyio.Event()

    def attach(self, write_stream: Any) -> None:
        """The stream answers are written to (the transport's, known once it has started reading)."""
        self.write_stream = write_stream
        self.attached.set()

    async def __aiter__(self) -> AsyncIterator[str]:
        async for line in self.lines:
            try:
                found = unservable(line)
            except Exception as exc:  # never let the guard stop the session: the SDK reads the line
                log.error("could not check a message (%s)", type(exc).__name__)
                found = None
            if found is None:
                yield line
                continue
            raw, salvaged = found
            if salvaged.reply:
                await self.attached.wait()
                await self.write_stream.send(SessionMessage(error_for(salvaged)))
            try:
                await anyio.to_thread.run_sync(self.guard.record_found, raw, salvaged)
            except Exception as exc:
                log.error("could not record a malformed request (%s)", type(exc).__name__)
            if not salvaged.reply:
                yield line
